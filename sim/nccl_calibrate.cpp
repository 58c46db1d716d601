#include "sim/nccl_calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "sim/nccl_model.hpp"

namespace arcsim::sim {

FitResult constants_of(const topo::TopologySpec& s) {
  FitResult f;
  const auto y = nccl::system_of(topo::resolve(s, 1));
  f.nic_eff = y.nic_Bps / y.nic_line_Bps;
  f.intra_eff = y.intra_Bps / y.intra_line_Bps;
  f.latency_scale = s.latency_scale;
  return f;
}

topo::TopologySpec apply_fit(const topo::TopologySpec& spec, const FitResult& f) {
  topo::TopologySpec s = spec;
  s.nic_achievable_Bps = f.nic_eff * s.bandwidth_Bps;
  if (s.pcie_Bps > 0 && s.pcie_Bps < s.nic_achievable_Bps) s.pcie_Bps = 0;  // the fit already holds the cap
  if (s.gpus_per_node > 1) s.intra_achievable_Bps = f.intra_eff * s.intra_bandwidth_Bps;
  s.latency_scale = f.latency_scale;
  return s;
}

double predict_point(const topo::TopologySpec& spec, CollectiveOp op, int nodes, double bytes, std::string* label,
                     const std::string& algorithm) {
  topo::TopologySpec s = spec;
  s.fixed_nodes = 0;
  const auto r = topo::resolve(s, nodes);
  const auto y = nccl::system_of(r);
  // NCCL's choice (by its own nominal constants), then the time the simulation gives for it at the
  // site's constants.
  const auto c = nccl::choose(op, op == CollectiveOp::allreduce ? algorithm : "ring", "auto", bytes,
                              nccl::as_tuner_sees(y));
  if (label) *label = c.algorithm + "/" + nccl::proto_name(c.proto);
  return nccl::estimate(op, c.algorithm, c.proto, bytes, y);
}

namespace {

// One row of the fit: the system (spec and server count) it runs on, by index.
struct Row {
  int system = 0;
  CollectiveOp op = CollectiveOp::allreduce;
  double bytes = 0, log_measured = 0, weight = 1;
  const std::string* algorithm = nullptr;
};
struct SystemKey {
  const topo::TopologySpec* spec;
  int nodes;
};
constexpr int kRounds = 6, kSteps = 30;

FitResult fit(const std::vector<SystemKey>& systems, const std::vector<Row>& rows, FitResult f,
              const std::function<void(int, int)>& progress) {
  bool multi = false, single = false;
  for (const auto& s : systems) {
    if (s.nodes > 1) multi = true;
    if (s.nodes == 1 && s.spec->gpus_per_node > 1) single = true;
  }
  f.nic_fitted = multi;
  f.intra_fitted = single;
  f.latency_fitted = !rows.empty();
  const int most = kRounds * 3 * (kSteps + 2);
  int done = 0;
  std::vector<nccl::System> sys(systems.size()), tuner(systems.size());
  auto cost = [&](const FitResult& g) {
    // The topology at each server count once per evaluation; then the closed-form model per row.
    for (std::size_t i = 0; i < systems.size(); ++i) {
      topo::TopologySpec s = apply_fit(*systems[i].spec, g);
      s.fixed_nodes = 0;
      sys[i] = nccl::system_of(topo::resolve(s, systems[i].nodes));
      tuner[i] = nccl::as_tuner_sees(sys[i]);
    }
    double c = 0;
    for (const auto& r : rows) {
      const auto ch = nccl::choose(r.op, r.op == CollectiveOp::allreduce ? *r.algorithm : "ring", "auto", r.bytes,
                                   tuner[r.system]);
      const double t = nccl::estimate(r.op, ch.algorithm, ch.proto, r.bytes, sys[r.system]);
      const double e = std::log(t) - r.log_measured;
      c += r.weight * e * e;
    }
    if (progress) progress(++done, most);
    return c;
  };
  // Coordinate descent, golden section on the log of each constant.
  struct Param { double* v; double lo, hi; bool on; };
  std::vector<Param> params = {{&f.nic_eff, kNicEffRange[0], kNicEffRange[1], f.nic_fitted},
                               {&f.latency_scale, kLatencyScaleRange[0], kLatencyScaleRange[1], f.latency_fitted},
                               {&f.intra_eff, kIntraEffRange[0], kIntraEffRange[1], f.intra_fitted}};
  // Rounds until no constant moves by more than 1e-4 (relative): usually 2-3 of at most 6.
  for (int round = 0; round < kRounds; ++round) {
    double moved = 0;
    for (auto& p : params) {
      if (!p.on) continue;
      const double before = *p.v;
      double a = std::log(p.lo), b = std::log(p.hi);
      const double g = (std::sqrt(5.0) - 1) / 2;
      auto at = [&](double x) {
        *p.v = std::exp(x);
        return cost(f);
      };
      double x1 = b - g * (b - a), x2 = a + g * (b - a), f1 = at(x1), f2 = at(x2);
      // 30 golden-section steps shrink the bracket (at most a factor 400 wide) to 1e-6 of it.
      for (int it = 0; it < kSteps; ++it) {
        if (f1 < f2) b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a), f1 = at(x1);
        else a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a), f2 = at(x2);
      }
      *p.v = std::exp((a + b) / 2);
      moved = std::max(moved, std::abs(*p.v / before - 1));
    }
    if (moved < 1e-4) break;
  }
  f.nic_at_line_rate = f.nic_fitted && f.nic_eff > 0.995 * kNicEffRange[1];
  f.latency_at_edge = f.latency_fitted && (f.latency_scale < 1.2 * kLatencyScaleRange[0] ||
                                           f.latency_scale > 0.95 * kLatencyScaleRange[1]);
  return f;
}

}  // namespace

FitResult fit_constants(const std::vector<FitPoint>& pts) {
  if (pts.empty()) return FitResult{};
  // Points of the same spec (as written) and server count share one system.
  std::vector<SystemKey> systems;
  std::vector<std::string> texts;
  std::vector<Row> rows;
  for (const auto& p : pts) {
    const std::string text = topo::topology_to_json(p.spec).dump();
    std::size_t i = 0;
    while (i < systems.size() && !(systems[i].nodes == p.nodes && texts[i] == text)) ++i;
    if (i == systems.size()) {
      systems.push_back({&p.spec, p.nodes});
      texts.push_back(text);
    }
    rows.push_back({static_cast<int>(i), p.op, p.bytes, std::log(p.measured_s), 1.0, &p.algorithm});
  }
  return fit(systems, rows, constants_of(pts.front().spec), {});
}

FitResult fit_constants(const topo::TopologySpec& spec, const std::vector<FitRow>& in, const std::string& algorithm,
                        const std::function<void(int, int)>& progress) {
  if (in.empty()) return FitResult{};
  std::vector<SystemKey> systems;
  std::vector<Row> rows;
  rows.reserve(in.size());
  for (const auto& r : in) {
    std::size_t i = 0;
    while (i < systems.size() && systems[i].nodes != r.nodes) ++i;
    if (i == systems.size()) systems.push_back({&spec, r.nodes});
    rows.push_back({static_cast<int>(i), r.op, r.bytes, std::log(r.measured_s), r.weight, &algorithm});
  }
  return fit(systems, rows, constants_of(spec), progress);
}

}  // namespace arcsim::sim
