#include "bits.hpp"

#include <cmath>
#include <stdexcept>

#include "kernels/error_feedback.hpp"
#include "sim/collective.hpp"

namespace arcsim::experiments {

PlanTraffic plan_traffic(const sim::Plan& plan, const std::string& file) {
  PlanTraffic t;
  for (const auto& b : plan.buckets) {
    t.elements += b.elements;
    for (std::size_t i = 0; i < b.ops.size(); ++i) {
      const sim::PlanOp& op = b.ops[i];
      if (op.kind != sim::OpKind::collective) continue;
      switch (op.op) {
        case sim::CollectiveOp::allreduce: t.allreduce += op.bytes_per_rank; continue;
        case sim::CollectiveOp::allgather: t.allgather += op.bytes_per_rank; continue;
        case sim::CollectiveOp::reduce_scatter: t.reduce_scatter += op.bytes_per_rank; continue;
        case sim::CollectiveOp::broadcast: t.broadcast += op.bytes_per_rank; continue;
        case sim::CollectiveOp::allgatherv:
          if (op.bytes_by_rank.empty())
            throw std::runtime_error(file + ": buckets[" + std::to_string(b.bucket) + "].ops[" + std::to_string(i) +
                                     "]: allgatherv without bytes_by_rank: its bits cannot be counted");
          t.allgatherv.push_back({op.bytes_by_rank, {}, op.scaling});
          continue;
        case sim::CollectiveOp::alltoallv:
          if (op.bytes_matrix.empty())
            throw std::runtime_error(file + ": buckets[" + std::to_string(b.bucket) + "].ops[" + std::to_string(i) +
                                     "]: alltoallv without bytes_matrix: its bits cannot be counted");
          t.alltoallv.push_back({{}, op.bytes_matrix, op.scaling});
          continue;
      }
      // No default above: a new op makes the compiler warn here, and a plan holding one stops the
      // sweep instead of giving a bit count that left it out.
      throw std::runtime_error(file + ": buckets[" + std::to_string(b.bucket) + "].ops[" + std::to_string(i) +
                               "]: collective '" + sim::to_string(op.op) +
                               "' has no rule in the bits counter (experiments/bits.cpp counts allreduce, "
                               "allgather, allgatherv, reduce_scatter, broadcast, alltoallv); not implemented");
    }
  }
  return t;
}

double authors_bits(const PlanTraffic& t, int ranks) {
  if (ranks < 1) throw std::invalid_argument("authors_bits: ranks must be >= 1");
  const double N = ranks;
  double bytes = 2 * (N - 1) * t.allreduce + N * (N - 1) * t.allgather + (N - 1) * (t.reduce_scatter + t.broadcast);
  for (const auto& v : t.allgatherv) {
    // The simulator's extension to N ranks: blocks cycled; shares of a fixed total rescaled by W/N.
    const std::size_t W = v.by_rank.size();
    const bool share = v.scaling == sim::SizeScaling::share && W != static_cast<std::size_t>(ranks);
    double sum = 0;
    for (int r = 0; r < ranks; ++r) {
      const double b = v.by_rank[static_cast<std::size_t>(r) % W];
      sum += share ? std::round(b * static_cast<double>(W) / N) : b;
    }
    bytes += (N - 1) * sum;
  }
  for (const auto& v : t.alltoallv) {
    sim::CollectiveCall call;
    call.op = sim::CollectiveOp::alltoallv;
    call.matrix = v.matrix;
    call.scaling = v.scaling;
    for (const auto& row : sim::alltoallv_matrix(call, ranks))
      for (double x : row) bytes += x;
  }
  return 8 * bytes;
}

std::optional<StepOverride> ef21_init_authors_bits(const CompressorConfig& c, double elements, int ranks) {
  if (c.name == "dense" || !kernels::is_ef21_family(c.ef)) return std::nullopt;
  if (c.options.ef21_init != "dense") return std::nullopt;  // zero: the first call is compressed
  StepOverride o;
  o.step = c.warmup + 1;
  if (c.name == "arctopk") o.value = 32 * elements;
  else if (c.name == "topk" || c.name == "randk") o.value = 0;
  else o.value = 2.0 * (ranks - 1) * 32 * elements;
  return o;
}

namespace {

double value_at(const StepSchedule& s, const std::vector<double>& per_shape, std::int64_t step) {
  for (const auto& seg : s.segments)
    if (step >= seg.first && (seg.last < 0 || step <= seg.last)) return per_shape[seg.shape];
  return 0;
}

double whole_steps(const StepSchedule& s, const std::vector<double>& per_shape, std::int64_t n,
                   const std::optional<StepOverride>& o) {
  double total = time_for_steps(s, per_shape, n);
  if (o && n >= o->step && o->step >= 1) total += o->value - value_at(s, per_shape, o->step);
  return total;
}

}  // namespace

double cumulative_for_steps(const StepSchedule& schedule, const std::vector<double>& per_shape, double steps,
                            const std::optional<StepOverride>& override) {
  if (!(steps > 0)) return 0;
  const double whole = std::floor(steps);
  const auto n = static_cast<std::int64_t>(whole);
  const double frac = steps - whole;
  double v = whole_steps(schedule, per_shape, n, override);
  if (frac > 0) v += frac * (whole_steps(schedule, per_shape, n + 1, override) - v);
  return v;
}

}  // namespace arcsim::experiments
