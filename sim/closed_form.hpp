#pragma once
// Closed-form alpha-beta times (Thakur, Rabenseifner & Gropp 2005) for
// the algorithms as we implement them. alpha = end-to-end latency of one message, B = bandwidth
// (bytes/s), p = ranks. All-gather sizes are the total gathered bytes. No reduction cost (gamma):
// reductions run on the GPU at far above network speed.
#include <optional>
#include <string>

#include "sim/plan.hpp"

namespace arcsim::sim::closed_form {

double ring_allreduce(double alpha, double B, int p, double bytes);
double ring_reduce_scatter(double alpha, double B, int p, double bytes);
double ring_allgather(double alpha, double B, int p, double total_bytes);
double bruck_allgather(double alpha, double B, int p, double total_bytes);
// Power-of-two p: 2 lg p alpha + 2 (p-1)/p n beta; otherwise MPICH's fold adds 2 (alpha + n beta).
double rabenseifner_allreduce(double alpha, double B, int p, double bytes);
double binomial_broadcast(double alpha, double B, int p, double bytes);
double chain_broadcast(double alpha, double B, int p, double bytes, int chunks);
// Chunks that minimise chain_broadcast: sqrt((p-2) n beta / alpha).
int chain_chunks(double alpha, double B, int p, double bytes);

// Pairwise-exchange all-to-all-v of bytes[s][d] (p x p): at step s = 1..p-1 rank r sends to
// r + s and receives from r - s; a message from a to b starts when both have finished step s - 1
// (a posts its send, b its receive) and takes alpha + bytes/B, no link carrying two at once on a
// star. T_r(s) = max over r's send and receive of (max(T_a(s-1), T_b(s-1)) + alpha + m/B); the
// result is max_r T_r(p-1). Equal sizes m: (p - 1)(alpha + m/B).
#include <vector>
double pairwise_alltoallv(double alpha, double B, const std::vector<std::vector<double>>& bytes);

// The closed form of (op, concrete algorithm), or nullopt where none exists (double binary tree,
// all-gather-v with unequal sizes, hierarchical compositions).
std::optional<double> of(CollectiveOp op, const std::string& algorithm, double alpha, double B, int p,
                         double bytes);

}  // namespace arcsim::sim::closed_form
