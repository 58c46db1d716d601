// Radix-select top-k by magnitude (kernels/cpu/fast.hpp). The key is the sign-cleared bit pattern
// (kernels/primitives.hpp), 31 bits, split into digits of 11 (bits 30..20), 10 (19..10) and 10
// (9..0). Only the first digit looks at all of x; the two others look at the candidates that share
// the threshold's first digit. Per-thread chunks are contiguous index ranges, processed in chunk
// order, so every list stays ascending and the result never depends on the thread count.
#include <omp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/fast.hpp"

namespace arcsim::kernels::cpu {

namespace {

constexpr int kBits1 = 11, kShift1 = 20;
constexpr std::size_t kBins1 = std::size_t{1} << kBits1;
constexpr std::size_t kParallelMin = std::size_t{1} << 16;  // below: one chunk (threads cost more)

inline std::uint32_t key_of(const float* x, std::size_t i) {
  std::uint32_t b;
  std::memcpy(&b, x + i, 4);
  return b & 0x7fffffffu;
}

// Histogram of the first digit of x[lo, hi) into h (kBins1 entries). Four interleaved
// sub-histograms break the store-to-load dependency when neighbours share a bin.
void histogram1(const float* x, std::size_t lo, std::size_t hi, std::uint32_t* h) {
  std::vector<std::uint32_t> sub(4 * kBins1, 0);
  std::size_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    ++sub[0 * kBins1 + (key_of(x, i) >> kShift1)];
    ++sub[1 * kBins1 + (key_of(x, i + 1) >> kShift1)];
    ++sub[2 * kBins1 + (key_of(x, i + 2) >> kShift1)];
    ++sub[3 * kBins1 + (key_of(x, i + 3) >> kShift1)];
  }
  for (; i < hi; ++i) ++sub[key_of(x, i) >> kShift1];
  for (std::size_t b = 0; b < kBins1; ++b)
    h[b] = sub[b] + sub[kBins1 + b] + sub[2 * kBins1 + b] + sub[3 * kBins1 + b];
}

// The bin (scanning from the top) where the running count reaches `need`; `above` = count in
// higher bins.
std::size_t pick_bin(const std::uint32_t* hist, std::size_t bins, std::size_t need, std::size_t& above) {
  std::size_t cum = 0;
  for (std::size_t b = bins; b-- > 0;) {
    if (cum + hist[b] >= need) {
      above = cum;
      return b;
    }
    cum += hist[b];
  }
  throw std::logic_error("topk radix: histogram holds fewer than k elements");
}

}  // namespace

