#include "kernels/wire.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace arcsim::kernels {

DType value_dtype(const std::string& option) {
  if (option == "fp32") return DType::kFloat32;
  if (option == "fp16") return DType::kFloat16;
  if (option == "bf16") return DType::kBFloat16;
  throw std::invalid_argument("value_dtype: expected fp32|fp16|bf16, got '" + option + "'");
}

DType index_dtype(const std::string& option) {
  if (option == "int32") return DType::kInt32;
  if (option == "int64") return DType::kInt64;
  throw std::invalid_argument("index_dtype: expected int32|int64, got '" + option + "'");
}

std::uint16_t float_to_bf16_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return static_cast<std::uint16_t>((u >> 16) | 0x40);  // NaN
  const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);  // nearest, ties to even
  return static_cast<std::uint16_t>((u + rounding) >> 16);
}

float bf16_bits_to_float(std::uint16_t h) {
  const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

std::uint16_t float_to_half_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  const std::uint32_t sign = (u >> 16) & 0x8000u;
  const std::uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);  // < 2^-25: rounds to 0
    const std::uint32_t exp = abs >> 23, mant = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - exp;  // value = mant * 2^(exp-150); half unit = 2^-24
    const std::uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
    const std::uint32_t r = q + ((rem > halfway || (rem == halfway && (q & 1u))) ? 1u : 0u);
    return static_cast<std::uint16_t>(sign | r);
  }
  const std::uint32_t e = (abs >> 23) - 112u;  // rebias 127 -> 15
  const std::uint32_t mant = abs & 0x7fffffu;
  std::uint32_t h = (e << 10) | (mant >> 13);
  const std::uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: correct
  return static_cast<std::uint16_t>(sign | h);
}

float half_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  std::uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: mant * 2^-24
      const float v = static_cast<float>(mant) * 0x1p-24f;
      std::memcpy(&u, &v, 4);
      u |= sign;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (mant << 13);
  } else {
    u = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

float round_to_wire(float x, DType t) {
  switch (t) {
    case DType::kFloat16: return half_bits_to_float(float_to_half_bits(x));
    case DType::kBFloat16: return bf16_bits_to_float(float_to_bf16_bits(x));
    case DType::kFloat32: return x;
    default: throw std::invalid_argument(std::string("round_to_wire: ") + dtype_name(t) + " is not a value type");
  }
}

std::vector<std::uint8_t> pack_values(const float* x, std::size_t n, DType t) {
  std::vector<std::uint8_t> out(n * dtype_size(t));
  if (t == DType::kFloat32) {
    if (n) std::memcpy(out.data(), x, n * 4);
    return out;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t b = t == DType::kFloat16 ? float_to_half_bits(x[i]) : float_to_bf16_bits(x[i]);
    std::memcpy(out.data() + 2 * i, &b, 2);
  }
  if (t != DType::kFloat16 && t != DType::kBFloat16)
    throw std::invalid_argument(std::string("pack_values: ") + dtype_name(t) + " is not a value type");
  return out;
}

void unpack_values(const void* wire, std::size_t n, DType t, float* out) {
  const auto* p = static_cast<const std::uint8_t*>(wire);
  if (t == DType::kFloat32) {
    if (n) std::memcpy(out, p, n * 4);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t b;
    std::memcpy(&b, p + 2 * i, 2);
    out[i] = t == DType::kFloat16 ? half_bits_to_float(b) : bf16_bits_to_float(b);
  }
}

std::vector<std::uint8_t> pack_indices(const std::uint32_t* idx, std::size_t n, DType t) {
  std::vector<std::uint8_t> out(n * dtype_size(t));
  if (t == DType::kInt32) {
    if (n) std::memcpy(out.data(), idx, n * 4);
  } else if (t == DType::kInt64) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v = idx[i];
      std::memcpy(out.data() + 8 * i, &v, 8);
    }
  } else {
    throw std::invalid_argument(std::string("pack_indices: ") + dtype_name(t) + " is not an index type");
  }
  return out;
}

void unpack_indices(const void* wire, std::size_t n, DType t, std::uint32_t* out) {
  const auto* p = static_cast<const std::uint8_t*>(wire);
  if (t == DType::kInt32) {
    if (n) std::memcpy(out, p, n * 4);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t v;
    std::memcpy(&v, p + 8 * i, 8);
    out[i] = static_cast<std::uint32_t>(v);
  }
}

}  // namespace arcsim::kernels
