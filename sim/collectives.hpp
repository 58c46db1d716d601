#pragma once
// Collective algorithms as SPMD functions on S4U: every member of `g` calls the same function with
// its local rank `me` from its own actor; the call returns when this rank's part is done.
// Sizes are payload bytes. Each algorithm lives in its own .cpp file.
#include <functional>
#include <memory>
#include <vector>

#include "sim/context.hpp"
#include "sim/plan.hpp"
#include "sim/profile.hpp"

namespace arcsim::sim {

// The chunk-pipelined ring engine shared by the ring algorithms: `steps` steps; at step s local rank
// r sends step_bytes(r, s) to its right neighbour (and receives its left neighbour's). Piece c of step s may
// only leave once piece c of step s-1 has arrived (it is the data just received, reduced or not).
// With Pipeline{} (no chunking, window 1) a step costs exactly alpha + bytes/B.
void ring_pipeline(Group& g, int me, int steps, const std::function<double(int rank, int step)>& step_bytes,
                   const Pipeline& pipe);

// Ring all-reduce = ring reduce-scatter + ring all-gather, 2(p-1) steps of bytes/p.
void ring_allreduce(Group& g, int me, double bytes, const Pipeline& pipe);
// Ring reduce-scatter of a `bytes` vector: p-1 steps of bytes/p.
void ring_reduce_scatter(Group& g, int me, double bytes, const Pipeline& pipe);
// Ring all-gather(v): member i contributes block_bytes[i] (for a plain all-gather all equal).
void ring_allgather(Group& g, int me, const std::vector<double>& block_bytes, const Pipeline& pipe);
// Bruck all-gather of equal blocks: ceil(lg p) steps, step k moves min(2^k, p-2^k) blocks.
void bruck_allgather(Group& g, int me, double block_bytes, const Pipeline& pipe);
// Rabenseifner all-reduce: recursive-halving reduce-scatter + recursive-doubling all-gather; for p
// not a power of two, MPICH's fold: the first 2r ranks pair up before and after (r = p - 2^floor(lg p)).
void rabenseifner_allreduce(Group& g, int me, double bytes, const Pipeline& pipe);
// Double binary tree all-reduce (NCCL's tree): two heap-ordered binary trees, the second on mirrored
// ranks, each reducing and broadcasting half of the data in pipelined chunks.
void tree_allreduce(Group& g, int me, double bytes, const Pipeline& pipe);
// Pairwise-exchange all-to-all-v: p - 1 steps, at step s rank r sends bytes[r][(r+s) mod p] to
// (r+s) mod p and receives from (r-s) mod p (bytes[r][r] stays local).
void pairwise_alltoallv(Group& g, int me, const std::vector<std::vector<double>>& bytes, const Pipeline& pipe);
// Direct all-to-all-v (gloo): every send and receive at once; pipe.step_overhead_s once.
// A step's software overhead (pipe.step_overhead_s): before its messages are posted, or, with
// pipe.overlap_overhead, after they are posted, while they move. Call both around the posting.
void overhead_before_posting(const Pipeline& pipe);
void overhead_while_moving(const Pipeline& pipe);
// The wire factor of a rank's first message(s) when its links' token bucket lets
// pipe.first_step_free_bytes of `bytes` pass at wire speed (all of Pipeline's runs use it).
double first_step_wire_factor(double bytes, const Pipeline& pipe);
void direct_alltoallv(Group& g, int me, const std::vector<std::vector<double>>& bytes, const Pipeline& pipe);
// Broadcast from local rank 0: binomial tree (whole message per hop).
void binomial_broadcast(Group& g, int me, double bytes, const Pipeline& pipe);
// Broadcast from local rank 0: chain through the ranks in `chunks` pipelined pieces.
void chain_broadcast(Group& g, int me, double bytes, int chunks, const Pipeline& pipe);

// Flow level (the `nccl` profile's default fidelity): every flow of the collective at once, each
// rank's sends and receives in flight together, so the network's max-min sharing gives the
// steady state of NCCL's chunk pipeline. out[r] = (destination, payload, wire factor), in[r] =
// sources, in the same order as the senders post them.
struct FlowPlan {
  struct Out { int dst; double payload, wire; };  // wire: wire bytes per payload byte
  std::vector<std::vector<Out>> out;
  std::vector<std::vector<int>> in;
  // NCCL's per-channel caps (nccl::cap_s_per_byte): no rank finishes its flows sooner than this
  // after it posted them. (A rate bound per flow would be the direct form, but SimGrid drops
  // user rate bounds when TCP-gamma is 0, as the nccl profile sets it.)
  double min_s = 0;
};
void run_flows(Group& g, int me, const FlowPlan& plan);

// Message level, several channels: `orders[c]` is channel c's ring (global ranks); each channel
// is a chunk-pipelined ring all-reduce / reduce-scatter / all-gather of bytes/C in its own actor.
void channel_rings(Context& ctx, int rank, CollectiveOp op, double bytes,
                   const std::vector<std::vector<int>>& orders, const Pipeline& inter, const Pipeline& intra);

// Number of pieces a step of `bytes` is cut into under `pipe`.
int chunks_of(double bytes, const Pipeline& pipe);

}  // namespace arcsim::sim
