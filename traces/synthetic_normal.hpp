#pragma once
// The Box-Muller normal of the synthetic gradients, exactly and fast.
//
// The generator's normal of a 64-bit key is, by definition (synthetic.hpp, "lognormal-rows/1"),
//   r = mix(key); m1 = bits 38..63 of r; m2 = bits 12..37 of r (26 bits each)
//   normal = sqrt(-2 log((m1 + 1) / 2^26)) * cos(6.283185307179586 * ((m2 + 0.5) / 2^26))
// in double with the C library's log and cos: those libm results define the gradients' bits.
//
// The fast path replaces log and cos by table-driven approximations (a 97-entry log table with a
// degree-7 log1p, a 1024-entry cos/sin table with short Taylor terms) in loops the compiler
// vectorises. Their error against the libm expressions is bounded over the WHOLE domain, which is
// small: m1 and m2 take 2^26 values each, and tests/traces/test_synthetic_normal.cpp checks every
// one of them (kRadialError, kAngularError). The generator then knows each float it writes is the
// exact one unless the double it rounds lies within a proven bound of a float rounding boundary;
// those few elements (about 1e-5 of them) are recomputed with libm. So the output keeps the bits
// of the libm generator, only faster.
#include <cstddef>
#include <cstdint>

namespace arcsim::traces::detail {

// Bounds checked exhaustively by the tests: |radial_fast(m) - sqrt(-2 log((m + 1) / 2^26))| and
// |angular_fast(m) - cos(6.283185307179586 * ((m + 0.5) / 2^26))| (both as libm computes them).
inline constexpr double kRadialError = 1e-14;
inline constexpr double kAngularError = 1e-14;

// SplitMix64 finaliser (the generator's hash).
inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The libm definition (the reference; also the fallback).
double normal_exact(std::uint64_t key);
double radial_exact(std::uint32_t m1);
double angular_exact(std::uint32_t m2);

// out[i] = approximations of radial_exact(m[i]) / angular_exact(m[i]), m[i] < 2^26.
void radial_fast(const std::uint32_t* m, std::size_t n, double* out);
void angular_fast(const std::uint32_t* m, std::size_t n, double* out);

// One row of the generator: for c < cols, element e = e0 + c, with the normals
//   shared_c = normal(mix(shared_head ^ e)) and noise_c = normal(mix(head ^ e)),
// out[c] = float(scale * (a_w * shared_c + b_w * noise_c)), bit for bit as with normal_exact.
// `shared` caches shared_c (cols doubles): computed when fill_shared, else read.
void synthetic_row(std::uint64_t shared_head, std::uint64_t head, std::uint64_t e0, std::size_t cols, double scale,
                   double a_w, double b_w, double* shared, bool fill_shared, float* out);

}  // namespace arcsim::traces::detail
