#include "sweep_rows.hpp"

#include <algorithm>

#include "common/format.hpp"
#include "experiments/convergence.hpp"
#include "experiments/tta.hpp"

namespace arcsim::experiments {

ResultRow pending_row(const ExperimentSpec& spec, const PointWork& w, const ConfigPlans& cp,
                      const std::string& timing_source) {
  const Point& p = w.point;
  ResultRow r;
  r.point = p.index;
  r.key = w.key;
  r.compressor = cp.cfg->to_json();
  r.nodes = p.net.nodes;
  r.bandwidth_Bps = p.net.bandwidth_Bps;
  r.latency_s = p.net.latency_s;
  r.topology = spec.topologies[p.net.topology].name;
  r.profile = p.net.profile;
  r.algorithm = spec.algorithm;
  r.collectives = spec.collectives;
  r.kernel_timing = timing_source;
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
  return m;
}

void fill_convergence(ResultRow& r, const ConfigPlans& cp, const std::optional<Target>& spec_target) {
  fill_row_convergence(r, cp.logs, cp.no_log_note, spec_target);  // per seed, across N (convergence.hpp)
}

}  // namespace arcsim::experiments
