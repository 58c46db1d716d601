#include "sim/gloo_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace arcsim::sim::gloo {

// The shipped testbed's fit at 2 ranks and 100 Mbit/s, the cluster whose links (not the shared
// CPU) bound its transfers (bench/results/testbed/star/gloo_fits.csv, docs/testbed.md section 4).
const Costs kDefault{74e-6, 162e-6, {0.71, 0.49, 0.855}, 0};

Costs costs_of(const topo::TopologySpec& s) {
  Costs c = kDefault;
  if (s.gloo_call_s > 0) c.call_s = s.gloo_call_s;
  if (s.gloo_message_s > 0) c.message_s = s.gloo_message_s;
  for (int i = 0; i < kPatterns; ++i)
    if (s.gloo_efficiency[i] > 0) c.efficiency[i] = s.gloo_efficiency[i];
  c.burst_bytes = s.gloo_burst_bytes;
  return c;
}

namespace {
constexpr std::array<const char*, 4> kBenchOps = {"allreduce", "allgather", "alltoall", "broadcast"};
constexpr double kSegmentBytes = 1 << 20;  // gloo/allreduce.cc: kMaxSegmentSize
int ceil_lg(int p) {
  int r = 0;
  while ((1 << r) < p) ++r;
  return r;
}
// Segments per ring step of gloo's all-reduce of `bytes` at p ranks (its messages per step):
// K = roundUp(max(ceil(n / 1 MiB), 2p), p) segments, K / p of them per step.
int ring_segments_per_step(int p, double bytes) {
  const int need = std::max(static_cast<int>(std::ceil(bytes / kSegmentBytes)), 2 * p);
  return (need + p - 1) / p;
}
}  // namespace

Call parse_bench_op(const std::string& name) {
  for (std::size_t i = 0; i < kBenchOps.size(); ++i)
    if (name == kBenchOps[i]) return static_cast<Call>(i);
  throw std::invalid_argument("op: expected allreduce|allgather|alltoall|broadcast, got \"" + name + "\"");
}

const char* bench_op_name(Call c) { return kBenchOps[static_cast<std::size_t>(c)]; }

Pattern pattern_of(Call c) {
  switch (c) {
    case Call::ring_allreduce:
    case Call::ring_allgather: return Pattern::ring;
    case Call::direct_alltoall: return Pattern::direct;
    case Call::binomial_broadcast: return Pattern::binomial;
  }
  return Pattern::ring;
}

Part part(Call c, int p, double bytes) {
  const double q = p - 1;
  switch (c) {
    case Call::ring_allreduce: return {c, 2 * q, static_cast<double>(ring_segments_per_step(p, bytes)), bytes / p};
    case Call::ring_allgather: return {c, q, 2, bytes};  // each block in two halves
    case Call::direct_alltoall: return {c, 1, q, q * bytes};
    case Call::binomial_broadcast: return {c, static_cast<double>(ceil_lg(p)), 1, bytes};
  }
  return {c};
}

std::vector<Part> plan_parts(CollectiveOp op, const std::string& algorithm, int p, double bytes) {
  switch (op) {
    case CollectiveOp::allreduce:
      if (algorithm == "ring") return {part(Call::ring_allreduce, p, bytes)};
      return {part(Call::direct_alltoall, p, bytes / p), part(Call::ring_allgather, p, bytes / p)};
    case CollectiveOp::allgather: return {part(Call::ring_allgather, p, bytes)};
    case CollectiveOp::allgatherv: return {part(Call::direct_alltoall, p, bytes)};
    case CollectiveOp::reduce_scatter: return {part(Call::direct_alltoall, p, bytes / p)};
    case CollectiveOp::alltoallv: return {part(Call::direct_alltoall, p, bytes / std::max(1, p - 1))};
    case CollectiveOp::broadcast: return {part(Call::binomial_broadcast, p, bytes)};
  }
  return {};
}

