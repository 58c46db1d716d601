#include "kernels/process_group_communicator.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "kernels/wire.hpp"

namespace arcsim::kernels {

double wall_clock_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Reduction parse_reduction(const std::string& name) {
  if (name == "ordered") return Reduction::ordered;
  if (name == "native") return Reduction::native;
  throw std::invalid_argument("reduction: expected ordered or native, got '" + name + "'");
}

const char* reduction_name(Reduction r) { return r == Reduction::native ? "native" : "ordered"; }

namespace {
// Element range of chunk c when `count` elements are split over P ranks (the first count % P
// chunks one longer).
std::size_t chunk_lo(std::size_t count, std::size_t P, std::size_t c) {
  return c * (count / P) + std::min(c, count % P);
}

// Bytes this rank sends to other ranks in an all-gather(v) of `mine` bytes.
std::size_t gather_wire(std::size_t mine, int P) { return mine * static_cast<std::size_t>(P - 1); }

class Timed {
 public:
  Timed(std::vector<CollectiveCall>& log, const char* op, std::size_t bytes, DType dtype) : log_(log) {
    call_.op = op;
    call_.bytes = bytes;
    call_.dtype = dtype;
    call_.start_s = wall_clock_s();
  }
  CollectiveCall& call() { return call_; }
  ~Timed() {
    call_.end_s = wall_clock_s();
    log_.push_back(std::move(call_));
  }

