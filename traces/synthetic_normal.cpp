// The fast Box-Muller of synthetic_normal.hpp. Built with -ffp-contract=off (traces/CMakeLists.txt):
// every operation is the written one, on every instruction set, so the error bounds the tests
// measure hold for the code that runs.
#include "synthetic_normal.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace arcsim::traces::detail {

namespace {

constexpr double kTwoPi = 6.283185307179586;  // as the definition writes it
constexpr double kInv2p26 = 1.0 / 67108864.0;
constexpr std::uint32_t kMask26 = 0x3ffffff;

// log(c_j) and 1/c_j for c_j = j / 128, j = 96..192 (the reduced argument f lies in [0.75, 1.5)),
// at index j - 96; cos and sin of A_h = h * 2 pi / 1024, h = 0..1023. Plain arrays, so that the
// loops below vectorise with gathers; filled once by tables().
alignas(64) double g_log_c[97], g_inv_c[97], g_cos_a[1024], g_sin_a[1024];

void tables() {
  static const bool filled = [] {
    for (int j = 96; j <= 192; ++j) {
      g_log_c[j - 96] = std::log(j / 128.0);
      g_inv_c[j - 96] = 128.0 / j;
    }
    for (int h = 0; h < 1024; ++h) {
      const double a = (kTwoPi / 1024.0) * h;
      g_cos_a[h] = std::cos(a);
      g_sin_a[h] = std::sin(a);
    }
    return true;
  }();
  (void)filled;
}

std::uint64_t bits_of(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, 8);
  return u;
}
double from_bits(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, 8);
  return x;
}
std::uint32_t fbits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

// Error of the normal R * C against the libm one, and the guard on the generator's double before
// its rounding to float: |R| <= 6.01, |C| <= 1, the two products' roundings, then a_w * shared +
// b_w * noise (a_w, b_w <= 1, magnitudes <= 12, three roundings in each computation) times scale;
// doubled for margin.
constexpr double kNormalError = 6.01 * kAngularError + kRadialError + 2e-15;
constexpr double kGuard = 2.0 * (1.4143 * kNormalError + 6.0 * 12.0 * 0x1p-53 + 12.0 * 0x1p-53);

constexpr std::size_t kChunk = 256;

}  // namespace

double radial_exact(std::uint32_t m1) { return std::sqrt(-2.0 * std::log((double(m1) + 1.0) / 67108864.0)); }
double angular_exact(std::uint32_t m2) { return std::cos(6.283185307179586 * ((double(m2) + 0.5) / 67108864.0)); }

double normal_exact(std::uint64_t key) {
  const std::uint64_t r = mix(key);
  const double u1 = (double((r >> 38) & 0x3ffffff) + 1.0) / 67108864.0;
  const double u2 = (double((r >> 12) & 0x3ffffff) + 0.5) / 67108864.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// log(u1) = e ln 2 + log(c_j) + log1p(r), u1 = 2^e f, f in [0.75, 1.5), c_j = round(128 f) / 128,
// r = (f - c_j) / c_j exactly rounded once (f - c_j is exact), |r| <= 2^-8 / 0.75; a degree-7
// log1p leaves a relative error below 2e-17. Near u1 = 1 the result is log1p(r) with r = f - 1
// exact, so the relative error stays small where sqrt(-2 log u1) is steep.
#define ARCSIM_INLINE inline __attribute__((always_inline))
#define ARCSIM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace {
ARCSIM_INLINE void radial_loop(const std::uint32_t* __restrict m, std::size_t n, double* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) {
    const double u1 = (double(m[i]) + 1.0) * kInv2p26;
    const std::uint64_t ub = bits_of(u1);
    const std::uint64_t adj = (ub >> 51) & 1;  // mantissa >= 1.5: take f / 2, e + 1
    const std::int64_t e = static_cast<std::int64_t>(ub >> 52) - 1023 + static_cast<std::int64_t>(adj);
    const double f = from_bits((ub & 0x000fffffffffffffull) | ((1023 - adj) << 52));
    const std::int64_t j = static_cast<std::int64_t>(f * 128.0 + 0.5) - 96;
    const double c = double(j + 96) * (1.0 / 128.0);
    const double r = (f - c) * g_inv_c[j];
    const double p =
        r * (1.0 + r * (-0.5 + r * (1.0 / 3.0 + r * (-0.25 + r * (0.2 + r * (-1.0 / 6.0 + r * (1.0 / 7.0)))))));
    const double log_u1 = (double(e) * 0.6931471805599453 + g_log_c[j]) + p;
    out[i] = std::sqrt(-2.0 * log_u1);
  }
}

