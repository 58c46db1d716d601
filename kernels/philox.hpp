#pragma once
// Counter-based random numbers that give the same bits on the host (g++) and the device (nvcc):
// Philox4x32-10 (Salmon et al., SC'11). A value is a pure function of (key, counter), so any
// element of a random matrix can be generated independently, in any order, on any backend, and
// every emulated or real worker that shares the seed draws the same V and the same Rand-K indices.
//
// Streams used by arcsim (counter word 3 separates them, so they never overlap):
//   kStreamSketch  ARC-Top-K / PowerSGD Gaussian V: counter = (element / 2, tensor, step, stream)
//   kStreamRandK   Rand-K index generation (Feistel keys)
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define ARCSIM_HD __host__ __device__ __forceinline__
#else
#define ARCSIM_HD inline
#endif

namespace arcsim::rng {

inline constexpr std::uint32_t kStreamSketch = 0x5ce7c400u;
inline constexpr std::uint32_t kStreamRandK = 0x7a4d0c00u;

struct U32x4 {
  std::uint32_t v[4];
};

ARCSIM_HD void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

// Philox4x32 with 10 rounds; key = 64 bits (seed), counter = 128 bits.
ARCSIM_HD U32x4 philox4x32(U32x4 ctr, std::uint64_t seed) {
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, ctr.v[0], hi0, lo0);
    mulhilo(0xCD9E8D57u, ctr.v[2], hi1, lo1);
    ctr = U32x4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return ctr;
}

