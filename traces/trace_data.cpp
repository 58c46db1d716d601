// The .npy side of a trace: checksum, header against trace.json, finiteness; fp16 writing.
#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.hpp"
#include "common/npy.hpp"
#include "common/sha256.hpp"
#include "trace.hpp"

namespace arcsim::traces {
namespace {

std::string npy_dtype(const std::string& dtype) { return dtype == "float16" ? "f2" : "f4"; }

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// float -> IEEE half, round to nearest even; overflow gives inf (caught by validation).
std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t exp = (x >> 23) & 0xffu;
  std::uint32_t man = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<std::uint16_t>(sign | 0x7c00u | (man ? 0x200u : 0));
  const int e = int(exp) - 127 + 15;
  if (e >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (e <= 0) {  // subnormal half (or zero)
    if (e < -10) return static_cast<std::uint16_t>(sign);
    man |= 0x800000u;
    const int shift = 14 - e;
    std::uint32_t h = man >> shift;
    const std::uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  std::uint32_t h = (std::uint32_t(e) << 10) | (man >> 13);
  const std::uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // may carry into the exponent: correct
  return static_cast<std::uint16_t>(sign | h);
}

}  // namespace

std::vector<float> load_file(const Trace& t, const FileRef& ref, const std::string& field) {
  const std::string path = (std::filesystem::path(t.dir) / ref.file).string();
  const std::string where = " (trace.json " + field + ")";
  if (!std::filesystem::exists(path)) throw TraceError(path + ": missing file: expected the data file named in trace.json " + field + ".file");
  // Structure first (a truncated file says "truncated", not only "bad checksum"), then the digest.
  io::NpyArray a;
  try {
    a = io::read_npy(path);
  } catch (const std::runtime_error& e) {
    throw TraceError(std::string(e.what()) + where);
  }
  const std::string digest = io::sha256_hex(io::read_file(path));
  if (digest != ref.sha256)
    throw TraceError(path + ": sha256: expected " + ref.sha256 + " (trace.json " + field + ".sha256), got " + digest +
                     " (the file is corrupt or was changed)");
  if (a.dtype != npy_dtype(ref.dtype))
    throw TraceError(path + ": dtype: expected " + ref.dtype + where + ", got numpy '" + a.dtype + "'");
  if (a.shape != ref.shape)
    throw TraceError(path + ": shape: expected " + shape_str(ref.shape) + where + ", got " + shape_str(a.shape));
  std::vector<float> v = io::to_float32(a, path);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw TraceError(path + ": values: expected finite numbers, got " + std::to_string(v[i]) +
                       " at flat index " + std::to_string(i) + where);
  return v;
}

void validate_data(const Trace& t) {
  for (std::size_t i = 0; i < t.samples.size(); ++i) {
    const std::string at = "samples[" + std::to_string(i) + "]";
    load_file(t, t.samples[i].data, at + ".data");
    if (t.samples[i].aggregate) load_file(t, *t.samples[i].aggregate, at + ".aggregate");
  }
}

Trace validate_trace(const std::string& dir) {
  Trace t = read_trace(dir);
  validate_data(t);
  return t;
}

FileRef write_data_file(const std::string& dir, const std::string& relative,
                        const std::vector<std::int64_t>& shape, const std::vector<float>& values,
                        const std::string& dtype) {
  const auto path = std::filesystem::path(dir) / relative;
  std::filesystem::create_directories(path.parent_path());
  std::string bytes;
  if (dtype == "float16") {
    std::vector<std::uint16_t> h(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) h[i] = float_to_half(values[i]);
    bytes = io::npy_bytes("f2", shape, h.data(), h.size() * 2);
  } else if (dtype == "float32") {
    bytes = io::npy_bytes_f32(shape, values);
  } else {
    throw TraceError(path.string() + ": dtype: expected float32 or float16, got " + dtype);
  }
  io::write_file_atomic(path.string(), bytes);
  return FileRef{relative, dtype, shape, io::sha256_hex(bytes)};
}

}  // namespace arcsim::traces
