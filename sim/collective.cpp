#include "sim/collective.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <simgrid/s4u.hpp>

#include "sim/closed_form.hpp"
#include "sim/limits.hpp"
#include "sim/collectives.hpp"
#include "sim/gloo_model.hpp"
#include "sim/gloo_run.hpp"
#include "sim/nccl_flows.hpp"
#include "sim/nccl_model.hpp"
#include "sim/setup.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

CollectiveOp parse_op(const std::string& n) {
  try {
    return plan::parse_collective_op(n);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--collective: ") + e.what());
  }
}

namespace {

// The algorithm part of a name: "hier-ring" -> "ring".
std::string inner(const std::string& a) { return a.rfind("hier-", 0) == 0 ? a.substr(5) : a; }

bool valid_for(CollectiveOp op, const std::string& name) { return algorithm_exists_for(op, name); }

// Total bytes the collective is about (all-gather: gathered size), for NCCL's model and `auto`.
double total_bytes(const CollectiveCall& c, int p) {
  if (c.op == CollectiveOp::allgather) return c.bytes * p;
  if (c.op == CollectiveOp::allgatherv) {
    double t = 0;
    for (int i = 0; i < p; ++i) t += c.by_rank[i % c.by_rank.size()];
    return t;
  }
  if (c.op == CollectiveOp::alltoallv) {
    double t = 0;
    for (const auto& row : alltoallv_matrix(c, p))
      for (double b : row) t += b;
    return t;
  }
  return c.bytes;
}

// ideal / tcp `auto`: the algorithm whose closed form is smallest (the simulation equals it).
std::string closed_form_choice(CollectiveOp op, double alpha, double B, int q, double total) {
  switch (op) {
    case CollectiveOp::allreduce:
      return closed_form::rabenseifner_allreduce(alpha, B, q, total) < closed_form::ring_allreduce(alpha, B, q, total)
                 ? "rabenseifner"
                 : "ring";
    case CollectiveOp::allgather:
      return closed_form::bruck_allgather(alpha, B, q, total) < closed_form::ring_allgather(alpha, B, q, total)
                 ? "bruck"
                 : "ring";
    case CollectiveOp::broadcast:
      return closed_form::binomial_broadcast(alpha, B, q, total) <
                     closed_form::chain_broadcast(alpha, B, q, total, closed_form::chain_chunks(alpha, B, q, total))
                 ? "binomial"
                 : "chain";
    default: return "ring";
  }
}

// The platform's own contention for NCCL's flows: every inter-node flow of (op, alg) along its
// SimGrid route, the load of every link it crosses (NICs, node ports, fat-tree up- and down-links,
// torus and dragonfly links), and the busiest link's seconds per payload byte. On a non-blocking
// network this is the NIC load the predictor already has; where static routes make flows share a
// link (a fat-tree leaf's uplinks to its cores) it is what the flow-level simulation pays.
double fabric_s_per_byte(const Context& ctx, const nccl::System& y, CollectiveOp op, const std::string& alg) {
  const auto key = std::make_pair(static_cast<int>(op), alg);
  if (auto it = ctx.fabric_s_per_byte.find(key); it != ctx.fabric_s_per_byte.end()) return it->second;
  const double unit = 1e6;
  std::unordered_map<const sg4::Link*, double> load;
  std::vector<sg4::Link*> links;
  for (const auto& f : nccl::flows(op, alg, unit, y)) {
    if (!f.inter) continue;
    links.clear();
    double lat = 0;
    ctx.platform.ranks.at(f.src)->route_to(ctx.platform.ranks.at(f.dst), links, &lat);
    for (const auto* l : links) load[l] += f.payload;
  }
  double t = 0;
  for (const auto& [l, b] : load) t = std::max(t, b / l->get_bandwidth());
  return ctx.fabric_s_per_byte[key] = t / unit;
}

std::shared_ptr<const FlowPlan> flow_plan(CollectiveOp op, const std::string& alg, nccl::Proto proto,
                                          const CollectiveCall& call, double total, const nccl::System& y) {
  std::vector<double> blocks;
  if (op == CollectiveOp::allgatherv)
    for (int r = 0; r < y.ranks(); ++r) blocks.push_back(call.by_rank[r % call.by_rank.size()]);
  const auto fl = nccl::flows(op, alg, total, y, blocks.empty() ? nullptr : &blocks);
  auto plan = std::make_shared<FlowPlan>();
  plan->out.resize(y.ranks());
  plan->in.resize(y.ranks());
  // NCCL's tree correction for medium sizes: that share of the bandwidth, as extra wire bytes.
  const double corr = nccl::tree_correction(op, alg, proto, total);
  const double wi = nccl::wire_factor(alg, proto, true, y) / corr, wl = nccl::wire_factor(alg, proto, false, y) / corr;
  // NCCL's per-channel caps: no rank may finish before the cap's time for the whole collective.
  // (plus the network's latency, which the predictor adds to the bandwidth term too).
  plan->min_s = nccl::cap_s_per_byte(op == CollectiveOp::allgatherv ? CollectiveOp::allgather : op, alg, proto, y) *
                total / corr;
  if (plan->min_s > 0) plan->min_s += y.alpha_s;
  for (const auto& f : fl) {
    plan->out[f.src].push_back({f.dst, f.payload, f.inter ? wi : wl});
    plan->in[f.dst].push_back(f.src);
  }
  return plan;
}

}  // namespace

