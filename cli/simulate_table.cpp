#include "simulate_table.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "experiments/fork_pool.hpp"
#include "sim/collective.hpp"
#include "sim/setup.hpp"

namespace arcsim::cli {

double busbw_factor(sim::CollectiveOp op, int n) {
  switch (op) {
    case sim::CollectiveOp::allreduce: return 2.0 * (n - 1) / n;
    case sim::CollectiveOp::allgather:
    case sim::CollectiveOp::allgatherv:
    case sim::CollectiveOp::reduce_scatter: return (n - 1.0) / n;
    case sim::CollectiveOp::broadcast:
    case sim::CollectiveOp::alltoallv: return 1.0;  // not a table collective: it needs a plan's per-rank sizes
  }
  return 1.0;
}

std::vector<double> table_sizes(sim::CollectiveOp op, double lo, double hi, double f, int ranks) {
  if (!(lo > 0)) throw std::invalid_argument("--min-bytes: expected a positive size");
  if (!(hi >= lo)) throw std::invalid_argument("--max-bytes: expected a size >= --min-bytes");
  if (!(f > 1)) throw std::invalid_argument("--step-factor: expected a number > 1");
  std::vector<double> out;
  const bool per_rank = op == sim::CollectiveOp::allgather || op == sim::CollectiveOp::reduce_scatter;
  const double unit = per_rank ? 4.0 * ranks : 4.0;
  for (double s = lo; s <= hi * (1 + 1e-12) && out.size() < 200; s *= f) {
    const double b = std::floor(s / unit) * unit;
    if (b > 0) out.push_back(b);
  }
  return out;
}

int simulate_table(const sim::NetworkConfig& net, sim::CollectiveOp op, double lo, double hi, double f,
                   bool json) {
  const auto topo = sim::check_network(net);  // bad input: one line, before any child runs
  const int n = topo.ranks;
  const auto sizes = table_sizes(op, lo, hi, f, n);
  std::vector<experiments::ForkTask> tasks;
  for (double b : sizes)
    tasks.push_back({"size " + std::to_string(static_cast<long long>(b)), [net, op, b] {
                       return sim::to_json(sim::simulate_collective(net, op, b)).dump();
                     }});
  std::vector<TableRow> rows(sizes.size());
  std::string failure;
  experiments::run_forked(tasks, {experiments::default_jobs()}, [&](const experiments::ForkOutcome& o) {
    if (!o.ok) {
      if (failure.empty()) failure = tasks[o.task].id + ": " + o.error;
      return;
    }
    const auto j = nlohmann::json::parse(o.output);
    TableRow& r = rows[o.task];
    r.bytes = sizes[o.task];
    const double t = j.at("simulated_s").get<double>();
    r.time_us = t * 1e6;
    r.algbw_GBps = t > 0 ? r.bytes / t / 1e9 : 0;
    r.busbw_GBps = r.algbw_GBps * busbw_factor(op, n);
    r.algorithm = j.at("algorithm").get<std::string>();
    r.protocol = j.at("protocol").get<std::string>();
  });
  if (!failure.empty()) throw std::runtime_error(failure);
  if (json) {
    nlohmann::json out;
    out["collective"] = sim::to_string(op);
    out["topology"] = topo.spec.name;
    out["nodes"] = topo.hosts;
    out["transport"] = topo.transport;
    out["ranks"] = n;
    out["profile"] = net.profile;
    out["busbw_factor"] = busbw_factor(op, n);
    out["rows"] = nlohmann::json::array();
    for (const auto& r : rows)
      out["rows"].push_back({{"bytes", r.bytes}, {"time_us", r.time_us}, {"algbw_GBps", r.algbw_GBps},
                             {"busbw_GBps", r.busbw_GBps}, {"algorithm", r.algorithm}, {"protocol", r.protocol}});
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::printf("# arcsim simulate: %s on %s, %d nodes, %d ranks, transport %s, profile %s (simulated, not measured)\n",
              sim::to_string(op), topo.spec.name.c_str(), topo.hosts, n, topo.transport.c_str(), net.profile.c_str());
  std::printf("# algbw = bytes / time; busbw = algbw x %.6g (nccl-tests' definition)\n", busbw_factor(op, n));
  std::printf("#%15s %12s %12s %12s  %-10s %s\n", "bytes", "time_us", "algbw_GBps", "busbw_GBps", "algorithm",
              "protocol");
  for (const auto& r : rows)
    std::printf("%16.0f %12.2f %12.2f %12.2f  %-10s %s\n", r.bytes, r.time_us, r.algbw_GBps, r.busbw_GBps,
                r.algorithm.c_str(), r.protocol.c_str());
  return 0;
}

}  // namespace arcsim::cli
