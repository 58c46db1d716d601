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

// Two standard normals from one Philox call via Box-Muller (the reference hooks draw Gaussian V).
// TODO(kernels): host logf/cosf and device logf/cosf are not bit-identical; replace them with
// polynomial approximations built only from correctly rounded operations (fmaf, +, *, sqrtf) so
// V is bit-identical on host and device.
ARCSIM_HD void gaussian_pair(std::uint64_t seed, std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                             std::uint32_t stream, float& z0, float& z1) {
  const U32x4 r = philox4x32(U32x4{{c0, c1, c2, stream}}, seed);
  const float u1 = u32_to_unit(r.v[0]);
  const float u2 = u32_to_unit(r.v[1]);
  const float radius = sqrtf(-2.0f * logf(u1));
  const float theta = 6.2831853071795864769f * u2;
  z0 = radius * cosf(theta);
  z1 = radius * sinf(theta);
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
