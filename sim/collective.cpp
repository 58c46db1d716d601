#include "sim/collective.hpp"

#include <chrono>
#include <stdexcept>

#include <simgrid/s4u.hpp>

#include "sim/closed_form.hpp"
#include "sim/collectives.hpp"
#include "sim/nccl_model.hpp"
#include "sim/setup.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

CollectiveOp parse_op(const std::string& n) {
  if (n == "allreduce") return CollectiveOp::allreduce;
  if (n == "allgather") return CollectiveOp::allgather;
  if (n == "allgatherv") return CollectiveOp::allgatherv;
  if (n == "broadcast") return CollectiveOp::broadcast;
  if (n == "reduce_scatter" || n == "reducescatter") return CollectiveOp::reduce_scatter;
  throw std::invalid_argument("--collective: expected allreduce|allgather|allgatherv|broadcast|reduce_scatter, got \"" + n + "\"");
}

namespace {

bool valid_for(CollectiveOp op, const std::string& a) {
  if (a == "auto") return true;
  switch (op) {
    case CollectiveOp::allreduce: return a == "ring" || a == "tree" || a == "rabenseifner";
    case CollectiveOp::allgather: return a == "ring" || a == "bruck";
    case CollectiveOp::allgatherv: return a == "ring";
    case CollectiveOp::broadcast: return a == "ring" || a == "tree" || a == "binomial" || a == "chain";
    case CollectiveOp::reduce_scatter: return a == "ring";
  }
  return false;
}

// Total bytes the collective is about (all-gather: gathered size), for NCCL's model and `auto`.
double total_bytes(const CollectiveCall& c, int p) {
  if (c.op == CollectiveOp::allgather) return c.bytes * p;
  if (c.op == CollectiveOp::allgatherv) {
    double t = 0;
    for (int i = 0; i < p; ++i) t += c.by_rank[i % c.by_rank.size()];
    return t;
  }
  return c.bytes;
}

}  // namespace

std::string algorithm_for(CollectiveOp op, const std::string& requested) {
  // Refused, not replaced by `auto`: a row labelled "bruck" must have run Bruck.
  if (!valid_for(op, requested))
    throw std::invalid_argument("algorithm: \"" + requested + "\" does not exist for " + to_string(op) +
                                " (a collective of this plan); expected auto or an algorithm of every collective the plan runs");
  return requested;
}

ResolvedCall resolve_call(const Context& ctx, const CollectiveCall& call) {
  if (!valid_for(call.op, call.algorithm))
    throw std::invalid_argument(std::string("algorithm \"") + call.algorithm + "\" does not exist for " +
                                to_string(call.op));
  ResolvedCall r;
  r.call = call;
  const auto& t = ctx.platform.topology;
  const int G = t.spec.gpus_per_node, N = t.nodes, p = t.ranks;
  r.hierarchical = G > 1 && N > 1;
  const double B = t.spec.bandwidth_Bps, intra_B = t.spec.intra_bandwidth_Bps;
  const double total = total_bytes(call, p);
  // NCCL's choice of algorithm and protocol by predicted time (what `auto` means, and how the
  // nccl profile picks its protocol).
  const auto choice = nccl::choose(call.op == CollectiveOp::allgatherv ? CollectiveOp::allgather : call.op,
                                   call.algorithm == "auto" ? "auto"
                                   : call.algorithm == "bruck" ? "pat"
                                   : call.algorithm == "rabenseifner" ? "ring"
                                   : (call.algorithm == "binomial" || call.algorithm == "chain") ? "ring"
                                                                                                 : call.algorithm,
                                   total, N, G, B, intra_B);
  r.nccl_model_s = choice.time_s;
  std::string a = call.algorithm;
  if (a == "auto") {
    switch (call.op) {
      case CollectiveOp::allreduce: a = choice.algorithm == "tree" ? "tree" : "ring"; break;
      case CollectiveOp::allgather: a = choice.algorithm == "pat" ? "bruck" : "ring"; break;
      case CollectiveOp::broadcast: {
        const int q = r.hierarchical ? N : p;
        const double al = alpha_of(t);
        a = closed_form::binomial_broadcast(al, B, q, total) <
                    closed_form::chain_broadcast(al, B, q, total, closed_form::chain_chunks(al, B, q, total))
                ? "binomial"
                : "chain";
        break;
      }
      default: a = "ring";
    }
  }
  if (call.op == CollectiveOp::broadcast && a == "tree") a = "binomial";
  if (call.op == CollectiveOp::broadcast && a == "ring") a = "chain";
  r.algorithm = a;
  if (call.op == CollectiveOp::broadcast && a == "chain") {
    const int q = r.hierarchical ? N : p;
    r.chain_chunks = closed_form::chain_chunks(alpha_of(t), B, q, total);
  }
  if (ctx.profile == ProfileKind::nccl) {
    const auto proto = choice.proto;
    r.protocol = nccl::proto_name(proto);
    const std::string shape = a == "tree" ? "tree" : "ring";
    r.inter = nccl::pipeline(proto, shape, N == 1);
    r.intra = nccl::pipeline(proto, "ring", true);
    if (call.op == CollectiveOp::broadcast && a == "chain")
      r.chain_chunks = std::max(1, static_cast<int>(std::ceil(total / r.inter.chunk_bytes)));
  }
  return r;
}

