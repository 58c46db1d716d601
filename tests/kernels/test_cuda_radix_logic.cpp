// The radix-select pass logic of the CUDA top-k (kernels/cuda/radix_digits.hpp: digits, masks,
// bucket choice, early stop, tie rule), emulated on the host pass by pass exactly as the device
// kernels sequence it, against the CPU reference kernels::topk_magnitude. Runs everywhere (no GPU
// needed): it checks the algorithm; test_cuda_kernels.cpp checks the device code itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cuda/radix_digits.hpp"
#include "kernels/cuda/randk_feistel.hpp"
#include "kernels/primitives.hpp"
#include "test_cuda_inputs.hpp"

namespace {

namespace radix = arcsim::cuda::radix;
using arcsim::testing::Dist;

// Host emulation of topk.cu: passes 0-2 (filter + histogram + choose), the tie cutoff, and the
// ordered output by the final rule. `passes_run` reports how many passes did work.
std::vector<std::uint32_t> emulate(const std::vector<float>& x, std::size_t k, int* passes_run = nullptr) {
  const std::size_t n = x.size();
  std::vector<std::uint32_t> out;
  if (n == 0 || k == 0) return out;
  radix::SelectState s;
  radix::state_init(s, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(k));
  int ran = 0;
  for (int pass = 0; pass < radix::kPasses && !s.done; ++pass, ++ran) {
    std::vector<std::uint32_t> hist(radix::kBins, 0);
    const std::uint32_t mask = radix::fixed_mask(pass);
    for (float v : x) {
      const std::uint32_t key = arcsim::kernels::magnitude_key(v);
      if ((key & mask) == s.prefix) ++hist[radix::digit_of(key, pass)];
    }
    std::uint32_t digit = 0, above = 0;
    radix::choose_bucket_serial(hist.data(), s.k_remaining, digit, above);
    radix::apply_bucket(s, pass, digit, above, hist[digit]);
  }
  if (passes_run) *passes_run = ran;
  EXPECT_TRUE(s.done);
  if (s.ties_needed < s.ties_total) {  // tie_count_kernel + tie_find_kernel
    std::uint32_t seen = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (arcsim::kernels::magnitude_key(x[i]) == s.threshold && ++seen == s.ties_needed) {
        s.cutoff = static_cast<std::uint32_t>(i);
        break;
      }
  }
  for (std::size_t i = 0; i < n; ++i)  // cub::DeviceSelect::If: order-preserving
    if (radix::selected_by(s, arcsim::kernels::magnitude_key(x[i]), static_cast<std::uint32_t>(i)))
      out.push_back(static_cast<std::uint32_t>(i));
  return out;
}

TEST(CudaRadixLogic, DigitsCoverTheKeyOnce) {
  // The three digits partition the 32 bits; masks are the bits of earlier passes.
  EXPECT_EQ(radix::pass_shift(0), 21);
  EXPECT_EQ(radix::pass_shift(1) + radix::pass_bits(1), radix::pass_shift(0));
  EXPECT_EQ(radix::pass_shift(2) + radix::pass_bits(2), radix::pass_shift(1));
  EXPECT_EQ(radix::fixed_mask(0), 0u);
  EXPECT_EQ(radix::fixed_mask(1), 0xffe00000u);
  EXPECT_EQ(radix::fixed_mask(2), 0xfffffc00u);
  const std::uint32_t key = 0x5a5a5a5au;
  const std::uint32_t rebuilt = (radix::digit_of(key, 0) << 21) | (radix::digit_of(key, 1) << 10) | radix::digit_of(key, 2);
  EXPECT_EQ(rebuilt, key);
}

TEST(CudaRadixLogic, ChooseBucketCountsFromTheTop) {
  std::vector<std::uint32_t> h(radix::kBins, 0);
  h[7] = 3;
  h[5] = 4;
  h[2] = 10;
  std::uint32_t d = 0, above = 0;
  radix::choose_bucket_serial(h.data(), 1, d, above);
  EXPECT_EQ(d, 7u);
  EXPECT_EQ(above, 0u);
  radix::choose_bucket_serial(h.data(), 3, d, above);
  EXPECT_EQ(d, 7u);
  radix::choose_bucket_serial(h.data(), 4, d, above);
  EXPECT_EQ(d, 5u);
  EXPECT_EQ(above, 3u);
  radix::choose_bucket_serial(h.data(), 17, d, above);
  EXPECT_EQ(d, 2u);
  EXPECT_EQ(above, 7u);
}

TEST(CudaRadixLogic, MatchesTheReferenceOnPropertyInputs) {
  std::uint64_t seed = 11;
  for (std::size_t n : arcsim::testing::property_sizes()) {
    for (Dist d : arcsim::testing::all_dists()) {
      const auto x = arcsim::testing::make_input(n, d, ++seed);
      for (std::size_t k : arcsim::testing::ks_for(n, seed)) {
        std::vector<std::uint32_t> ref(k);
        arcsim::kernels::topk_magnitude(x.data(), n, k, ref.data());
        EXPECT_EQ(emulate(x, k), ref) << "n=" << n << " k=" << k << " " << arcsim::testing::dist_name(d);
      }
    }
  }
}

TEST(CudaRadixLogic, EarlyStopAndPartialTies) {
  // Distinct top digits: the first pass isolates the k-th bucket with every candidate taken.
  std::vector<float> x = {1.0f, 4.0f, 16.0f, 64.0f, 256.0f};
  int passes = 0;
  EXPECT_EQ(emulate(x, 2, &passes), (std::vector<std::uint32_t>{3, 4}));
  EXPECT_EQ(passes, 1);
  // All equal: three passes, then the lowest indices among the ties.
  std::vector<float> eq(100, -2.0f);
  EXPECT_EQ(emulate(eq, 3, &passes), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(passes, 3);
  // +0 and -0 share key 0; NaN ranks above every number (kernels/primitives.hpp NaN policy).
  std::vector<float> z = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f};
  EXPECT_EQ(emulate(z, 2), (std::vector<std::uint32_t>{0, 2}));
}

TEST(CudaRandKLogic, DeviceFeistelIsTheReferenceBijection) {
  // The exact function the Rand-K kernels evaluate per index (kernels/cuda/randk_feistel.hpp).
  std::uint64_t seed = 21;
  for (std::size_t n : arcsim::testing::property_sizes()) {
    if (n == 0) continue;
    const auto f = arcsim::cuda::make_feistel(n, ++seed, 4, 9);
    std::uint32_t keys[arcsim::kernels::kFeistelRounds];
    arcsim::kernels::randk_keys(seed, 4, 9, keys);
    const std::size_t k = std::min<std::size_t>(n, 4096);
    std::vector<std::uint32_t> ref(k);
    arcsim::kernels::randk_indices(n, k, seed, 4, 9, ref.data());
    std::vector<std::uint32_t> dev(k), host(k);
    for (std::size_t i = 0; i < k; ++i) {
      dev[i] = arcsim::cuda::feistel_permute(static_cast<std::uint32_t>(i), f);
      host[i] = arcsim::kernels::randk_permute(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(n), keys);
      ASSERT_EQ(dev[i], host[i]) << "n=" << n << " i=" << i;
    }
    std::sort(dev.begin(), dev.end());  // randk_indices gives the set pi(0..k-1) ascending
    ASSERT_EQ(dev, ref) << "n=" << n;
  }
}

}  // namespace
