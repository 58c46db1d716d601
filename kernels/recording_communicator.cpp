#include "kernels/recording_communicator.hpp"

#include <utility>

namespace arcsim::kernels {

plan::PlanOp to_plan_op(const PlanOp& op) {
  plan::PlanOp p;
  if (op.kind == PlanOp::Kind::kKernel) {
    p.kind = plan::OpKind::kernel;
    p.name = op.kernel.name;
    p.elements = static_cast<double>(op.kernel.elements);
    p.bytes_moved = static_cast<double>(op.kernel.bytes_moved);
    p.duration_s = op.kernel.duration_s;
    p.duration_source = op.kernel.duration_source;
    return p;
  }
  p.kind = plan::OpKind::collective;
  p.op = plan::parse_collective_op(op.op);
  p.bytes_per_rank = static_cast<double>(op.bytes_per_rank);
  for (std::size_t b : op.bytes_by_rank) p.bytes_by_rank.push_back(static_cast<double>(b));
  for (const auto& row : op.bytes_matrix) {
    std::vector<double> r;
    r.reserve(row.size());
    for (std::size_t b : row) r.push_back(static_cast<double>(b));
    p.bytes_matrix.push_back(std::move(r));
  }
  switch (op.scaling) {
    case SizeScaling::kPerRank: p.scaling = plan::SizeScaling::per_rank; break;
    case SizeScaling::kShare: p.scaling = plan::SizeScaling::share; break;
    case SizeScaling::kPerPair: p.scaling = plan::SizeScaling::per_pair; break;
  }
  p.dtype = dtype_name(op.dtype);
  p.blocking = op.blocking;
  return p;
}

nlohmann::json to_json(const PlanOp& op) { return plan::to_json(to_plan_op(op)); }

nlohmann::json ops_to_json(const std::vector<PlanOp>& ops) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& op : ops) a.push_back(to_json(op));
  return a;
}

void RecordingCommunicator::log_collective(const char* op, std::size_t bytes, DType type, bool blocking) {
  PlanOp p;
  p.kind = PlanOp::Kind::kCollective;
  p.op = op;
  p.bytes_per_rank = bytes;
  p.dtype = type;
  p.blocking = blocking;
  ops_.push_back(std::move(p));
}

void RecordingCommunicator::allreduce_sum(std::span<const float* const> in, std::size_t count, float* out,
                                          bool blocking, DType wire) {
  inner_.allreduce_sum(in, count, out, blocking, wire);
  log_collective("allreduce", count * dtype_size(wire), wire, blocking);
}

void RecordingCommunicator::allgather(std::span<const void* const> in, std::size_t count, DType type, void* out,
                                      bool blocking) {
  inner_.allgather(in, count, type, out, blocking);
  log_collective("allgather", count * dtype_size(type), type, blocking);
}

void RecordingCommunicator::allgatherv(std::span<const void* const> in, std::span<const std::size_t> counts,
                                       DType type, void* out, bool blocking, SizeScaling scaling) {
  inner_.allgatherv(in, counts, type, out, blocking, scaling);
  log_collective("allgatherv", counts.empty() ? 0 : counts[0] * dtype_size(type), type, blocking);
  ops_.back().scaling = scaling;
  for (std::size_t c : counts) ops_.back().bytes_by_rank.push_back(c * dtype_size(type));
}

void RecordingCommunicator::broadcast(std::span<const void* const> in, std::size_t count, DType type, int root,
                                      void* out, bool blocking) {
  inner_.broadcast(in, count, type, root, out, blocking);
  log_collective("broadcast", count * dtype_size(type), type, blocking);
}

void RecordingCommunicator::alltoallv(std::span<const void* const> in, std::span<const std::size_t> counts,
                                      DType type, std::span<void* const> out, bool blocking,
                                      SizeScaling scaling) {
  inner_.alltoallv(in, counts, type, out, blocking, scaling);
  const std::size_t W = static_cast<std::size_t>(world_size()), es = dtype_size(type);
  std::vector<std::vector<std::size_t>> m(W, std::vector<std::size_t>(W));
  for (std::size_t s = 0; s < W; ++s)
    for (std::size_t d = 0; d < W; ++d) m[s][d] = counts[s * W + d] * es;
  std::size_t sent0 = 0;
  for (std::size_t d = 1; d < W; ++d) sent0 += m[0][d];
  log_collective("alltoallv", sent0, type, blocking);
  ops_.back().bytes_matrix = std::move(m);
  ops_.back().scaling = scaling;
}

void RecordingCommunicator::record_kernel(const KernelRecord& k) {
  inner_.record_kernel(k);
  PlanOp p;
  p.kind = PlanOp::Kind::kKernel;
  p.kernel = k;
  ops_.push_back(std::move(p));
}

std::vector<PlanOp> RecordingCommunicator::take_ops() {
  std::vector<PlanOp> out;
  out.swap(ops_);
  return out;
}

KernelTimer::KernelTimer(Communicator& comm, Backend& backend, KernelId id, const KernelWork& work,
                         std::size_t repeats)
    : comm_(comm), backend_(&backend), repeats_(repeats == 0 ? 1 : repeats) {
  const KernelSpec& spec = kernel_spec(id);
  record_.name = spec.name;
  record_.elements = spec.elements(work);
  record_.bytes_moved = spec.bytes_moved(work);
  backend.timer_begin();
}

KernelTimer::KernelTimer(Communicator& comm, std::string name, std::size_t elements, std::size_t bytes_moved,
                         std::size_t repeats)
    : comm_(comm), repeats_(repeats == 0 ? 1 : repeats), start_(std::chrono::steady_clock::now()) {
  record_.name = std::move(name);
  record_.elements = elements;
  record_.bytes_moved = bytes_moved;
}

KernelTimer::~KernelTimer() {
  if (backend_) {
    record_.duration_s = backend_->timer_seconds() / static_cast<double>(repeats_);
    record_.duration_source = backend_->duration_source();
  } else {
    const auto end = std::chrono::steady_clock::now();
    record_.duration_s = std::chrono::duration<double>(end - start_).count() / static_cast<double>(repeats_);
    record_.duration_source = "measured-cpu";
  }
  comm_.record_kernel(record_);
}

}  // namespace arcsim::kernels