namespace {

std::vector<int> node_members(int node, int G) {
  std::vector<int> m(G);
  for (int g = 0; g < G; ++g) m[g] = node * G + g;
  return m;
}
std::vector<int> rail_members(int gpu, int N, int G) {
  std::vector<int> m(N);
  for (int n = 0; n < N; ++n) m[n] = n * G + gpu;
  return m;
}

// The flat algorithm on one group.
void run_flat(const ResolvedCall& rc, Group& g, int me, CollectiveOp op, double bytes,
              const std::vector<double>& blocks, const Pipeline& pipe) {
  const int p = g.size();
  switch (op) {
    case CollectiveOp::allreduce:
      if (rc.algorithm == "tree") tree_allreduce(g, me, bytes, pipe);
      else if (rc.algorithm == "rabenseifner") rabenseifner_allreduce(g, me, bytes, pipe);
      else ring_allreduce(g, me, bytes, pipe);
      return;
    case CollectiveOp::allgather:
    case CollectiveOp::allgatherv:
      if (rc.algorithm == "bruck" && op == CollectiveOp::allgather) bruck_allgather(g, me, blocks[0], pipe);
      else ring_allgather(g, me, blocks, pipe);
      return;
    case CollectiveOp::broadcast:
      if (rc.algorithm == "binomial") binomial_broadcast(g, me, bytes, pipe);
      else chain_broadcast(g, me, bytes, rc.chain_chunks, pipe);
      return;
    case CollectiveOp::reduce_scatter:
      ring_reduce_scatter(g, me, bytes, pipe);
      return;
  }
  (void)p;
}

std::vector<double> blocks_of(const CollectiveCall& c, const std::vector<int>& members) {
  std::vector<double> b(members.size());
  for (std::size_t i = 0; i < members.size(); ++i)
    b[i] = c.op == CollectiveOp::allgatherv ? c.by_rank[members[i] % c.by_rank.size()] : c.bytes;
  return b;
}

}  // namespace

void run_collective(Context& ctx, int rank, const ResolvedCall& rc) {
  const auto& t = ctx.platform.topology;
  const int G = t.spec.gpus_per_node, N = t.nodes;
  const auto& c = rc.call;
  if (rc.inter.start_latency_s > 0) sg4::this_actor::sleep_for(rc.inter.start_latency_s);
  if (!rc.hierarchical) {
    Group& w = N == 1 && G > 1 ? ctx.group("n0", node_members(0, G)) : ctx.world();
    const Pipeline& pipe = N == 1 && G > 1 ? rc.intra : rc.inter;
    std::vector<int> all(w.size());
    for (int i = 0; i < w.size(); ++i) all[i] = w.global(i);
    run_flat(rc, w, rank, c.op, c.bytes, blocks_of(c, all), pipe);
    return;
  }
  const int node = rank / G, gpu = rank % G;
  Group& ng = ctx.group("n" + std::to_string(node), node_members(node, G));
  Group& rg = ctx.group("r" + std::to_string(gpu), rail_members(gpu, N, G));
  ResolvedCall ring = rc;
  ring.algorithm = "ring";
  switch (c.op) {
    case CollectiveOp::allreduce: {
      // Reduce-scatter inside the node, all-reduce each 1/G shard across nodes, all-gather inside.
      ring_reduce_scatter(ng, gpu, c.bytes, rc.intra);
      run_flat(rc, rg, node, CollectiveOp::allreduce, piece(c.bytes, G, gpu), {}, rc.inter);
      std::vector<double> shards(G);
      for (int g = 0; g < G; ++g) shards[g] = piece(c.bytes, G, g);
      ring_allgather(ng, gpu, shards, rc.intra);
      return;
    }
    case CollectiveOp::reduce_scatter: {
      ring_reduce_scatter(ng, gpu, c.bytes, rc.intra);
      ring_reduce_scatter(rg, node, piece(c.bytes, G, gpu), rc.inter);
      return;
    }
    case CollectiveOp::allgather:
    case CollectiveOp::allgatherv: {
      // Gather along the rail first (each GPU ends with its rail's blocks), then inside the node.
      const auto rail_blocks = blocks_of(c, rail_members(gpu, N, G));
      run_flat(rc, rg, node, c.op, 0, rail_blocks, rc.inter);
      std::vector<double> per_gpu(G, 0.0);
      for (int g = 0; g < G; ++g)
        for (double b : blocks_of(c, rail_members(g, N, G))) per_gpu[g] += b;
      ring_allgather(ng, gpu, per_gpu, rc.intra);
      return;
    }
    case CollectiveOp::broadcast: {
      if (gpu == 0) run_flat(rc, rg, node, c.op, c.bytes, {}, rc.inter);
      ring.algorithm = rc.algorithm;
      run_flat(ring, ng, gpu, c.op, c.bytes, {}, rc.intra);
      return;
    }
  }
}

