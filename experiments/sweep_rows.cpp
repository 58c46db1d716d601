#include "sweep_rows.hpp"

#include <algorithm>

#include "common/format.hpp"
#include "experiments/bits.hpp"
#include "experiments/convergence.hpp"
#include "experiments/stats.hpp"
#include "experiments/tta.hpp"

namespace arcsim::experiments {

ResultRow pending_row(const ExperimentSpec& spec, const SweepInputs& in, const PointWork& w, const ConfigPlans& cp) {
  const Point& p = w.point;
  ResultRow r;
  r.point = p.index;
  r.key = w.key;
  r.compressor = cp.cfg->to_json();
  r.nodes = p.net.nodes;
  r.bandwidth_Bps = p.net.bandwidth_Bps;
  r.latency_s = p.net.latency_s;
  r.topology = spec.topologies[p.net.topology].name;
  r.transport = in.topology_transports[p.net.topology];
  r.profile = p.net.profile;
  r.algorithm = spec.algorithm;
  r.collectives = spec.collectives;
  r.kernel_timing = in.timing_source;
  r.relative_error = cp.relative_error;
  r.retained_energy = cp.retained_energy;
  return r;
}

void assemble_reused(ResultRow& r, const ResultRow& previous, const ConfigPlans& cp, const std::optional<Target>& target) {
  r.shapes = previous.shapes;
  r.steady = previous.steady;
  r.status = previous.status;
  r.error = previous.error;
  fill_convergence(r, cp, target);
}

void assemble_simulated(ResultRow& r, const PointWork& w, const ConfigPlans& cp, const std::vector<TaskResult>& results,
                        const std::optional<Target>& target) {
  std::string error;
  for (std::size_t s = 0; s < w.shape_tasks.size() && error.empty(); ++s)
    for (auto ti : w.shape_tasks[s])
      if (!results[ti].times) {
        error = cp.schedule.shapes[s].id + " iteration: " + results[ti].error;
        break;
      }
  if (!error.empty()) {
    r.status = status_name(RowStatus::failed);
    r.error = error;
  } else {
    r.status = status_name(RowStatus::ok);
    r.shapes.clear();
    for (std::size_t s = 0; s < w.shape_tasks.size(); ++s) {
      std::vector<IterationTimes> v;
      for (auto ti : w.shape_tasks[s]) v.push_back(*results[ti].times);
      const Shape& sh = cp.schedule.shapes[s];
      ShapeResult sr;
      sr.id = sh.id;
      sr.kind = sh.kind;
      sr.ratio = sh.ratio;
      for (const auto& seg : cp.schedule.segments)
        if (seg.shape == s) {
          sr.first_step = seg.first;
          sr.last_step = seg.last;
        }
      sr.times = mean_times(v);
      r.shapes.push_back(sr);
      if (sh.kind == "steady") r.steady = sr.times;
    }
  }
  fill_convergence(r, cp, target);
}

IterationTimes mean_times(const std::vector<IterationTimes>& v) {
  IterationTimes m;
  for (const auto& t : v) {
    m.total_s += t.total_s;
    m.compute_s += t.compute_s;
    m.compression_s += t.compression_s;
    m.exposed_comm_s += t.exposed_comm_s;
    m.comm_s += t.comm_s;
    m.bytes_per_node += t.bytes_per_node;
  }
  const double n = static_cast<double>(v.size());
  m.total_s /= n;
  m.compute_s /= n;
  m.compression_s /= n;
  m.exposed_comm_s /= n;
  m.comm_s /= n;
  m.bytes_per_node /= n;
  if (!v.empty()) m.algorithms_used = v.front().algorithms_used;  // samples share the plan's shape
  if (!v.empty()) m.ranks = v.front().ranks;
  return m;
}

namespace {

// Per shape, the authors' bits of one step at the row's ranks (mean over the steady samples).
void fill_shape_bits(ResultRow& r, const ConfigPlans& cp) {
  r.bits_per_step_authors.reset();
  r.ef21_init_step = 0;
  r.ef21_init_bits_authors = 0;
  if (r.status != "ok" || r.shapes.size() != cp.shape_traffic.size()) return;
  const int ranks = row_ranks(r);
  if (const auto init = ef21_init_authors_bits(*cp.cfg, cp.elements, ranks)) {
    r.ef21_init_step = init->step;
    r.ef21_init_bits_authors = init->value;
  }
  for (std::size_t s = 0; s < r.shapes.size(); ++s) {
    double sum = 0;
    for (const auto& t : cp.shape_traffic[s]) sum += authors_bits(t, ranks);
    r.shapes[s].bits_authors = cp.shape_traffic[s].empty() ? 0 : sum / static_cast<double>(cp.shape_traffic[s].size());
    if (r.shapes[s].kind == "steady") r.bits_per_step_authors = r.shapes[s].bits_authors;
  }
}

// Per seed and as the mean over seeds: what steps 1..steps_to_target send, in both conventions.
void fill_bits_to_target(ResultRow& r) {
  r.bits_to_target_authors.reset();
  r.bytes_per_node_to_target.reset();
  if (!r.tta_s || r.seed_tta.empty() || !r.bits_per_step_authors) return;
  StepSchedule sched;
  std::vector<double> bytes, bits;
  for (const auto& s : r.shapes) {
    sched.shapes.push_back({s.id, s.kind, s.ratio});
    sched.segments.push_back({s.first_step, s.last_step, sched.shapes.size() - 1});
    bytes.push_back(s.times.bytes_per_node);
    bits.push_back(s.bits_authors);
  }
  std::optional<StepOverride> init;
  if (r.ef21_init_step > 0) init = StepOverride{r.ef21_init_step, r.ef21_init_bits_authors};
  std::vector<TimeSample> bits_s, bytes_s;
  for (auto& s : r.seed_tta) {
    s.bits_authors = cumulative_for_steps(sched, bits, s.steps, init);
    s.bytes_per_node = cumulative_for_steps(sched, bytes, s.steps);
    if (s.bits_authors > 0) bits_s.push_back({s.bits_authors, s.reached});
    if (s.bytes_per_node > 0) bytes_s.push_back({s.bytes_per_node, s.reached});
  }
  // The same estimator as tta_s (misses censored at their budget), so the columns agree.
  if (bits_s.size() == r.seed_tta.size())
    if (const auto e = lognormal_time(bits_s)) r.bits_to_target_authors = e->center;
  if (bytes_s.size() == r.seed_tta.size())
    if (const auto e = lognormal_time(bytes_s)) r.bytes_per_node_to_target = e->center;
}

}  // namespace

void fill_convergence(ResultRow& r, const ConfigPlans& cp, const std::optional<Target>& spec_target) {
  fill_shape_bits(r, cp);
  fill_row_convergence(r, cp.logs, cp.no_log_note, spec_target);  // per seed, across N (convergence.hpp)
  fill_bits_to_target(r);
}

}  // namespace arcsim::experiments