// Uniform in (0, 1], 24 bits of mantissa; never 0 so log() is safe.
ARCSIM_HD float u32_to_unit(std::uint32_t x) {
  return (static_cast<float>(x >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

// ---- Bit-reproducible float math --------------------------------------------------------------
// host libm and CUDA's logf/cosf differ in the last bits, so the Gaussian transform below is built
// only from IEEE correctly rounded operations: +, -, *, /, sqrt and fma. Every product that feeds
// an addition is written as an explicit fma, so neither nvcc's default FMA contraction nor g++'s
// -ffp-contract=fast can change the rounding; on the device the _rn intrinsics make that explicit.
// (arcsim_kernels also compiles with -ffp-contract=off.)
namespace detail {
#if defined(__CUDA_ARCH__)
ARCSIM_HD float fmul(float a, float b) { return __fmul_rn(a, b); }
ARCSIM_HD float fadd(float a, float b) { return __fadd_rn(a, b); }
ARCSIM_HD float ffma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
ARCSIM_HD float fdiv(float a, float b) { return __fdiv_rn(a, b); }
ARCSIM_HD float fsqrt(float a) { return __fsqrt_rn(a); }
ARCSIM_HD int msb32(std::uint32_t x) { return 31 - __clz(static_cast<int>(x)); }
#else
ARCSIM_HD float fmul(float a, float b) { return a * b; }
ARCSIM_HD float fadd(float a, float b) { return a + b; }
ARCSIM_HD float ffma(float a, float b, float c) { return std::fma(a, b, c); }
ARCSIM_HD float fdiv(float a, float b) { return a / b; }
ARCSIM_HD float fsqrt(float a) { return std::sqrt(a); }
ARCSIM_HD int msb32(std::uint32_t x) { return 31 - __builtin_clz(x); }
#endif
}  // namespace detail

// Natural log of j / 2^24 for an integer j in [1, 2^24] (exactly the values u32_to_unit produces).
// j = 2^p * mant with mant in [sqrt(1/2), sqrt(2)); log(mant) = 2 atanh(s), s = (mant-1)/(mant+1),
// |s| <= 0.1716, by its odd series to s^13 (truncation < 1e-11, far below float rounding).
ARCSIM_HD float log_unit24(std::uint32_t j) {
  int p = detail::msb32(j);                                       // 0..24
  float mant = detail::fdiv(static_cast<float>(j), static_cast<float>(1u << p));  // exact, [1, 2)
  if (mant > 1.41421356f) {
    mant = detail::fmul(mant, 0.5f);                              // exact
    ++p;
  }
  const float f = detail::fadd(mant, -1.0f);                      // exact (Sterbenz)
  const float s = detail::fdiv(f, detail::fadd(f, 2.0f));
  const float z = detail::fmul(s, s);
  float poly = 2.0f / 13.0f;
  poly = detail::ffma(poly, z, 2.0f / 11.0f);
  poly = detail::ffma(poly, z, 2.0f / 9.0f);
  poly = detail::ffma(poly, z, 2.0f / 7.0f);
  poly = detail::ffma(poly, z, 2.0f / 5.0f);
  poly = detail::ffma(poly, z, 2.0f / 3.0f);
  const float log_mant = detail::ffma(detail::fmul(s, z), poly, detail::fmul(s, 2.0f));
  return detail::ffma(static_cast<float>(p - 24), 0.693147180559945309f, log_mant);
}

// cos and sin of 2*pi*j/2^24 for an integer j in [1, 2^24]. The quarter turn and the octant are
// taken in integer arithmetic (exact), leaving |x| <= pi/4 for two Taylor polynomials (to x^13 and
// x^14: truncation < 1e-11).
ARCSIM_HD void cos_sin_turn24(std::uint32_t j, float& c, float& s) {
  std::uint32_t quadrant = (j >> 22) & 3u;
  std::int32_t a = static_cast<std::int32_t>(j & ((1u << 22) - 1u));  // angle within the quadrant
  if (a >= (1 << 21)) {                                               // past pi/4: go negative
    a -= (1 << 22);
    quadrant = (quadrant + 1u) & 3u;
  }
  const float x = detail::fmul(static_cast<float>(a), 3.74507028541569929e-07f);  // (pi/2) / 2^22
  const float x2 = detail::fmul(x, x);
  float ps = -1.0f / 6227020800.0f;                                    // -1/13!
  ps = detail::ffma(ps, x2, 1.0f / 39916800.0f);
  ps = detail::ffma(ps, x2, -1.0f / 362880.0f);
  ps = detail::ffma(ps, x2, 1.0f / 5040.0f);
  ps = detail::ffma(ps, x2, -1.0f / 120.0f);
  ps = detail::ffma(ps, x2, 1.0f / 6.0f);
  // sin x = x - x^3 (1/6 - ...): the series above holds +1/6 - x^2/120 + ..., so negate it.
  const float sin_x = detail::ffma(-detail::fmul(x, x2), ps, x);
  float pc = 1.0f / 87178291200.0f;                                    // 1/14!
  pc = detail::ffma(pc, x2, -1.0f / 479001600.0f);
  pc = detail::ffma(pc, x2, 1.0f / 3628800.0f);
  pc = detail::ffma(pc, x2, -1.0f / 40320.0f);
  pc = detail::ffma(pc, x2, 1.0f / 720.0f);
  pc = detail::ffma(pc, x2, -1.0f / 24.0f);
  pc = detail::ffma(pc, x2, 0.5f);
  const float cos_x = detail::ffma(-x2, pc, 1.0f);
  switch (quadrant) {
    case 0: c = cos_x; s = sin_x; break;
    case 1: c = -sin_x; s = cos_x; break;
    case 2: c = -cos_x; s = -sin_x; break;
    default: c = sin_x; s = -cos_x; break;
  }
}

// Two standard normals from one Philox call via Box-Muller (the reference hooks draw Gaussian V).
// Bit-identical on host and device: only the correctly rounded operations above are used.
ARCSIM_HD void gaussian_pair(std::uint64_t seed, std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                             std::uint32_t stream, float& z0, float& z1) {
  const U32x4 r = philox4x32(U32x4{{c0, c1, c2, stream}}, seed);
  const std::uint32_t j1 = (r.v[0] >> 8) + 1u;  // u1 = j1 / 2^24 in (0, 1]
  const std::uint32_t j2 = (r.v[1] >> 8) + 1u;  // theta = 2 pi j2 / 2^24
  const float radius = detail::fsqrt(detail::fmul(-2.0f, log_unit24(j1)));
  float c, s;
  cos_sin_turn24(j2, c, s);
  z0 = detail::fmul(radius, c);
  z1 = detail::fmul(radius, s);
}

// Element (i, j) of the shared Gaussian sketch matrix V (m x r, row-major), for tensor `tensor`
// at compression call `step`. Pure function: the same on every worker and backend.
ARCSIM_HD float sketch_entry(std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                             std::uint64_t flat_index) {
  float z0, z1;
  gaussian_pair(seed, static_cast<std::uint32_t>(flat_index >> 1), tensor, step,
                kStreamSketch ^ static_cast<std::uint32_t>(flat_index >> 33), z0, z1);
  return (flat_index & 1) ? z1 : z0;
}

}  // namespace arcsim::rng
