#pragma once
// gloo over TCP as arcsim.distributed drives it (the `gloo` profile): which gloo algorithm each
// collective runs, what one call costs in closed form, and the fit of its three constants to a
// micro-benchmark (`arcsim calibrate --gloo-bench`, the testbed's bench-rank*.csv).
//
// The algorithms, read from gloo at commit 5b143513263133af2b95547e97c07cebeb72bf72 (the one
// torch 1.13 pins) and torch/csrc/distributed/c10d/ProcessGroupGloo.cpp (docs/testbed.md):
//   ring_allreduce      gloo/allreduce.cc: ring reduce-scatter + all-gather, 2 (p-1) steps of n/p,
//                       in segments of at most 1 MiB (K = roundUp(max(ceil(n / 1 MiB), 2p), p))
//   ring_allgather      gloo/allgather.cc: p - 1 steps, each rank's block sent in two halves
//   direct_alltoall     gloo/alltoallv.cc: every send and receive posted at once
//   binomial_broadcast  gloo/broadcast.cc: ceil(lg p) rounds of the whole vector
// arcsim.distributed's collectives (traces/recorder/distributed.py, TorchTransport) map onto them:
// its ordered all-reduce of n bytes is a direct all-to-all of n/p per peer followed by a ring
// all-gather of n/p per rank (two torch calls); an all-gather-v is a direct all-to-all of the
// rank's block to every peer; an all-to-all-v is a direct all-to-all.
//
// One call costs call_s + steps x max(messages per step x message_s, latency + bytes per step /
// (B x efficiency)), the first step's bytes less a link's token bucket (burst_bytes): call_s the per-call software cost (Python dispatch, the hand-off to
// ProcessGroupGloo's worker thread), message_s each message's (gloo's ready-notice rendezvous, its
// syscalls, and on a shared CPU the wait for the peer to be scheduled), efficiency the payload share
// of a TCP link's rate, one per traffic pattern. On a star the simulation (sim/gloo_run.cpp) equals
// this closed form to rounding; elsewhere it adds the platform's contention.
#include <string>
#include <vector>

#include "sim/plan.hpp"
#include "sim/profile.hpp"
#include "topologies/topology.hpp"

namespace arcsim::sim::gloo {

// How a call's bytes move, each with its own TCP efficiency: a ring (one flow per link direction),
// a direct all-to-all (p - 1 flows into every receiver at once: incast), a binomial tree (one
// flow at a time from each sender).
enum class Pattern { ring, direct, binomial };
inline constexpr int kPatterns = 3;

struct Costs {
  double call_s = 0;
  double message_s = 0;
  double efficiency[kPatterns] = {1, 1, 1};  // by Pattern
  // A link's token bucket (the testbed's tc tbf): the first burst_bytes of a call's first step
  // move at wire speed, the bucket being full after the idle gap before the call. 0: none.
  double burst_bytes = 0;
  double efficiency_of(Pattern p) const { return efficiency[static_cast<int>(p)]; }
};

// The topology's "gloo" section, each constant not given taken from kDefault.
Costs costs_of(const topo::TopologySpec& spec);

// The defaults: the shipped testbed calibration of 2 ranks on a 100 Mbit/s star (bench/results/
// testbed/star/gloo_fits.csv, docs/testbed.md section 4): one machine's, to be replaced by a fit
// of the user's own cluster (arcsim calibrate --gloo-bench).
extern const Costs kDefault;

// gloo's algorithms: the benchmark's ops (testbed/rank.py) and the sim's runs.
enum class Call { ring_allreduce, ring_allgather, direct_alltoall, binomial_broadcast };

// "allreduce" | "allgather" | "alltoall" | "broadcast" (the benchmark's op names); throws
// std::invalid_argument naming the expected names.
Call parse_bench_op(const std::string& name);
const char* bench_op_name(Call c);
Pattern pattern_of(Call c);

// One gloo call in closed form: `steps` steps, each moving `bytes_per_step` through the busiest
// link while its `messages_per_step` messages' software cost runs alongside (gloo keeps the next
// message's rendezvous going while bytes flow): a step takes max(messages x message_s,
// latency + bytes / (B x efficiency)). `bytes`: ring_allreduce the vector; ring_allgather each
// rank's block; direct_alltoall what a rank sends each peer; binomial_broadcast the vector.
struct Part {
  Call call;
  double steps = 0, messages_per_step = 0, bytes_per_step = 0;
};
Part part(Call c, int p, double bytes);

// The gloo calls of a plan's collective as arcsim.distributed runs it (`algorithm`: the resolved
// one, "ordered" | "ring" | "direct" | "binomial"); `bytes` as the plan counts it (all-reduce:
// the vector; all-gather(v): each rank's block; all-to-all-v: what a rank sends in all).
std::vector<Part> plan_parts(CollectiveOp op, const std::string& algorithm, int p, double bytes);

double seconds(const Part& part, const Costs& c, double latency_s, double bandwidth_Bps);
double seconds(const std::vector<Part>& parts, const Costs& c, double latency_s, double bandwidth_Bps);

// One benchmark point: a call at a size and its measured time (the slowest rank's median).
struct Sample {
  Call call;
  double bytes;
  double seconds;
};

// The constants that minimise the squared relative error over `samples` at p ranks (call_s and
// message_s >= 0, each efficiency in [0.05, 1]; an efficiency whose pattern has no sample keeps
// kDefault's), on links with a token bucket of `burst_bytes` (known, not fitted). Throws
// std::invalid_argument for fewer than 3 samples.
Costs fit(const std::vector<Sample>& samples, int p, double latency_s, double bandwidth_Bps, double burst_bytes = 0);

// The pipeline a call of `c` runs with in the simulation (message level, unchunked): the call's
// cost as start latency; step overhead = the step's messages x message_s, overlapping its bytes;
// wire factor 1 / efficiency; the token bucket as first_step_free_bytes.
Pipeline pipeline(Call c, const Costs& costs, int p, double bytes);

}  // namespace arcsim::sim::gloo
