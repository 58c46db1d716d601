// The flow-level and multi-channel runners of NCCL's topology-aware algorithms.
#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

void run_flows(Group& g, int me, const FlowPlan& plan) {
  std::vector<sg4::CommPtr> pending;
  const auto& out = plan.out[static_cast<std::size_t>(me)];
  const auto& in = plan.in[static_cast<std::size_t>(me)];
  pending.reserve(out.size() + in.size());
  for (int src : in) pending.push_back(g.recv(me, src));
  const double t0 = sg4::Engine::get_clock();
  for (const auto& o : out) pending.push_back(g.send(me, o.dst, o.payload, o.wire));
  sg4::Comm::wait_all(pending);
  if (sg4::Engine::get_clock() < t0 + plan.min_s) sg4::this_actor::sleep_until(t0 + plan.min_s);
}

void channel_rings(Context& ctx, int rank, CollectiveOp op, double bytes,
                   const std::vector<std::vector<int>>& orders, const Pipeline& inter, const Pipeline& intra) {
  const int C = static_cast<int>(orders.size());
  std::vector<sg4::ActorPtr> actors;
  for (int c = 0; c < C; ++c) {
    Group& g = ctx.group("ch" + std::to_string(c), orders[c]);
    const int me = g.local_of(rank);
    const int p = g.size();
    // This rank's hop to its ring successor: over a NIC (inter-node pipeline: NET per-step latency,
    // NIC efficiency) or NVLink (intra). Both pipelines cut the same chunks, so the two ends agree.
    const int next = orders[c][(me + 1) % p];
    const bool crosses = ctx.platform.node_of(next) != ctx.platform.node_of(rank);
    const Pipeline pipe = crosses ? inter : intra;
    const double share = piece(bytes, C, c);
    actors.push_back(sg4::Actor::create("r" + std::to_string(rank) + "c" + std::to_string(c),
                                        g.host(me), [&g, me, p, op, share, pipe] {
      if (op == CollectiveOp::allreduce) ring_allreduce(g, me, share, pipe);
      else if (op == CollectiveOp::reduce_scatter) ring_reduce_scatter(g, me, share, pipe);
      else ring_allgather(g, me, std::vector<double>(p, share / p), pipe);
    }));
  }
  for (auto& a : actors) a->join();
}

}  // namespace arcsim::sim
