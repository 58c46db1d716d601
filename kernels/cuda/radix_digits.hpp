#pragma once
// The digit arithmetic and bucket choice of the radix select, shared by the device kernels
// (topk.cu) and a host emulation test (tests/kernels/test_cuda_radix_logic.cpp) that runs in CI
// without a GPU and checks the pass logic against kernels::topk_magnitude. Compiles with g++ and
// nvcc alike.
//
// Keys are magnitude keys (sign bit cleared, kernels/primitives.hpp), selected from the top:
// three MSD passes of 11, 11 and 10 bits (bits 31..21, 20..10, 9..0), as AIR Top-K.
#include <cstdint>

#include "kernels/philox.hpp"  // ARCSIM_HD

namespace arcsim::cuda::radix {

inline constexpr int kPasses = 3;
inline constexpr int kBins = 2048;  // 2^11; the last pass uses the low 1024
inline constexpr std::uint32_t kAll = 0xffffffffu;

ARCSIM_HD int pass_shift(int pass) { return pass == 0 ? 21 : (pass == 1 ? 10 : 0); }
ARCSIM_HD int pass_bits(int pass) { return pass == 2 ? 10 : 11; }
ARCSIM_HD std::uint32_t digit_of(std::uint32_t key, int pass) {
  return (key >> pass_shift(pass)) & ((1u << pass_bits(pass)) - 1u);
}
// Bits already fixed before `pass`: a key is still a candidate iff (key & mask) == prefix.
ARCSIM_HD std::uint32_t fixed_mask(int pass) {
  return pass == 0 ? 0u : ~((1u << (pass_shift(pass) + pass_bits(pass))) - 1u);
}

// State of one selection, kept in device memory between passes (never copied to the host).
struct SelectState {
  std::uint32_t prefix;       // fixed high bits of the k-th key so far
  std::uint32_t k_remaining;  // how many of the current candidates are still to take
  std::uint32_t above;        // elements known to be selected (key above every candidate)
  std::uint32_t candidates;   // elements whose key matches prefix on the fixed bits
  std::uint32_t done;         // 1 once the selection rule is final (threshold, cutoff)
  std::uint32_t buffered;     // 1 if pass 1 wrote the candidates to the buffer
  std::uint32_t buffer_count; // candidates written to the buffer (atomic)
  std::uint32_t threshold;    // final rule: key > threshold, or key == threshold and index <= cutoff
  std::uint32_t cutoff;       // kAll: every key == threshold is taken
  std::uint32_t ties_total;   // keys == threshold
  std::uint32_t ties_needed;  // of those, how many are taken (the lowest indices)
  std::uint32_t selected;     // written by the output pass (== k)
};

ARCSIM_HD void state_init(SelectState& s, std::uint32_t n, std::uint32_t k) {
  s = SelectState{0u, k, 0u, n, 0u, 0u, 0u, 0u, kAll, 0u, 0u, 0u};
}

// The bucket of this pass: walking digits from the top, the d with
// above_d < k_remaining <= above_d + hist[d], where above_d = sum of hist over digits > d.
// Requires 1 <= k_remaining <= sum(hist). Serial reference of the block-parallel device version.
ARCSIM_HD void choose_bucket_serial(const std::uint32_t* hist, std::uint32_t k_remaining, std::uint32_t& digit,
                                    std::uint32_t& above_digit) {
  std::uint32_t cum = 0;
  for (int d = kBins - 1; d >= 0; --d) {
    if (cum + hist[d] >= k_remaining) {
      digit = static_cast<std::uint32_t>(d);
      above_digit = cum;
      return;
    }
    cum += hist[d];
  }
  digit = 0;
  above_digit = cum;
}

// Applies the chosen bucket of `pass` to the state. Ends the selection when every candidate left
// is taken (threshold = the bucket's lowest key, all ties in) or after the last pass (threshold =
// the k-th key; the cutoff index among ties is found later when only some ties are taken).
ARCSIM_HD void apply_bucket(SelectState& s, int pass, std::uint32_t digit, std::uint32_t above_digit,
                            std::uint32_t count_digit) {
  s.prefix |= digit << pass_shift(pass);
  s.above += above_digit;
  s.k_remaining -= above_digit;
  s.candidates = count_digit;
  if (s.candidates == s.k_remaining || pass == kPasses - 1) {
    s.done = 1u;
    s.threshold = s.prefix;
    s.ties_total = s.candidates;
    s.ties_needed = s.k_remaining;
    s.cutoff = kAll;  // refined by the tie pass when ties_needed < ties_total
    // Early stop: every candidate is taken, and the rule "key >= prefix" needs no tie cutoff.
    if (pass != kPasses - 1) s.ties_total = s.ties_needed;
  }
}

// The selection rule once final. After an early stop at a pass with bucket prefix P, the selected
// keys are exactly those >= P (the bucket's keys match P on the fixed bits and the rest are above
// it), which is this rule with threshold = P and every tie taken.
ARCSIM_HD bool selected_by(const SelectState& s, std::uint32_t key, std::uint32_t index) {
  return key > s.threshold || (key == s.threshold && index <= s.cutoff);
}

}  // namespace arcsim::cuda::radix