std::string ResolvedCall::label() const {
  return (hierarchical ? "hier-" : "") + algorithm + "/" + protocol;
}

std::string format_algorithms_used(const std::map<std::string, int>& counts) {
  std::string s;
  for (const auto& [k, n] : counts) s += (s.empty() ? "" : ";") + k + ":" + std::to_string(n);
  return s;
}

std::string algorithm_for(CollectiveOp op, const std::string& requested) {
  // Refused, not replaced by `auto`: a row labelled "bruck" must have run Bruck.
  if (!valid_for(op, requested))
    throw std::invalid_argument("algorithm: \"" + requested + "\" does not exist for " + to_string(op) +
                                " (a collective of this plan); expected auto or an algorithm of every collective the plan runs");
  return requested;
}

namespace {
// An allgatherv recorded with W blocks that are shares of a fixed total, at p != W ranks: p
// blocks of by_rank[i % W] * W / p (whole bytes), so the total is kept when W divides p.
CollectiveCall with_shares(const CollectiveCall& c, int p) {
  if (c.op != CollectiveOp::allgatherv || c.scaling != SizeScaling::share || c.by_rank.empty() ||
      c.by_rank.size() == static_cast<std::size_t>(p))
    return c;
  CollectiveCall out = c;
  const double W = static_cast<double>(c.by_rank.size());
  out.by_rank.resize(p);
  for (int i = 0; i < p; ++i) out.by_rank[i] = std::round(c.by_rank[i % c.by_rank.size()] * W / p);
  return out;
}
}  // namespace

