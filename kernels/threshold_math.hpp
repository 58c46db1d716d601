#pragma once
// Scalar pieces of the threshold estimators (DGC, GaussianK, RedSync, SIDCo) that the host and the
// device must compute with the same bits: the sample positions drawn from Philox, a natural log
// built only from correctly rounded operations (host libm and CUDA's logf differ in the last bits),
// and the fixed summation order of the moment sums (kernels/primitives.hpp, "Threshold
// estimators"). Compiles with g++ and nvcc (ARCSIM_HD from philox.hpp).
#include <cstdint>
#include <cstring>

#include "kernels/philox.hpp"

namespace arcsim::thr {

// Philox stream of DGC's sample (counter word 3 = kStreamSample + worker, worker < 65536); it
// never overlaps the sketch or Rand-K streams of philox.hpp.
inline constexpr std::uint32_t kStreamSample = 0xd9c50000u;
inline constexpr std::uint32_t kMaxSampleWorkers = 65536;

// Position of sample i of a tensor of n elements (n < 2^32): word i % 4 of
// Philox4x32-10(counter (i / 4, tensor, step, kStreamSample + worker), key seed), w, mapped to
// floor(w * n / 2^32) (uniform with replacement; bias below n / 2^32).
ARCSIM_HD std::uint32_t sample_position(std::uint64_t i, std::uint32_t n, std::uint64_t seed, std::uint32_t step,
                                        std::uint32_t tensor, std::uint32_t worker) {
  const rng::U32x4 r = rng::philox4x32(
      rng::U32x4{{static_cast<std::uint32_t>(i >> 2), tensor, step, kStreamSample + worker}}, seed);
  const std::uint32_t w = r.v[i & 3u];
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(w) * n) >> 32);
}

// Natural log of a finite float x > 0 (x <= 0 gives -inf's stand-in -1e30f, never used by the
// callers, which pass exceedances e > 0). x = 2^p * mant, mant in [sqrt(1/2), sqrt(2)), then
// log(mant) = 2 atanh(s), s = (mant - 1) / (mant + 1), by the odd series to s^13 as
// rng::log_unit24 (truncation < 1e-11; the result is within about 2 ulp of the true log).
ARCSIM_HD float log_portable(float x) {
  if (!(x > 0.0f)) return -1e30f;
  int extra = 0;
  if (x < 1.17549435e-38f) {  // denormal: scale by 2^24 (exact) so the exponent field is valid
    x = rng::detail::fmul(x, 16777216.0f);
    extra = -24;
  }
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int p = static_cast<int>((bits >> 23) & 0xffu) - 127 + extra;
  bits = (bits & 0x007fffffu) | 0x3f800000u;  // mantissa in [1, 2), exact
  float mant;
  std::memcpy(&mant, &bits, sizeof mant);
  if (mant > 1.41421356f) {
    mant = rng::detail::fmul(mant, 0.5f);
    ++p;
  }
  const float f = rng::detail::fadd(mant, -1.0f);  // exact (Sterbenz)
  const float s = rng::detail::fdiv(f, rng::detail::fadd(f, 2.0f));
  const float z = rng::detail::fmul(s, s);
  float poly = 2.0f / 13.0f;
  poly = rng::detail::ffma(poly, z, 2.0f / 11.0f);
  poly = rng::detail::ffma(poly, z, 2.0f / 9.0f);
  poly = rng::detail::ffma(poly, z, 2.0f / 7.0f);
  poly = rng::detail::ffma(poly, z, 2.0f / 5.0f);
  poly = rng::detail::ffma(poly, z, 2.0f / 3.0f);
  const float log_mant = rng::detail::ffma(rng::detail::fmul(s, z), poly, rng::detail::fmul(s, 2.0f));
  return rng::detail::ffma(static_cast<float>(p), 0.693147180559945309f, log_mant);
}

// The fixed summation order (chunked tree): terms in chunks of kSumChunk = kSumLanes * kSumPerLane
// consecutive positions; lane l of a chunk adds the terms at l, l + 256, ..., in that order from
// +0; the lanes are combined by a halving tree (s = 128, 64, ..., 1: lane[i] += lane[i + s]); the
// chunk sums are summed the same way, recursively, until one is left. Absent terms are +0.
inline constexpr unsigned kSumLanes = 256;
inline constexpr unsigned kSumPerLane = 16;
inline constexpr unsigned kSumChunk = kSumLanes * kSumPerLane;

}  // namespace arcsim::thr
