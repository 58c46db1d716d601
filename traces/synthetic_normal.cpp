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

// log(c_j) and 1/c_j for c_j = j / 128, j = 96..192 (the reduced argument f lies in [0.75, 1.5)).
struct LogTable {
  double log_c[97], inv_c[97];
  LogTable() {
    for (int j = 96; j <= 192; ++j) {
      log_c[j - 96] = std::log(j / 128.0);
      inv_c[j - 96] = 128.0 / j;
    }
  }
};
// cos and sin of A_h = h * 2 pi / 1024, h = 0..1023.
struct CosTable {
  double cos_a[1024], sin_a[1024];
  CosTable() {
    for (int h = 0; h < 1024; ++h) {
      const double a = (kTwoPi / 1024.0) * h;
      cos_a[h] = std::cos(a);
      sin_a[h] = std::sin(a);
    }
  }
};
const LogTable& log_table() {
  static const LogTable t;
  return t;
}
const CosTable& cos_table() {
  static const CosTable t;
  return t;
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
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void radial_fast(const std::uint32_t* m, std::size_t n, double* out) {
  const LogTable& t = log_table();
  for (std::size_t i = 0; i < n; ++i) {
    const double u1 = (double(m[i]) + 1.0) * kInv2p26;
    const std::uint64_t ub = bits_of(u1);
    const std::uint64_t adj = (ub >> 51) & 1;  // mantissa >= 1.5: take f / 2, e + 1
    const int e = static_cast<int>(static_cast<std::int64_t>(ub >> 52) - 1023 + static_cast<std::int64_t>(adj));
    const double f = from_bits((ub & 0x000fffffffffffffull) | ((1023 - adj) << 52));
    const int j = static_cast<int>(f * 128.0 + 0.5);
    const double c = j * (1.0 / 128.0);
    const double r = (f - c) * t.inv_c[j - 96];
    const double p =
        r * (1.0 + r * (-0.5 + r * (1.0 / 3.0 + r * (-0.25 + r * (0.2 + r * (-1.0 / 6.0 + r * (1.0 / 7.0)))))));
    const double log_u1 = (e * 0.6931471805599453 + t.log_c[j - 96]) + p;
    out[i] = std::sqrt(-2.0 * log_u1);
  }
}

// cos(A_h + b), (m + 0.5) / 2^26 * 2 pi = A_h + b with h = m >> 16, b = (lo + 0.5) 2 pi / 2^26 in
// [0, 2 pi / 1024): cos A_h - (cos A_h (1 - cos b) + sin A_h sin b), Taylor terms to b^6 / b^5
// (remainders below 1e-19).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void angular_fast(const std::uint32_t* m, std::size_t n, double* out) {
  const CosTable& t = cos_table();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t h = m[i] >> 16;
    const double b = (double(m[i] & 0xffffu) + 0.5) * (kTwoPi * kInv2p26);
    const double b2 = b * b;
    const double one_minus_cos = b2 * (0.5 - b2 * (1.0 / 24.0 - b2 * (1.0 / 720.0)));
    const double sin_b = b * (1.0 - b2 * (1.0 / 6.0 - b2 * (1.0 / 120.0)));
    out[i] = t.cos_a[h] - (t.cos_a[h] * one_minus_cos + t.sin_a[h] * sin_b);
  }
}

namespace {

// normals[c] for elements e0 .. e0 + len of the stream `head`.
void normals(std::uint64_t head, std::uint64_t e0, std::size_t len, double* out) {
  std::uint32_t m1[kChunk], m2[kChunk];
  double rad[kChunk], ang[kChunk];
  for (std::size_t c = 0; c < len; ++c) {
    const std::uint64_t r = mix(mix(head ^ (e0 + c)));
    m1[c] = static_cast<std::uint32_t>((r >> 38) & kMask26);
    m2[c] = static_cast<std::uint32_t>((r >> 12) & kMask26);
  }
  radial_fast(m1, len, rad);
  angular_fast(m2, len, ang);
  for (std::size_t c = 0; c < len; ++c) out[c] = rad[c] * ang[c];
}

}  // namespace

void synthetic_row(std::uint64_t shared_head, std::uint64_t head, std::uint64_t e0, std::size_t cols, double scale,
                   double a_w, double b_w, double* shared, bool fill_shared, float* out) {
  const double guard = scale * kGuard;
  double noise[kChunk];
  for (std::size_t c0 = 0; c0 < cols; c0 += kChunk) {
    const std::size_t len = std::min(kChunk, cols - c0);
    if (fill_shared) normals(shared_head, e0 + c0, len, shared + c0);
    normals(head, e0 + c0, len, noise);
    bool exact = true;
    for (std::size_t c = 0; c < len; ++c) {
      const double v = scale * (a_w * shared[c0 + c] + b_w * noise[c]);
      const float f = static_cast<float>(v);
      // Every double within the guard of v rounds to f: so does the libm generator's.
      const bool ok = fbits(static_cast<float>(v - guard)) == fbits(f) && fbits(static_cast<float>(v + guard)) == fbits(f);
      out[c0 + c] = f;
      exact = exact && ok;
    }
    if (exact) continue;
    for (std::size_t c = 0; c < len; ++c) {
      const double v = scale * (a_w * shared[c0 + c] + b_w * noise[c]);
      const float f = static_cast<float>(v);
      if (fbits(static_cast<float>(v - guard)) == fbits(f) && fbits(static_cast<float>(v + guard)) == fbits(f)) continue;
      const std::uint64_t e = e0 + c0 + c;
      out[c0 + c] = static_cast<float>(scale * (a_w * normal_exact(mix(shared_head ^ e)) + b_w * normal_exact(mix(head ^ e))));
    }
  }
}

}  // namespace arcsim::traces::detail
