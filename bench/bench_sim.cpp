// Simulator speed: one training iteration with 100 DDP buckets of ring all-reduce (25 MiB each,
// asynchronous, ideal profile, star), at 8, 64 and 256 nodes. Every point runs in a forked child
// (one SimGrid Engine per process) that reports wall time, simulated messages and its peak RSS.
// Baseline for the ratio: SimGrid's raw message rate measured in the same run (two actors
// exchanging put_async/get over one link, no collective logic).
//
//   build-h3/bench/bench_sim [--nodes 8,64,256] [--buckets 100] [--json]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/iteration.hpp"
#include "sim/profile.hpp"
#include "common/forked.hpp"
#include "topologies/builder.hpp"

namespace sg4 = simgrid::s4u;
using namespace arcsim::sim;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

struct Net { std::string topology = "star", profile = "ideal", algorithm = "ring", fidelity = "flow"; };

std::vector<double> iteration_point(int nodes, int buckets, const Net& n = {}) {
  return arcsim::testing::forked([=] {
    ComputeProfile c;
    c.forward_s = 0.05;
    c.optimizer_s = 0.005;
    Plan p;
    p.world_size = nodes;
    for (int b = 0; b < buckets; ++b) {
      c.layers.push_back({"l" + std::to_string(b), {"l" + std::to_string(b) + ".w"}, 0.0005, 0.001, std::nullopt});
      PlanBucket bk;
      bk.bucket = b;
      bk.tensors = {"l" + std::to_string(buckets - 1 - b) + ".w"};
      PlanOp op;
      op.kind = OpKind::collective;
      op.op = CollectiveOp::allreduce;
      op.bytes_per_rank = 25 << 20;
      op.blocking = false;
      bk.ops.push_back(op);
      p.buckets.push_back(bk);
    }
    const double t0 = now(), c0 = cpu_s();
    NetworkConfig net{n.topology, nodes, n.topology == "star" ? 12.5e9 : 0, n.topology == "star" ? 5e-6 : -1,
                      n.profile, n.algorithm};
    net.fidelity = n.fidelity;
    const auto r = simulate_iteration(net, p, c, {});
    const double wall = now() - t0, cpu = cpu_s() - c0;
    return std::vector<double>{wall, r.messages, peak_rss_mb(), r.total_s, cpu};
  });
}

// Raw SimGrid: two actors, `n` put_async/get pairs of 1 KB over one star link.
std::vector<double> baseline(int n) {
  return arcsim::testing::forked([=] {
    create_engine(ProfileKind::ideal);
    const auto plat = arcsim::topo::build_platform(arcsim::topo::resolve(arcsim::topo::load_topology("star"), 2));
    auto* mb = sg4::Mailbox::by_name("raw");
    static int payload = 0;
    sg4::Actor::create("tx", plat.ranks[0], [=] {
      for (int i = 0; i < n; ++i) mb->put_async(&payload, 1000)->wait();
    });
    sg4::Actor::create("rx", plat.ranks[1], [=] {
      for (int i = 0; i < n; ++i) mb->get<int>();
    });
    const double t0 = now();
    sg4::Engine::get_instance()->run();
    return std::vector<double>{now() - t0, static_cast<double>(n)};
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> nodes = {8, 64, 256};
  int buckets = 100;
  bool json = false, gpu = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--gpu-nodes")) {
      gpu = true;
      continue;
    }
    if (!std::strcmp(argv[i], "--nodes") && i + 1 < argc) {
      nodes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) nodes.push_back(std::stoi(t));
    } else if (!std::strcmp(argv[i], "--buckets") && i + 1 < argc) {
      buckets = std::stoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--json")) {
      json = true;
    } else {
      std::fprintf(stderr, "usage: bench_sim [--nodes 8,64,256] [--buckets 100] [--json] [--gpu-nodes]\n");
      return 2;
    }
  }
  if (gpu) {
    // Multi-GPU nodes (dgx-a100, 8 GPUs per node): the nccl profile's flow level against its
    // message level where both run (8 nodes), and the 512-GPU iteration (64 nodes).
    struct Point { int nodes; Net net; };
    const Point pts[] = {{8, {"dgx-a100", "nccl", "ring", "message"}}, {8, {"dgx-a100", "nccl", "ring", "flow"}},
                         {8, {"dgx-a100", "nccl", "auto", "flow"}},   {8, {"dgx-a100", "ideal", "hier-ring", "flow"}},
                         {64, {"dgx-a100", "nccl", "ring", "flow"}},  {64, {"dgx-a100", "nccl", "auto", "flow"}},
                         {64, {"dgx-a100", "ideal", "hier-ring", "flow"}}};
    std::printf("%6s %6s %8s %-7s %-10s %-8s %12s %9s %9s %9s %12s\n", "nodes", "ranks", "buckets", "profile",
                "algorithm", "fidelity", "messages", "wall_s", "cpu_s", "rss_MB", "simulated_s");
    for (const auto& pt : pts) {
      // The message level moves every chunk (~130k messages per 25 MiB bucket at 64 ranks): 5 buckets.
      const int nb = pt.net.fidelity == "message" ? std::min(buckets, 5) : buckets;
      const auto v = iteration_point(pt.nodes, nb, pt.net);
      std::printf("%6d %6d %8d %-7s %-10s %-8s %12.0f %9.3f %9.3f %9.1f %12.6f\n", pt.nodes, pt.nodes * 8, nb,
                  pt.net.profile.c_str(), pt.net.algorithm.c_str(), pt.net.fidelity.c_str(), v[1], v[0], v[4], v[2],
                  v[3]);
      std::fflush(stdout);
    }
    return 0;
  }
  const auto base = baseline(200000);
  const double base_rate = base[1] / base[0];
  if (!json) {
    std::printf("baseline: raw SimGrid put/get, %.0f messages in %.3f s = %.0f msg/s\n", base[1], base[0], base_rate);
    std::printf("%6s %8s %12s %9s %9s %12s %9s %9s %12s\n", "nodes", "buckets", "messages", "wall_s", "cpu_s",
                "msg/s", "vs_raw", "rss_MB", "simulated_s");
  } else {
    std::printf("{\"baseline_msgs_per_s\": %.0f, \"points\": [", base_rate);
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto v = iteration_point(nodes[i], buckets);
    if (!json)
      std::printf("%6d %8d %12.0f %9.3f %9.3f %12.0f %9.2f %9.1f %12.6f\n", nodes[i], buckets, v[1], v[0], v[4],
                  v[1] / v[0], v[1] / v[0] / base_rate, v[2], v[3]);
    else
      std::printf("%s{\"nodes\": %d, \"buckets\": %d, \"messages\": %.0f, \"wall_s\": %.4f, \"cpu_s\": %.4f, \"msgs_per_s\": %.0f, "
                  "\"ratio_to_raw\": %.3f, \"peak_rss_mb\": %.1f, \"simulated_s\": %.9f}",
                  i ? ", " : "", nodes[i], buckets, v[1], v[0], v[4], v[1] / v[0], v[1] / v[0] / base_rate, v[2], v[3]);
  }
  if (json) std::printf("]}\n");
  return 0;
}
