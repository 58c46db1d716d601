#include "sweep_run.hpp"

#include "experiments/fork_pool.hpp"

namespace arcsim::experiments {

using nlohmann::json;

IterationTimes simulate_with_simgrid(const sim::NetworkConfig& net, const sim::Plan& plan,
                                     const sim::ComputeProfile& compute, const sim::IterationOptions& options) {
  const sim::IterationBreakdown b = sim::simulate_iteration(net, plan, compute, options);
  IterationTimes t;
  t.total_s = b.total_s;
  t.compute_s = b.compute_s;
  t.compression_s = b.compression_s;
  t.exposed_comm_s = b.exposed_comm_s;
  t.comm_s = b.comm_s;
  t.bytes_per_node = b.bytes_per_node;
  t.algorithms_used = b.algorithms_used;
  t.ranks = b.ranks;
  return t;
}

void run_simulations(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans,
                     const std::vector<SimTask>& tasks, const SimulateFn& simulate, int jobs,
                     const std::function<void(std::size_t, const TaskResult&)>& on_done) {
  const SimulateFn sim_fn = simulate ? simulate : SimulateFn(simulate_with_simgrid);
  sim::IterationOptions io;
  if (spec.collectives == "blocking") io.blocking = true;
  if (spec.collectives == "async") io.blocking = false;

  std::vector<ForkTask> fork_tasks;
  for (const SimTask& task : tasks) {
    ForkTask ft;
    ft.id = task.id;
    ft.timeout_s = spec.point_timeout_s;
    ft.work = [&, io]() {
      sim::NetworkConfig net;
      net.topology = in.topology_args[task.net.topology];
      net.nodes = task.net.nodes;
      net.bandwidth_Bps = task.net.bandwidth_Bps;
      net.latency_s = task.net.latency_s;
      net.profile = task.net.profile;
      net.algorithm = spec.algorithm;
      net.channels = spec.nccl_channels;
      return to_json(sim_fn(net, plans.plans[task.plan].plan, in.compute, io)).dump();
    };
    fork_tasks.push_back(std::move(ft));
  }
  ForkOptions fo;
  fo.jobs = jobs > 0 ? jobs : default_jobs();
  run_forked(fork_tasks, fo, [&](const ForkOutcome& o) {
    TaskResult r;
    r.done = true;
    if (o.ok) {
      try {
        r.times = iteration_times_from_json(json::parse(o.output));
      } catch (const std::exception& e) {
        r.error = std::string("unreadable result from the simulation: ") + e.what();
      }
    } else {
      r.error = o.error;
    }
    on_done(o.task, r);
  });
}

}  // namespace arcsim::experiments