CollectiveResult simulate_collective(const NetworkConfig& net, CollectiveOp op, double bytes) {
  if (!(bytes >= 0)) throw std::invalid_argument("--bytes: expected a non-negative size");
  if (op == CollectiveOp::allgatherv)
    throw std::invalid_argument("--collective allgatherv needs per-rank sizes: simulate it from a plan");
  auto ctx = make_context(net);
  const auto& t = ctx->platform.topology;
  const int p = t.ranks;
  CollectiveCall call;
  call.op = op;
  call.algorithm = net.algorithm;
  call.bytes = op == CollectiveOp::allgather ? bytes / p : bytes;
  const ResolvedCall rc = resolve_call(*ctx, call);

  std::vector<double> finish(p, 0.0);
  Context* c = ctx.get();
  for (int r = 0; r < p; ++r)
    sg4::Actor::create("rank" + std::to_string(r), c->platform.ranks[r], [c, r, &rc, &finish] {
      run_collective(*c, r, rc);
      finish[r] = sg4::Engine::get_clock();
    });
  const auto w0 = std::chrono::steady_clock::now();
  sg4::Engine::get_instance()->run();
  const auto w1 = std::chrono::steady_clock::now();

  CollectiveResult res;
  for (double f : finish) res.simulated_s = std::max(res.simulated_s, f);
  if (!rc.hierarchical && t.spec.gpus_per_node == 1)
    res.closed_form_s = closed_form::of(op, rc.algorithm, alpha_of(t), t.spec.bandwidth_Bps, p, bytes);
  res.nccl_model_s = rc.nccl_model_s;
  res.op = to_string(op);
  res.algorithm = rc.algorithm + (rc.hierarchical ? " (hierarchical)" : "");
  res.protocol = rc.protocol;
  res.profile = net.profile;
  res.topology = t.spec.name;
  res.nodes = t.nodes;
  res.ranks = p;
  res.bytes = bytes;
  res.messages = ctx->messages;
  double sent = 0;
  for (double b : ctx->bytes_sent) sent = std::max(sent, b);
  res.bytes_per_rank_sent = sent;
  res.wall_s = std::chrono::duration<double>(w1 - w0).count();
  res.link_latency_s = t.link_latency_s;
  res.bandwidth_Bps = t.spec.bandwidth_Bps;
  res.latency_s = t.spec.latency_s;
  return res;
}

nlohmann::json to_json(const CollectiveResult& r) {
  nlohmann::json j;
  j["collective"] = r.op;
  j["algorithm"] = r.algorithm;
  j["protocol"] = r.protocol;
  j["profile"] = r.profile;
  j["topology"] = r.topology;
  j["nodes"] = r.nodes;
  j["ranks"] = r.ranks;
  j["bytes"] = r.bytes;
  j["bandwidth_Bps"] = r.bandwidth_Bps;
  j["latency_s"] = r.latency_s;
  j["link_latency_s"] = r.link_latency_s;
  j["simulated_s"] = r.simulated_s;
  j["closed_form_s"] = r.closed_form_s ? nlohmann::json(*r.closed_form_s) : nlohmann::json(nullptr);
  j["nccl_model_s"] = r.nccl_model_s;
  j["messages"] = r.messages;
  j["max_bytes_sent_per_rank"] = r.bytes_per_rank_sent;
  return j;
}

}  // namespace arcsim::sim
