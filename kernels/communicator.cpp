#include "kernels/communicator.hpp"

#include "kernels/wire.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace arcsim::kernels {

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat16:
    case DType::kBFloat16: return 2;
    case DType::kInt64: return 8;
    default: return 4;
  }
}
const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kInt32: return "int32";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kInt64: return "int64";
  }
  return "float32";
}

EmulatedCommunicator::EmulatedCommunicator(int workers) : workers_(workers) {
  if (workers < 1) throw std::invalid_argument("EmulatedCommunicator: workers must be >= 1, got " + std::to_string(workers));
}

void EmulatedCommunicator::check_workers(std::size_t n, const char* op) const {
  if (n != static_cast<std::size_t>(workers_))
    throw std::invalid_argument(std::string("EmulatedCommunicator::") + op + ": expected " +
                                std::to_string(workers_) + " worker buffers, got " + std::to_string(n));
}

void EmulatedCommunicator::allreduce_sum(std::span<const float* const> in, std::size_t count, float* out, bool,
                                         DType wire) {
  check_workers(in.size(), "allreduce_sum");
  if (count == 0) return;
  if (wire != DType::kFloat32) {  // contributions and the result rounded to the wire type
    if (wire != DType::kFloat16 && wire != DType::kBFloat16)
      throw std::invalid_argument(std::string("allreduce_sum: wire type ") + dtype_name(wire) + " is not a value type");
    for (std::size_t i = 0; i < count; ++i) out[i] = round_to_wire(in[0][i], wire);
    for (std::size_t w = 1; w < in.size(); ++w)
      for (std::size_t i = 0; i < count; ++i) out[i] += round_to_wire(in[w][i], wire);
    for (std::size_t i = 0; i < count; ++i) out[i] = round_to_wire(out[i], wire);
    return;
  }
  std::memcpy(out, in[0], count * sizeof(float));
  // Worker-major order keeps each element's sum in fixed worker order (0, 1, 2, ...).
  for (std::size_t w = 1; w < in.size(); ++w) {
    const float* src = in[w];
    for (std::size_t i = 0; i < count; ++i) out[i] += src[i];
  }
}

void EmulatedCommunicator::allgather(std::span<const void* const> in, std::size_t count, DType type, void* out,
                                     bool) {
  check_workers(in.size(), "allgather");
  const std::size_t bytes = count * dtype_size(type);
  for (std::size_t w = 0; w < in.size(); ++w)
    if (bytes) std::memcpy(static_cast<char*>(out) + w * bytes, in[w], bytes);
}

void EmulatedCommunicator::allgatherv(std::span<const void* const> in, std::span<const std::size_t> counts,
                                      DType type, void* out, bool, SizeScaling) {
  check_workers(in.size(), "allgatherv");
  check_workers(counts.size(), "allgatherv(counts)");
  std::size_t offset = 0;
  for (std::size_t w = 0; w < in.size(); ++w) {
    const std::size_t bytes = counts[w] * dtype_size(type);
    if (bytes) std::memcpy(static_cast<char*>(out) + offset, in[w], bytes);
    offset += bytes;
  }
}

void EmulatedCommunicator::broadcast(std::span<const void* const> in, std::size_t count, DType type, int root,
                                     void* out, bool) {
  check_workers(in.size(), "broadcast");
  if (root < 0 || root >= workers_) throw std::invalid_argument("EmulatedCommunicator::broadcast: bad root");
  if (count) std::memcpy(out, in[static_cast<std::size_t>(root)], count * dtype_size(type));
}

void EmulatedCommunicator::alltoallv(std::span<const void* const> in, std::span<const std::size_t> counts,
                                     DType type, std::span<void* const> out, bool, SizeScaling) {
  check_workers(in.size(), "alltoallv");
  check_workers(out.size(), "alltoallv(out)");
  const std::size_t W = in.size(), es = dtype_size(type);
  if (counts.size() != W * W)
    throw std::invalid_argument("EmulatedCommunicator::alltoallv: expected a " + std::to_string(W) + " x " +
                                std::to_string(W) + " count matrix, got " + std::to_string(counts.size()) + " counts");
  // Receive offsets: column prefix sums over sources; send offsets: row prefix sums over destinations.
  for (std::size_t d = 0; d < W; ++d) {
    std::size_t at = 0;
    for (std::size_t s = 0; s < W; ++s) {
      std::size_t from = 0;
      for (std::size_t j = 0; j < d; ++j) from += counts[s * W + j];
      const std::size_t bytes = counts[s * W + d] * es;
      if (bytes) std::memcpy(static_cast<char*>(out[d]) + at, static_cast<const char*>(in[s]) + from * es, bytes);
      at += bytes;
    }
  }
}

}  // namespace arcsim::kernels