double seconds(const Part& t, const Costs& c, double latency_s, double bandwidth_Bps) {
  if (t.steps <= 0) return c.call_s;
  const double Bps = bandwidth_Bps * c.efficiency_of(pattern_of(t.call)), own = t.messages_per_step * c.message_s;
  const double first = latency_s + std::max(0.0, t.bytes_per_step - c.burst_bytes) / Bps;
  const double next = latency_s + t.bytes_per_step / Bps;
  return c.call_s + std::max(own, first) + (t.steps - 1) * std::max(own, next);
}

double seconds(const std::vector<Part>& parts, const Costs& c, double latency_s, double bandwidth_Bps) {
  double s = 0;
  for (const auto& t : parts) s += seconds(t, c, latency_s, bandwidth_Bps);
  return s;
}

Costs fit(const std::vector<Sample>& samples, int p, double latency_s, double bandwidth_Bps, double burst_bytes) {
  if (samples.size() < 3)
    throw std::invalid_argument("gloo fit: expected at least 3 benchmark points, got " + std::to_string(samples.size()));
  for (const auto& s : samples)
    if (!(s.seconds > 0) || !std::isfinite(s.seconds))
      throw std::invalid_argument("gloo fit: expected positive finite times, got " + std::to_string(s.seconds));
  // The model is not linear (a step's max), but it has 5 constants and the benchmark a few dozen
  // points: a grid over message_s, and for each, coordinate descent over the call cost (least
  // squares, in closed form) and each pattern's efficiency (a grid: its points only).
  auto sse = [&](const Costs& c) {
    double e = 0;
    for (const auto& s : samples) {
      const double r = seconds(part(s.call, p, s.bytes), c, latency_s, bandwidth_Bps) / s.seconds - 1;
      e += r * r;
    }
    return e;
  };
  bool has[kPatterns] = {false, false, false};
  for (const auto& s : samples) has[static_cast<int>(pattern_of(s.call))] = true;
  Costs start = kDefault;
  start.burst_bytes = burst_bytes;
  Costs best = start;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int m = -1; m < 240; ++m) {
    Costs c = start;
    c.message_s = m < 0 ? 0 : 1e-7 * std::pow(10.0, m / 48.0);  // 0.1 us .. 10 ms
    for (int round = 0; round < 4; ++round) {
      for (int k = 0; k < kPatterns; ++k) {
        if (!has[k]) continue;
        double keep = c.efficiency[k], keep_sse = std::numeric_limits<double>::infinity();
        for (int e = 10; e <= 200; ++e) {
          c.efficiency[k] = e / 200.0;
          double err = 0;  // this pattern's points only: the others do not depend on it
          for (const auto& s : samples) {
            if (static_cast<int>(pattern_of(s.call)) != k) continue;
            const double r = seconds(part(s.call, p, s.bytes), c, latency_s, bandwidth_Bps) / s.seconds - 1;
            err += r * r;
          }
          if (err < keep_sse) keep_sse = err, keep = c.efficiency[k];
        }
        c.efficiency[k] = keep;
      }
      // call_s: minimise sum ((call + rest_i) / t_i - 1)^2, rest_i the time without it.
      double num = 0, den = 0;
      for (const auto& s : samples) {
        Costs no_call = c;
        no_call.call_s = 0;
        const double rest = seconds(part(s.call, p, s.bytes), no_call, latency_s, bandwidth_Bps);
        num += (1 - rest / s.seconds) / s.seconds;
        den += 1 / (s.seconds * s.seconds);
      }
      c.call_s = std::max(0.0, num / den);
    }
    if (const double e = sse(c); e < best_sse) best_sse = e, best = c;
  }
  return best;
}

Pipeline pipeline(Call c, const Costs& costs, int p, double bytes) {
  const Part t = part(c, p, bytes);
  Pipeline pipe;
  pipe.wire_factor = 1.0 / costs.efficiency_of(pattern_of(c));
  pipe.start_latency_s = costs.call_s;
  pipe.step_overhead_s = costs.message_s * t.messages_per_step;
  pipe.overlap_overhead = true;
  pipe.first_step_free_bytes = costs.burst_bytes;
  pipe.protocol = "tcp";
  return pipe;
}

}  // namespace arcsim::sim::gloo