namespace {
ResolvedCall resolve_call_unchecked(const Context& ctx, const CollectiveCall& asked) {
  const CollectiveCall call = with_shares(asked, ctx.platform.topology.ranks);
  if (!valid_for(call.op, call.algorithm))
    throw std::invalid_argument(std::string("algorithm \"") + call.algorithm + "\" does not exist for " +
                                to_string(call.op));
  if (ctx.profile == ProfileKind::gloo) return gloo_resolve(ctx, call);
  if (const auto* e = vocab::find(algorithms(), call.algorithm); e && e->value.gloo_only)
    throw std::invalid_argument("algorithm \"" + call.algorithm + "\" exists in the gloo profile only (--profile gloo)");
  ResolvedCall r;
  r.call = call;
  const auto& t = ctx.platform.topology;
  const int G = t.spec.gpus_per_node, N = t.nodes, p = t.ranks;
  const bool multi_gpu = G > 1 && N > 1;
  const double B = t.spec.bandwidth_Bps;
  const double total = total_bytes(call, p);
  const nccl::System y = nccl::system_of(t);
  if (call.op == CollectiveOp::alltoallv) {
    // Flat pairwise exchange over all ranks, every profile (NCCL has no all-to-all algorithm of
    // its own: it posts grouped sends and receives). The nccl profile drives it with its Simple
    // protocol's per-step latency and wire factor; no chunking.
    r.algorithm = "pairwise";
    r.call.matrix = alltoallv_matrix(call, p);
    if (ctx.profile == ProfileKind::nccl) {
      r.protocol = "Simple";
      r.inter = nccl::pipeline(nccl::Simple, "ring", N == 1, y);
      r.inter.chunk_bytes = 0;
      r.inter.window = 1;
      r.inter.pace = false;
      r.start_latency_s = r.inter.start_latency_s;
    }
    return r;
  }
  const CollectiveOp model_op = call.op == CollectiveOp::allgatherv ? CollectiveOp::allgather : call.op;
  const bool hier_asked = call.algorithm.rfind("hier-", 0) == 0;
  std::string a = inner(call.algorithm);
  const bool nccl_alg = a == "auto" || a == "ring" || (a == "tree" && call.op == CollectiveOp::allreduce);

  if (ctx.profile == ProfileKind::nccl && nccl_alg && !hier_asked) {
    // NCCL's own algorithms over all ranks: rings with channels, trees (chain + double binary tree).
    const std::string want = a == "auto" ? (call.op == CollectiveOp::allreduce ? "auto" : "ring") : a;
    // `auto` compares what the simulation pays: NCCL's latency and caps on the flows it sends,
    // the trees' real loads (NCCL's formula charges 2 x bytes per node at 3 nodes, where the double
    // binary tree moves 1.5 x) and the platform's contention on them (NCCL sees none).
    // It compares them as NCCL's tuner does, at its nominal NIC speed and latency constants: a
    // calibrated site runs NCCL's choice at the site's speed (nccl::as_tuner_sees; on the presets
    // the two coincide). nccl_model_s stays NCCL's own formula.
    nccl::System on_platform = y;
    on_platform.as_simulated = true;
    if (N > 1)
      on_platform.fabric_s_per_byte = [&ctx, &y](CollectiveOp o, const std::string& al) {
        return al == "pat" ? 0.0 : fabric_s_per_byte(ctx, y, o, al);
      };
    const auto choice =
        nccl::choose(model_op, want == "auto" ? "auto" : want, ctx.protocol, total, nccl::as_tuner_sees(on_platform));
    const std::string alg = choice.algorithm == "pat" ? "ring" : choice.algorithm;
    r.algorithm = alg;
    r.protocol = nccl::proto_name(choice.proto);
    r.nccl_model_s = nccl::predict(model_op, alg, choice.proto, total, y);
    r.start_latency_s = nccl::latency_s(model_op, alg, choice.proto, y);
    if (ctx.fidelity == Fidelity::flow) {
      r.flows = flow_plan(call.op, alg, choice.proto, call, total, y);
    } else {
      r.inter = nccl::pipeline(choice.proto, alg, N == 1, y);
      r.intra = nccl::pipeline(choice.proto, "ring", true, y);
      r.start_latency_s = r.inter.start_latency_s;
      if (G > 1) {
        if (alg == "tree" || call.op == CollectiveOp::broadcast || call.op == CollectiveOp::allgatherv)
          throw std::invalid_argument("--fidelity message: multi-GPU nodes have only the ring all-reduce, "
                                      "reduce-scatter and all-gather at message level; use --fidelity flow");
        r.flat_channels = true;
      }
    }
    return r;
  }

  // Everything else: the algorithms of the alpha-beta literature; on multi-GPU nodes composed
  // hierarchically (intra-node, rails, intra-node). The nccl profile drives them with its pipelines.
  r.hierarchical = multi_gpu;
  const int q = r.hierarchical ? N : p;
  const double alpha = alpha_of(t);
  if (a == "auto") a = closed_form_choice(call.op, alpha, B, q, total);
  if (call.op == CollectiveOp::broadcast && a == "tree") a = "binomial";
  if (call.op == CollectiveOp::broadcast && a == "ring") a = "chain";
  r.algorithm = a;
  if (call.op == CollectiveOp::broadcast && a == "chain") r.chain_chunks = closed_form::chain_chunks(alpha, B, q, total);
  const std::string model_alg = a == "tree" ? "tree" : "ring";
  const auto choice = nccl::choose(model_op, model_alg, ctx.protocol, total, y);
  r.nccl_model_s = choice.time_s;
  if (ctx.profile == ProfileKind::nccl) {
    r.protocol = nccl::proto_name(choice.proto);
    r.inter = nccl::pipeline(choice.proto, model_alg, N == 1, y);
    r.intra = nccl::pipeline(choice.proto, "ring", true, y);
    r.start_latency_s = r.inter.start_latency_s;
    if (call.op == CollectiveOp::broadcast && a == "chain")
      r.chain_chunks = std::max(1, static_cast<int>(std::ceil(total / r.inter.chunk_bytes)));
  }
  return r;
}
}  // namespace