// cos(A_h + b), (m + 0.5) / 2^26 * 2 pi = A_h + b with h = m >> 16, b = (lo + 0.5) 2 pi / 2^26 in
// [0, 2 pi / 1024): cos A_h - (cos A_h (1 - cos b) + sin A_h sin b), Taylor terms to b^6 / b^5
// (remainders below 1e-19).
ARCSIM_INLINE void angular_loop(const std::uint32_t* __restrict m, std::size_t n, double* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t h = static_cast<std::int64_t>(m[i] >> 16);
    const double b = (double(m[i] & 0xffffu) + 0.5) * (kTwoPi * kInv2p26);
    const double b2 = b * b;
    const double one_minus_cos = b2 * (0.5 - b2 * (1.0 / 24.0 - b2 * (1.0 / 720.0)));
    const double sin_b = b * (1.0 - b2 * (1.0 / 6.0 - b2 * (1.0 / 120.0)));
    out[i] = g_cos_a[h] - (g_cos_a[h] * one_minus_cos + g_sin_a[h] * sin_b);
  }
}

// normals[c] for elements e0 .. e0 + len of the stream `head`.
ARCSIM_INLINE void normals(std::uint64_t head, std::uint64_t e0, std::size_t len, double* __restrict out) {
  std::uint32_t m1[kChunk], m2[kChunk];
  double rad[kChunk], ang[kChunk];
  for (std::size_t c = 0; c < len; ++c) {
    const std::uint64_t r = mix(mix(head ^ (e0 + c)));
    m1[c] = static_cast<std::uint32_t>((r >> 38) & kMask26);
    m2[c] = static_cast<std::uint32_t>((r >> 12) & kMask26);
  }
  radial_loop(m1, len, rad);
  angular_loop(m2, len, ang);
  for (std::size_t c = 0; c < len; ++c) out[c] = rad[c] * ang[c];
}

// ok[c] = every double within `guard` of v[c] rounds to the float f[c] = float(v[c]).
ARCSIM_INLINE bool guarded(const double* __restrict v, std::size_t len, double guard, float* __restrict f) {
  std::uint32_t bad = 0;
  for (std::size_t c = 0; c < len; ++c) {
    f[c] = static_cast<float>(v[c]);
    const std::uint32_t b = fbits(f[c]);
    bad |= (fbits(static_cast<float>(v[c] - guard)) ^ b) | (fbits(static_cast<float>(v[c] + guard)) ^ b);
  }
  return bad == 0;
}
}  // namespace

ARCSIM_CLONES void radial_fast(const std::uint32_t* m, std::size_t n, double* out) {
  tables();
  radial_loop(m, n, out);
}

ARCSIM_CLONES void angular_fast(const std::uint32_t* m, std::size_t n, double* out) {
  tables();
  angular_loop(m, n, out);
}

ARCSIM_CLONES void synthetic_row(std::uint64_t shared_head, std::uint64_t head, std::uint64_t e0, std::size_t cols,
                                double scale, double a_w, double b_w, double* shared, bool fill_shared, float* out) {
  tables();
  const double guard = scale * kGuard;
  double noise[kChunk], v[kChunk];
  for (std::size_t c0 = 0; c0 < cols; c0 += kChunk) {
    const std::size_t len = std::min(kChunk, cols - c0);
    if (fill_shared) normals(shared_head, e0 + c0, len, shared + c0);
    normals(head, e0 + c0, len, noise);
    for (std::size_t c = 0; c < len; ++c) v[c] = scale * (a_w * shared[c0 + c] + b_w * noise[c]);
    if (guarded(v, len, guard, out + c0)) continue;
    // Some double lies too close to a float boundary to trust the approximation: recompute those
    // elements with libm.
    for (std::size_t c = 0; c < len; ++c) {
      float f;
      if (guarded(v + c, 1, guard, &f)) continue;
      const std::uint64_t e = e0 + c0 + c;
      out[c0 + c] = static_cast<float>(scale * (a_w * normal_exact(mix(shared_head ^ e)) + b_w * normal_exact(mix(head ^ e))));
    }
  }
}

}  // namespace arcsim::traces::detail