void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* out) {
  if (k > n) throw std::invalid_argument("topk_magnitude: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (k == 0) return;
  if (k == n) {
    std::iota(out, out + n, 0u);
    return;
  }
  const int T = n >= kParallelMin ? std::max(1, omp_get_max_threads()) : 1;
  const auto lo = [&](int c) { return n * static_cast<std::size_t>(c) / static_cast<std::size_t>(T); };

  // Pass 1: first-digit histograms per chunk.
  std::vector<std::uint32_t> hist(static_cast<std::size_t>(T) * kBins1);
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) histogram1(x, lo(c), lo(c + 1), hist.data() + static_cast<std::size_t>(c) * kBins1);
  std::vector<std::uint32_t> total(kBins1, 0);
  for (int c = 0; c < T; ++c)
    for (std::size_t b = 0; b < kBins1; ++b) total[b] += hist[static_cast<std::size_t>(c) * kBins1 + b];
  std::size_t above1 = 0;
  const std::size_t b1 = pick_bin(total.data(), kBins1, k, above1);

  // Exact region sizes per chunk from the histograms (+1 slot each: the branch-free writes below
  // store before they decide whether to keep).
  std::vector<std::size_t> sel_off(static_cast<std::size_t>(T) + 1, 0), cand_off(static_cast<std::size_t>(T) + 1, 0);
  std::vector<std::size_t> sel_n(static_cast<std::size_t>(T), 0);
  for (int c = 0; c < T; ++c) {
    const std::uint32_t* h = hist.data() + static_cast<std::size_t>(c) * kBins1;
    std::size_t a = 0;
    for (std::size_t b = b1 + 1; b < kBins1; ++b) a += h[b];
    sel_n[static_cast<std::size_t>(c)] = a;
    sel_off[static_cast<std::size_t>(c) + 1] = sel_off[static_cast<std::size_t>(c)] + a + 1;
    cand_off[static_cast<std::size_t>(c) + 1] = cand_off[static_cast<std::size_t>(c)] + h[b1] + 1;
  }
  std::unique_ptr<std::uint32_t[]> sel(new std::uint32_t[sel_off[static_cast<std::size_t>(T)]]);
  std::unique_ptr<std::uint32_t[]> cand(new std::uint32_t[cand_off[static_cast<std::size_t>(T)]]);
  std::unique_ptr<std::uint32_t[]> ckey(new std::uint32_t[cand_off[static_cast<std::size_t>(T)]]);

  // Pass 2: indices above the threshold digit, and the candidates on it, in index order.
  const auto d1 = static_cast<std::uint32_t>(b1);
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) {
    std::uint32_t* s = sel.get() + sel_off[static_cast<std::size_t>(c)];
    std::uint32_t* ci = cand.get() + cand_off[static_cast<std::size_t>(c)];
    std::uint32_t* ck = ckey.get() + cand_off[static_cast<std::size_t>(c)];
    std::size_t ns = 0, nc = 0;
    for (std::size_t i = lo(c), e = lo(c + 1); i < e; ++i) {
      const std::uint32_t key = key_of(x, i), d = key >> kShift1;
      s[ns] = static_cast<std::uint32_t>(i);
      ns += d > d1;
      ci[nc] = static_cast<std::uint32_t>(i);
      ck[nc] = key;
      nc += d == d1;
    }
  }

  // Digits 2 and 3 on the candidates (all chunks' candidates together; their count is small
  // except on low-entropy inputs, where it is still one pass over the candidates per digit).
  std::size_t need = k - above1;
  std::uint32_t prefix = d1 << kShift1;
  std::uint32_t mask = 0xffffffffu << kShift1;
  for (int shift : {10, 0}) {
    std::array<std::size_t, 1024> h{};
    for (int c = 0; c < T; ++c) {
      const std::uint32_t* ck = ckey.get() + cand_off[static_cast<std::size_t>(c)];
      const std::size_t nc = cand_off[static_cast<std::size_t>(c) + 1] - cand_off[static_cast<std::size_t>(c)] - 1;
      for (std::size_t i = 0; i < nc; ++i)
        if ((ck[i] & mask) == prefix) ++h[(ck[i] >> shift) & 1023u];
    }
    std::size_t cum = 0, b = 1024;
    while (b-- > 0) {
      if (cum + h[b] >= need) break;
      cum += h[b];
    }
    need -= cum;
    prefix |= static_cast<std::uint32_t>(b) << shift;
    mask |= 1023u << shift;
  }
  const std::uint32_t threshold = prefix;  // the k-th largest key; `need` of its ties are taken

  // Per chunk: how many candidates are above the threshold and how many of its ties it takes
  // (the lowest indices first, so the earliest chunks).
  std::vector<std::size_t> gt(static_cast<std::size_t>(T), 0), ties(static_cast<std::size_t>(T), 0),
      out_off(static_cast<std::size_t>(T) + 1, 0);
  std::size_t ties_left = need;
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    const std::uint32_t* ck = ckey.get() + cand_off[cc];
    const std::size_t nc = cand_off[cc + 1] - cand_off[cc] - 1;
    std::size_t g = 0, eq = 0;
    for (std::size_t i = 0; i < nc; ++i) {
      g += ck[i] > threshold;
      eq += ck[i] == threshold;
    }
    gt[cc] = g;
    ties[cc] = std::min(eq, ties_left);
    ties_left -= ties[cc];
    out_off[cc + 1] = out_off[cc] + sel_n[cc] + g + ties[cc];
  }
  if (out_off[static_cast<std::size_t>(T)] != k) throw std::logic_error("topk radix: selected count != k");

  // Merge per chunk: the above-digit list and the kept candidates, both ascending.
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    const std::uint32_t* a = sel.get() + sel_off[cc];
    const std::size_t na = sel_n[cc];
    const std::uint32_t* ci = cand.get() + cand_off[cc];
    const std::uint32_t* ck = ckey.get() + cand_off[cc];
    const std::size_t nc = cand_off[cc + 1] - cand_off[cc] - 1;
    std::uint32_t* o = out + out_off[cc];
    std::size_t ia = 0, tie_quota = ties[cc];
    for (std::size_t j = 0; j < nc; ++j) {
      const bool keep = ck[j] > threshold || (ck[j] == threshold && tie_quota > 0);
      if (!keep) continue;
      if (ck[j] == threshold) --tie_quota;
      while (ia < na && a[ia] < ci[j]) *o++ = a[ia++];
      *o++ = ci[j];
    }
    while (ia < na) *o++ = a[ia++];
  }
}

}  // namespace arcsim::kernels::cpu
