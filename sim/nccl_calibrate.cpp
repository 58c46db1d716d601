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

FitResult fit_constants(const std::vector<FitPoint>& pts) {
  FitResult f = pts.empty() ? FitResult{} : constants_of(pts.front().spec);
  bool multi = false, single = false;
  for (const auto& p : pts) {
    if (p.nodes > 1) multi = true;
    if (p.nodes == 1 && p.spec.gpus_per_node > 1) single = true;
  }
  f.nic_fitted = multi;
  f.intra_fitted = single;
  f.latency_fitted = !pts.empty();
  auto cost = [&](const FitResult& g) {
    double c = 0;
    for (const auto& p : pts) {
      const double t = predict_point(apply_fit(p.spec, g), p.op, p.nodes, p.bytes, nullptr, p.algorithm);
      const double e = std::log(t / p.measured_s);
      c += e * e;
    }
    return c;
  };
  // Coordinate descent, golden section on the log of each constant.
  struct Param { double* v; double lo, hi; bool on; };
  std::vector<Param> params = {{&f.nic_eff, kNicEffRange[0], kNicEffRange[1], f.nic_fitted},
                               {&f.latency_scale, kLatencyScaleRange[0], kLatencyScaleRange[1], f.latency_fitted},
                               {&f.intra_eff, kIntraEffRange[0], kIntraEffRange[1], f.intra_fitted}};
  // Rounds until no constant moves by more than 1e-4 (relative): usually 2-3 of at most 6.
  for (int round = 0; round < 6; ++round) {
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
      for (int it = 0; it < 30; ++it) {
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

}  // namespace arcsim::sim
