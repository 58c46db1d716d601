#include "npy.hpp"

#include <cstring>
#include <stdexcept>

#include "atomic_file.hpp"
#include "format.hpp"

namespace arcsim::io {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::size_t item_size(const std::string& dtype) {
  if (dtype == "f4" || dtype == "i4") return 4;
  if (dtype == "f8" || dtype == "i8") return 8;
  if (dtype == "f2") return 2;
  return 0;
}

// Value of 'key' in the header dict, e.g. "'descr': '<f4'" -> "'<f4'"; "" when absent.
std::string dict_value(const std::string& header, const std::string& key) {
  auto pos = header.find("'" + key + "'");
  if (pos == std::string::npos) return "";
  pos = header.find(':', pos);
  if (pos == std::string::npos) return "";
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  if (pos >= header.size()) return "";
  std::size_t end;
  if (header[pos] == '(') end = header.find(')', pos) + 1;
  else if (header[pos] == '\'') end = header.find('\'', pos + 1) + 1;
  else end = header.find_first_of(",}", pos);
  if (end == std::string::npos || end == 0) return "";
  return header.substr(pos, end - pos);
}

float half_to_float(std::uint16_t h) {
  std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, bits;
  if (exp == 0) {
    if (man == 0) bits = sign;
    else {  // subnormal half -> normal float
      exp = 127 - 15 + 1;
      while (!(man & 0x400u)) { man <<= 1; --exp; }
      bits = sign | (exp << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
  else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

constexpr std::size_t kMaxDims = 32;  // numpy's own limit before 2.0

}  // namespace

// Product of the dimensions, or -1 when it (or its size in bytes) does not fit an int64.
static std::int64_t checked_product(const std::vector<std::int64_t>& shape, std::size_t item) {
  std::int64_t n = 1;
  for (auto s : shape)
    if (s < 0 || __builtin_mul_overflow(n, s, &n)) return -1;
  std::int64_t bytes;
  if (__builtin_mul_overflow(n, static_cast<std::int64_t>(item), &bytes)) return -1;
  return n;
}

std::int64_t NpyArray::size() const {
  const std::int64_t n = checked_product(shape, 1);
  if (n < 0) throw std::overflow_error("npy: shape product does not fit a 64-bit integer");
  return n;
}

NpyArray read_npy(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    fail(path, "not a .npy file: expected the \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, "truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= std::size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    fail(path, "unsupported .npy version " + std::to_string(major) + ": expected 1, 2 or 3");
  }
  if (bytes.size() < offset + header_len) fail(path, "truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  offset += header_len;

  NpyArray a;
  std::string descr = dict_value(header, "descr");
  if (descr.size() < 4) fail(path, "header field 'descr': expected a dtype string");
  descr = descr.substr(1, descr.size() - 2);  // strip quotes
  const char order = descr[0];
  a.dtype = descr.substr(1);
  if (item_size(a.dtype) == 0 || (order != '<' && order != '|' && order != '='))
    fail(path, "header field 'descr': expected little-endian f4, f2, f8, i4 or i8, got '" + printable(descr) + "'");
  if (dict_value(header, "fortran_order") != "False")
    fail(path, "header field 'fortran_order': expected False (C order)");
  std::string shape = dict_value(header, "shape");
  if (shape.size() < 2 || shape.front() != '(') fail(path, "header field 'shape': expected a tuple");
  std::size_t pos = 1;
  while (pos < shape.size()) {
    while (pos < shape.size() && (shape[pos] == ' ' || shape[pos] == ',')) ++pos;
    if (pos >= shape.size() || shape[pos] == ')') break;
    std::size_t used = 0;
    long long v;
    try {
      v = std::stoll(shape.substr(pos), &used);
    } catch (...) {
      fail(path, "header field 'shape': expected integers, got " + printable(shape));
    }
    if (v < 0) fail(path, "header field 'shape': expected non-negative dimensions");
    if (a.shape.size() == kMaxDims) fail(path, "header field 'shape': expected at most 32 dimensions");
    a.shape.push_back(v);
    pos += used;
  }
  const std::int64_t elements = checked_product(a.shape, item_size(a.dtype));
  if (elements < 0) fail(path, "header field 'shape': expected a shape whose size fits 64 bits, got " + printable(shape));
  const std::size_t nbytes = std::size_t(elements) * item_size(a.dtype);
  if (bytes.size() - offset < nbytes)
    fail(path, "truncated data: expected " + std::to_string(nbytes) + " bytes after the header, got " +
                   std::to_string(bytes.size() - offset));
  if (bytes.size() - offset > nbytes)
    fail(path, "trailing data: expected " + std::to_string(nbytes) + " bytes after the header, got " +
                   std::to_string(bytes.size() - offset));
  a.data.assign(bytes.begin() + offset, bytes.end());
  return a;
}

std::vector<float> to_float32(const NpyArray& a, const std::string& path) {
  const std::size_t n = std::size_t(a.size());
  std::vector<float> out(n);
  if (a.dtype == "f4") {
    std::memcpy(out.data(), a.data.data(), n * 4);
  } else if (a.dtype == "f8") {
    for (std::size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, a.data.data() + 8 * i, 8);
      out[i] = static_cast<float>(d);
    }
  } else if (a.dtype == "f2") {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint16_t h;
      std::memcpy(&h, a.data.data() + 2 * i, 2);
      out[i] = half_to_float(h);
    }
  } else {
    fail(path, "dtype: expected a floating-point array (float32, float16 or float64), got " + a.dtype);
  }
  return out;
}

std::string npy_bytes(const std::string& dtype, const std::vector<std::int64_t>& shape,
                      const void* data, std::size_t nbytes) {
  std::string dims;
  for (auto s : shape) dims += std::to_string(s) + ", ";
  if (shape.size() > 1) dims.erase(dims.size() - 2);
  else if (shape.size() == 1) dims.pop_back();
  std::string header = "{'descr': '<" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 0xffff) throw std::invalid_argument("npy: header too long for format 1.0");
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  out += header;
  out.append(static_cast<const char*>(data), nbytes);
  return out;
}

std::string npy_bytes_f32(const std::vector<std::int64_t>& shape, const std::vector<float>& values) {
  return npy_bytes("f4", shape, values.data(), values.size() * sizeof(float));
}

}  // namespace arcsim::io
