#include "sim/gloo_run.hpp"

#include <stdexcept>

#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"
#include "sim/gloo_model.hpp"

namespace arcsim::sim {

namespace {

// Per op: the algorithm `auto` means (what arcsim.distributed's TorchTransport calls), then the
// others gloo has. Names outside this table are refused.
struct GlooChoice {
  CollectiveOp op;
  const char* by_default;
  const char* also;  // "" or a second accepted name
};
constexpr GlooChoice kChoices[] = {
    {CollectiveOp::allreduce, "ordered", "ring"},
    {CollectiveOp::allgather, "ring", ""},
    {CollectiveOp::allgatherv, "direct", ""},
    {CollectiveOp::reduce_scatter, "direct", ""},
    {CollectiveOp::alltoallv, "direct", ""},
    {CollectiveOp::broadcast, "binomial", ""},
};

// What rank r sends rank d when each rank's vector of `bytes` is cut into p pieces (the ordered
// all-reduce's and the reduce-scatter's chunks).
std::vector<std::vector<double>> chunk_matrix(double bytes, int p) {
  std::vector<std::vector<double>> m(p, std::vector<double>(p, 0.0));
  for (int r = 0; r < p; ++r)
    for (int d = 0; d < p; ++d)
      if (r != d) m[r][d] = piece(bytes, p, d);
  return m;
}

}  // namespace

ResolvedCall gloo_resolve(const Context& ctx, const CollectiveCall& call) {
  const auto& t = ctx.platform.topology;
  if (t.spec.gpus_per_node > 1)
    throw std::invalid_argument("profile gloo: expected one rank per node (gloo over TCP between hosts); topology " +
                                t.spec.name + " has " + std::to_string(t.spec.gpus_per_node) + " GPUs per node");
  const GlooChoice* choice = nullptr;
  for (const auto& c : kChoices)
    if (c.op == call.op) choice = &c;
  std::string a = call.algorithm;
  if (a == "auto") a = choice->by_default;
  if (call.op == CollectiveOp::broadcast && a == "tree") a = "binomial";
  if (a != choice->by_default && a != choice->also)
    throw std::invalid_argument("algorithm \"" + call.algorithm + "\": the gloo profile runs gloo's algorithms; for " +
                                to_string(call.op) + " expected auto|" + choice->by_default +
                                (*choice->also ? std::string("|") + choice->also : std::string()));
  ResolvedCall r;
  r.call = call;
  r.algorithm = a;
  r.protocol = "tcp";
  const int p = t.ranks;
  if (call.op == CollectiveOp::alltoallv) r.call.matrix = alltoallv_matrix(call, p);
  if (call.op == CollectiveOp::allgatherv) {
    r.call.matrix.assign(p, std::vector<double>(p, 0.0));
    for (int s = 0; s < p; ++s)
      for (int d = 0; d < p; ++d)
        if (s != d) r.call.matrix[s][d] = call.by_rank[s % call.by_rank.size()];
  }
  if (call.op == CollectiveOp::reduce_scatter) r.call.matrix = chunk_matrix(call.bytes, p);
  return r;
}

void gloo_run(Context& ctx, int rank, const ResolvedCall& rc) {
  using gloo::Call;
  const gloo::Costs costs = gloo::costs_of(ctx.platform.topology.spec);
  Group& w = ctx.world();
  const int p = w.size();
  const auto& c = rc.call;
  // One gloo call: its software cost (the pipeline's start latency), then its algorithm.
  auto start = [&](Call call, double bytes) {
    const Pipeline pipe = gloo::pipeline(call, costs, p, bytes);
    if (pipe.start_latency_s > 0) simgrid::s4u::this_actor::sleep_for(pipe.start_latency_s);
    return pipe;
  };
  auto direct = [&](const std::vector<std::vector<double>>& m) {
    direct_alltoallv(w, rank, m, start(Call::direct_alltoall, 0));
  };
  auto allgather = [&](const std::vector<double>& blocks) {
    ring_allgather(w, rank, blocks, start(Call::ring_allgather, blocks[0]));
  };
  switch (c.op) {
    case CollectiveOp::allreduce:
      if (rc.algorithm == "ring") {
        ring_allreduce(w, rank, c.bytes, start(Call::ring_allreduce, c.bytes));
        return;
      }
      {  // ordered: each rank's chunk d to rank d, summed there in rank order, then gathered
        direct(chunk_matrix(c.bytes, p));
        std::vector<double> blocks(p);
        for (int i = 0; i < p; ++i) blocks[i] = piece(c.bytes, p, i);
        allgather(blocks);
      }
      return;
    case CollectiveOp::allgather: allgather(std::vector<double>(p, c.bytes)); return;
    case CollectiveOp::allgatherv:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::alltoallv: direct(c.matrix); return;
    case CollectiveOp::broadcast: binomial_broadcast(w, rank, c.bytes, start(Call::binomial_broadcast, c.bytes)); return;
  }
}

}  // namespace arcsim::sim
