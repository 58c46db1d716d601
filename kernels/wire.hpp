#pragma once
// Values and indices as they travel: a compressor computes in float32 and uint32 indices; the
// options value_dtype (fp32 | fp16 | bf16) and index_dtype (int32 | int64) choose what is sent.
// Rounding is to nearest, ties to even, done on the bits, so every backend and machine agrees.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/communicator.hpp"

namespace arcsim::kernels {

// "fp32" | "fp16" | "bf16" -> kFloat32 | kFloat16 | kBFloat16; "int32" | "int64" -> kInt32 | kInt64.
DType value_dtype(const std::string& option);
DType index_dtype(const std::string& option);

// x rounded to float16 / bfloat16 and back (x itself for float32). Float16 overflows to +-inf.
float round_to_wire(float x, DType t);
// Bit patterns of one value.
std::uint16_t float_to_half_bits(float x);
float half_bits_to_float(std::uint16_t h);
std::uint16_t float_to_bf16_bits(float x);
float bf16_bits_to_float(std::uint16_t h);

// n values as `t` on the wire (n * dtype_size(t) bytes), and back to float32.
std::vector<std::uint8_t> pack_values(const float* x, std::size_t n, DType t);
void unpack_values(const void* wire, std::size_t n, DType t, float* out);
// n indices as int32 or int64, and back.
std::vector<std::uint8_t> pack_indices(const std::uint32_t* idx, std::size_t n, DType t);
void unpack_indices(const void* wire, std::size_t n, DType t, std::uint32_t* out);

}  // namespace arcsim::kernels
