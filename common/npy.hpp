#pragma once
// NumPy .npy files (format 1.0-3.0), little-endian, C order. Enough for gradient samples:
// float32, float16 (converted to float32 on read), float64, int32, int64.
#include <cstdint>
#include <string>
#include <vector>

namespace arcsim::io {

struct NpyArray {
  std::string dtype;                 // numpy descr without byte order: "f4", "f2", "f8", "i4", "i8"
  std::vector<std::int64_t> shape;
  std::vector<char> data;            // raw little-endian bytes, C order
  std::int64_t size() const;         // product of shape (1 for a 0-d array)
};

// Reads a .npy file. Every problem (missing file, bad magic, unsupported dtype or order, Fortran
// order, truncated data, trailing bytes) throws std::runtime_error "<path>: <what>: expected ...".
NpyArray read_npy(const std::string& path);

// Converts the array's elements to float32 ("f4", "f2", "f8" only; others throw naming the path).
std::vector<float> to_float32(const NpyArray& a, const std::string& path_for_errors);

// Serialises to .npy bytes (format 1.0); write with write_file_atomic.
std::string npy_bytes(const std::string& dtype, const std::vector<std::int64_t>& shape,
                      const void* data, std::size_t nbytes);
std::string npy_bytes_f32(const std::vector<std::int64_t>& shape, const std::vector<float>& values);

}  // namespace arcsim::io