// Message level: the number of messages is bounded before any is allocated (sim/limits.hpp).
ResolvedCall resolve_call(const Context& ctx, const CollectiveCall& asked) {
  ResolvedCall r = resolve_call_unchecked(ctx, asked);
  if (!r.flows) {
    double chunk = 0;
    for (double c : {r.inter.chunk_bytes, r.intra.chunk_bytes})
      if (c > 0 && (chunk == 0 || c < chunk)) chunk = c;
    const int p = ctx.platform.topology.ranks;
    const double total = r.call.op == CollectiveOp::alltoallv ? 0.0 : total_bytes(r.call, p);
    check_message_count(total, chunk, p,
                        ctx.fidelity == Fidelity::message ? std::string("--fidelity message")
                                                          : "algorithm " + r.algorithm + " (simulated message by message)");
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
    case CollectiveOp::alltoallv:
      return;  // never flat per group: run_collective runs it pairwise on the world
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
  if (ctx.profile == ProfileKind::gloo) {
    gloo_run(ctx, rank, rc);
    return;
  }
  if (rc.start_latency_s > 0) sg4::this_actor::sleep_for(rc.start_latency_s);
  if (c.op == CollectiveOp::alltoallv) {
    pairwise_alltoallv(ctx.world(), rank, c.matrix, rc.inter);
    return;
  }
  if (rc.flows) {
    Group& w = ctx.group("nf", [&] {
      std::vector<int> all(ctx.ranks());
      for (int i = 0; i < ctx.ranks(); ++i) all[i] = i;
      return all;
    }());
    run_flows(w, rank, *rc.flows);
    return;
  }
  if (rc.flat_channels) {
    const auto y = nccl::system_of(t);
    std::vector<std::vector<int>> orders;
    for (int ch = 0; ch < y.channels(); ++ch) orders.push_back(nccl::ring_order(y, ch));
    channel_rings(ctx, rank, c.op, c.op == CollectiveOp::allgather ? c.bytes * ctx.ranks() : c.bytes, orders,
                  rc.inter, rc.intra);
    return;
  }
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
    case CollectiveOp::alltoallv: return;  // flat, handled above
  }
}

std::vector<std::vector<double>> alltoallv_matrix(const CollectiveCall& call, int p) {
  const auto& m = call.matrix;
  if (m.empty()) throw std::invalid_argument("alltoallv: no bytes matrix");
  const std::size_t W = m.size();
  std::vector<std::vector<double>> out(p, std::vector<double>(p, 0.0));
  const double f = static_cast<double>(W) / p;
  const double scale = call.scaling == SizeScaling::per_pair ? 1.0 : call.scaling == SizeScaling::share ? f * f : f;
  for (int r = 0; r < p; ++r)
    for (int d = 0; d < p; ++d)
      if (r != d) out[r][d] = static_cast<std::size_t>(p) == W ? m[r][d] : std::round(m[r % W][d % W] * scale);
  return out;
}