 private:
  std::vector<CollectiveCall>& log_;
  CollectiveCall call_;
};
}  // namespace

ProcessGroupCommunicator::ProcessGroupCommunicator(Transport& transport, Reduction reduction)
    : transport_(transport), reduction_(reduction) {
  if (transport.size() < 1 || transport.rank() < 0 || transport.rank() >= transport.size())
    throw std::invalid_argument("ProcessGroupCommunicator: rank " + std::to_string(transport.rank()) +
                                " is not in a group of " + std::to_string(transport.size()));
}

void ProcessGroupCommunicator::check_local(std::size_t n, const char* op) const {
  if (n != 1)
    throw std::invalid_argument(std::string("ProcessGroupCommunicator::") + op +
                                ": expected one local worker buffer, got " + std::to_string(n));
}

void ProcessGroupCommunicator::ordered_sum(const float* in, std::size_t count, float* out, DType wire,
                                           CollectiveCall& call) {
  const std::size_t P = static_cast<std::size_t>(world_size()), me = static_cast<std::size_t>(transport_.rank());
  const std::size_t es = dtype_size(wire);
  // 1. Reduce-scatter: chunk d of this rank's contribution (as sent) goes to rank d.
  const std::vector<std::uint8_t> mine = pack_values(in, count, wire);
  // chunk_bytes[c]: chunk c's bytes on the wire, what rank c owns (sent to it here, gathered from it in 3.)
  std::vector<std::size_t> chunk_bytes(P);
  for (std::size_t c = 0; c < P; ++c) chunk_bytes[c] = (chunk_lo(count, P, c + 1) - chunk_lo(count, P, c)) * es;
  const std::size_t my_len = chunk_bytes[me] / es;
  const std::vector<std::size_t> recv(P, chunk_bytes[me]);
  std::vector<std::uint8_t> got(P * my_len * es);
  transport_.alltoallv(mine.data(), chunk_bytes, got.data(), recv);
  // 2. This rank's chunk summed over ranks 0, 1, ... in order: the EmulatedCommunicator's sum.
  std::vector<float> part(my_len), sum(my_len);
  for (std::size_t s = 0; s < P; ++s) {
    unpack_values(got.data() + s * my_len * es, my_len, wire, s == 0 ? sum.data() : part.data());
    if (s > 0)
      for (std::size_t i = 0; i < my_len; ++i) sum[i] += part[i];
  }
  if (wire != DType::kFloat32)
    for (auto& v : sum) v = round_to_wire(v, wire);
  // 3. All-gather of the reduced chunks (as sent: the wire type).
  const std::vector<std::uint8_t> reduced = pack_values(sum.data(), my_len, wire);
  std::vector<std::uint8_t> all(count * es);
  transport_.allgatherv(reduced.data(), chunk_bytes, all.data());
  unpack_values(all.data(), count, wire, out);
  call.wire_bytes = (count * es - chunk_bytes[me]) + gather_wire(chunk_bytes[me], static_cast<int>(P));
}

void ProcessGroupCommunicator::allreduce_sum(std::span<const float* const> in, std::size_t count, float* out, bool,
                                             DType wire) {
  check_local(in.size(), "allreduce_sum");
  if (wire != DType::kFloat32 && wire != DType::kFloat16 && wire != DType::kBFloat16)
    throw std::invalid_argument(std::string("allreduce_sum: wire type ") + dtype_name(wire) + " is not a value type");
  Timed t(calls_, "allreduce", count * dtype_size(wire), wire);
  if (count == 0) return;
  if (reduction_ == Reduction::native && wire == DType::kFloat32) {
    if (out != in[0]) std::memcpy(out, in[0], count * sizeof(float));
    transport_.allreduce_sum_f32(out, count);
    const std::size_t P = static_cast<std::size_t>(world_size());
    t.call().wire_bytes = P > 1 ? 2 * (P - 1) * count * sizeof(float) / P : 0;  // a ring's share
    return;
  }
  ordered_sum(in[0], count, out, wire, t.call());
}

void ProcessGroupCommunicator::allgather(std::span<const void* const> in, std::size_t count, DType type, void* out,
                                         bool) {
  check_local(in.size(), "allgather");
  const std::size_t bytes = count * dtype_size(type);
  Timed t(calls_, "allgather", bytes, type);
  const std::vector<std::size_t> each(static_cast<std::size_t>(world_size()), bytes);
  transport_.allgatherv(in[0], each, out);
  t.call().wire_bytes = gather_wire(bytes, world_size());
}

void ProcessGroupCommunicator::allgatherv(std::span<const void* const> in, std::span<const std::size_t> counts,
                                          DType type, void* out, bool, SizeScaling) {
  check_local(in.size(), "allgatherv");
  const std::size_t P = static_cast<std::size_t>(world_size()), es = dtype_size(type);
  if (counts.size() != P)
    throw std::invalid_argument("ProcessGroupCommunicator::allgatherv: expected " + std::to_string(P) +
                                " counts (one per rank), got " + std::to_string(counts.size()));
  std::vector<std::size_t> bytes(P);
  for (std::size_t r = 0; r < P; ++r) bytes[r] = counts[r] * es;
  const std::size_t mine = bytes[static_cast<std::size_t>(transport_.rank())];
  Timed t(calls_, "allgatherv", mine, type);
  transport_.allgatherv(in[0], bytes, out);
  t.call().wire_bytes = gather_wire(mine, world_size());
}

void ProcessGroupCommunicator::broadcast(std::span<const void* const> in, std::size_t count, DType type, int root,
                                         void* out, bool) {
  check_local(in.size(), "broadcast");
  if (root < 0 || root >= world_size())
    throw std::invalid_argument("ProcessGroupCommunicator::broadcast: root " + std::to_string(root) +
                                " is not a rank of " + std::to_string(world_size()));
  const std::size_t bytes = count * dtype_size(type);
  Timed t(calls_, "broadcast", bytes, type);
  if (transport_.rank() == root && bytes && out != in[0]) std::memcpy(out, in[0], bytes);
  transport_.broadcast(out, bytes, root);
  if (transport_.rank() == root) t.call().wire_bytes = gather_wire(bytes, world_size());
}

void ProcessGroupCommunicator::alltoallv(std::span<const void* const> in, std::span<const std::size_t> counts,
                                         DType type, std::span<void* const> out, bool, SizeScaling) {
  check_local(in.size(), "alltoallv");
  check_local(out.size(), "alltoallv(out)");
  const std::size_t P = static_cast<std::size_t>(world_size()), me = static_cast<std::size_t>(transport_.rank());
  const std::size_t es = dtype_size(type);
  if (counts.size() != P * P)
    throw std::invalid_argument("ProcessGroupCommunicator::alltoallv: expected a " + std::to_string(P) + " x " +
                                std::to_string(P) + " count matrix, got " + std::to_string(counts.size()) + " counts");
  std::vector<std::size_t> send(P), recv(P);
  std::size_t sent = 0;
  for (std::size_t d = 0; d < P; ++d) {
    send[d] = counts[me * P + d] * es;
    recv[d] = counts[d * P + me] * es;
    if (d != me) sent += send[d];
  }
  Timed t(calls_, "alltoallv", sent, type);
  transport_.alltoallv(in[0], send, out[0], recv);
  t.call().wire_bytes = sent;
}

void ProcessGroupCommunicator::record_kernel(const KernelRecord& k) {
  // The kernel has just ended (KernelTimer reports on destruction): its start is its duration ago.
  const double end = wall_clock_s();
  kernels_.push_back({k.name, end - k.duration_s, end});
}

std::vector<CollectiveCall> ProcessGroupCommunicator::take_calls() {
  std::vector<CollectiveCall> out;
  out.swap(calls_);
  return out;
}

std::vector<ProcessGroupCommunicator::KernelCall> ProcessGroupCommunicator::take_kernels() {
  std::vector<KernelCall> out;
  out.swap(kernels_);
  return out;
}

}  // namespace arcsim::kernels
