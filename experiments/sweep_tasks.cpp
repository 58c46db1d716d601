#include "sweep_tasks.hpp"

#include <cstdio>

#include "arcsim/version.hpp"
#include "experiments/replay.hpp"

namespace arcsim::experiments {

using nlohmann::json;

namespace {

std::string network_key(const NetworkPoint& n) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d|%a|%a|%zu|", n.nodes, n.bandwidth_Bps, n.latency_s, n.topology);
  return buf + n.profile;
}

}  // namespace

std::vector<PointWork> plan_points(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans) {
  std::vector<PointWork> out;
  for (const Point& p : expand_points(spec)) {
    const ConfigPlans& cp = plans.configs[p.compressor];
    json plan_hashes = json::array();
    for (const auto& ids : cp.shape_plans) {
      json h = json::array();
      for (auto id : ids) h.push_back(plans.plans[id].hash);
      plan_hashes.push_back(h);
    }
    const json key_doc = {{"compressor", cp.cfg->to_json()},
                          {"nodes", p.net.nodes},
                          {"bandwidth_Bps", p.net.bandwidth_Bps},
                          {"latency_s", p.net.latency_s},
                          {"topology", spec.topologies[p.net.topology].spec},
                          {"profile", p.net.profile},
                          {"algorithm", spec.algorithm},
                          {"collectives", spec.collectives},
                          {"plans", plan_hashes},
                          {"trace", in.trace_checksum},
                          {"compute", in.compute_source},
                          {"commit", kGitCommit}};
    PointWork w;
    w.point = p;
    w.key = fnv_hex(key_doc.dump());
    w.net_key = network_key(p.net);
    out.push_back(std::move(w));
  }
  return out;
}

TaskPlan plan_tasks(std::vector<PointWork> points, const PlanSet& plans,
                    const std::map<std::string, ResultRow>& previous) {
  TaskPlan tp;
  tp.points = std::move(points);
  tp.reuse.assign(tp.points.size(), nullptr);
  std::map<std::string, std::size_t> task_by_id;
  for (std::size_t pi = 0; pi < tp.points.size(); ++pi) {
    PointWork& w = tp.points[pi];
    w.shape_tasks.clear();
    if (auto it = previous.find(w.key); it != previous.end()) {
      tp.reuse[pi] = &it->second;
      ++tp.reused;
      continue;
    }
    for (const auto& ids : plans.configs[w.point.compressor].shape_plans) {
      std::vector<std::size_t> ts;
      for (auto id : ids) {
        const std::string tid = w.net_key + "#" + plans.plans[id].hash;
        auto it = task_by_id.find(tid);
        if (it == task_by_id.end()) {
          SimTask t;
          t.id = tid;
          t.net = w.point.net;
          t.plan = id;
          it = task_by_id.emplace(tid, tp.tasks.size()).first;
          tp.tasks.push_back(std::move(t));
        }
        tp.tasks[it->second].points.push_back(pi);
        ts.push_back(it->second);
      }
      w.shape_tasks.push_back(ts);
    }
  }
  return tp;
}

std::vector<std::size_t> points_completed_by(const TaskPlan& plan, std::size_t task, const std::vector<bool>& done) {
  std::vector<std::size_t> out;
  for (std::size_t pi : plan.tasks[task].points) {
    if (!out.empty() && out.back() == pi) continue;  // a point listing the task twice (two shapes)
    bool all = true;
    for (const auto& ts : plan.points[pi].shape_tasks)
      for (auto ti : ts) all = all && done[ti];
    if (all) out.push_back(pi);
  }
  return out;
}

}  // namespace arcsim::experiments