CollectiveResult simulate_alltoallv(const NetworkConfig& net, const std::vector<std::vector<double>>& matrix) {
  auto ctx = make_context(net);
  const auto& t = ctx->platform.topology;
  const int p = t.ranks;
  if (matrix.size() != static_cast<std::size_t>(p))
    throw std::invalid_argument("alltoallv: expected a " + std::to_string(p) + " x " + std::to_string(p) +
                                " bytes matrix (one row per rank)");
  CollectiveCall call;
  call.op = CollectiveOp::alltoallv;
  call.algorithm = net.algorithm;
  call.matrix = matrix;
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
  if (ctx->profile == ProfileKind::gloo) {
    double most = 0;
    for (const auto& row : rc.call.matrix)
      for (double b : row) most = std::max(most, b);
    // equal messages: (p - 1) of the largest, the closed form's bound
    res.closed_form_s = gloo::seconds(gloo::part(gloo::Call::direct_alltoall, p, most), gloo::costs_of(t.spec),
                                      alpha_of(t), t.spec.bandwidth_Bps);
  } else if (t.spec.gpus_per_node == 1 && ctx->profile != ProfileKind::nccl) {
    res.closed_form_s = closed_form::pairwise_alltoallv(alpha_of(t), t.spec.bandwidth_Bps, rc.call.matrix);
  }
  res.op = "alltoallv";
  res.algorithm = rc.algorithm;
  res.protocol = rc.protocol;
  res.profile = net.profile;
  res.fidelity = "message";
  res.topology = t.spec.name;
  res.nodes = t.hosts;
  res.transport = t.transport;
  res.ranks = p;
  for (const auto& row : rc.call.matrix)
    for (double b : row) res.bytes += b;
  res.messages = ctx->messages;
  for (double b : ctx->bytes_sent) res.bytes_per_rank_sent = std::max(res.bytes_per_rank_sent, b);
  res.wall_s = std::chrono::duration<double>(w1 - w0).count();
  res.link_latency_s = t.link_latency_s;
  res.bandwidth_Bps = t.spec.bandwidth_Bps;
  res.latency_s = t.spec.latency_s;
  return res;
}

CollectiveResult simulate_collective(const NetworkConfig& net, CollectiveOp op, double bytes) {
  if (!(bytes >= 0)) throw std::invalid_argument("--bytes: expected a non-negative size");
  if (op == CollectiveOp::allgatherv)
    throw std::invalid_argument("--collective allgatherv needs per-rank sizes: simulate it from a plan");
  if (op == CollectiveOp::alltoallv)
    throw std::invalid_argument("--collective alltoallv needs a bytes matrix: simulate it from a plan");
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
  if (ctx->profile == ProfileKind::gloo)
    res.closed_form_s = gloo::seconds(gloo::plan_parts(op, rc.algorithm, p, call.bytes), gloo::costs_of(t.spec),
                                      alpha_of(t), t.spec.bandwidth_Bps);
  else if (!rc.hierarchical && t.spec.gpus_per_node == 1)
    res.closed_form_s = closed_form::of(op, rc.algorithm, alpha_of(t), t.spec.bandwidth_Bps, p, bytes);
  res.nccl_model_s = rc.nccl_model_s;
  res.op = to_string(op);
  res.algorithm = (rc.hierarchical ? "hier-" : "") + rc.algorithm;
  res.protocol = rc.protocol;
  res.profile = net.profile;
  res.fidelity = ctx->profile == ProfileKind::nccl ? net.fidelity : "message";
  res.topology = t.spec.name;
  res.nodes = t.hosts;
  res.transport = t.transport;
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
  j["fidelity"] = r.fidelity;
  j["topology"] = r.topology;
  j["transport"] = r.transport;
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
