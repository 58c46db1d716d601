#include "sim/algorithms.hpp"

#include <stdexcept>

namespace arcsim::sim {

namespace {

constexpr unsigned bit(CollectiveOp op) { return 1u << static_cast<unsigned>(op); }
constexpr unsigned kAllReduce = bit(CollectiveOp::allreduce), kAllGather = bit(CollectiveOp::allgather),
                   kAllGatherV = bit(CollectiveOp::allgatherv), kBroadcast = bit(CollectiveOp::broadcast),
                   kReduceScatter = bit(CollectiveOp::reduce_scatter), kAllToAllV = bit(CollectiveOp::alltoallv);
constexpr unsigned kEvery = kAllReduce | kAllGather | kAllGatherV | kBroadcast | kReduceScatter | kAllToAllV;
// broadcast "ring" is the pipelined chain; the all-to-all-v has no ring (only pairwise)
constexpr unsigned kRing = kAllReduce | kAllGather | kAllGatherV | kBroadcast | kReduceScatter;
constexpr unsigned kTree = kAllReduce | kBroadcast;  // broadcast "tree" is the binomial tree

constexpr vocab::Entry<AlgorithmInfo> kAlgorithms[] = {
    {"auto", "nccl profile: NCCL's choice by its cost model, ideal/tcp: the smallest closed form, gloo: what arcsim.distributed runs",
     {kEvery, false}},
    {"ring", "chunk-pipelined ring (all-reduce: reduce-scatter + all-gather), broadcast: the chain", {kRing, false}},
    {"tree", "all-reduce: double binary tree, broadcast: binomial tree", {kTree, false}},
    {"rabenseifner", "all-reduce: recursive halving reduce-scatter + recursive doubling all-gather",
     {kAllReduce, false}},
    {"bruck", "all-gather: Bruck's log-step algorithm", {kAllGather, false}},
    {"binomial", "broadcast: binomial tree", {kBroadcast, false}},
    {"chain", "broadcast: pipelined chain", {kBroadcast, false}},
    {"hier-ring", "ring across nodes between intra-node rings", {kRing, true}},
    {"hier-tree", "tree across nodes between intra-node rings", {kTree, true}},
    {"hier-rabenseifner", "rabenseifner across nodes between intra-node rings", {kAllReduce, true}},
    {"hier-bruck", "bruck across nodes between intra-node rings", {kAllGather, true}},
    {"hier-binomial", "binomial across nodes between intra-node rings", {kBroadcast, true}},
    {"hier-chain", "chain across nodes between intra-node rings", {kBroadcast, true}},
    {"pairwise", "all-to-all-v: p - 1 pairwise exchange steps over all ranks (no hier- form)", {kAllToAllV, false}},
    {"ordered", "gloo profile, all-reduce: direct all-to-all of chunks, summed in rank order, + ring all-gather",
     {kAllReduce, false, true}},
    {"direct", "gloo profile, all-gather-v, reduce-scatter, all-to-all-v: every message posted at once",
     {kAllGatherV | kReduceScatter | kAllToAllV, false, true}},
};

}  // namespace

std::span<const vocab::Entry<AlgorithmInfo>> algorithms() { return kAlgorithms; }

const std::vector<std::string>& algorithm_names() {
  static const std::vector<std::string> names = vocab::name_list(kAlgorithms);
  return names;
}

bool algorithm_exists_for(CollectiveOp op, const std::string& name) {
  const auto* e = vocab::find(kAlgorithms, name);
  return e && e->value.exists_for(op);
}

void check_algorithm_name(const std::string& name) {
  if (!vocab::find(kAlgorithms, name)) throw std::invalid_argument("algorithm: " + vocab::expected(kAlgorithms, name));
}

}  // namespace arcsim::sim
