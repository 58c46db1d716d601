#pragma once
// Network-model profiles. Every output names the profile it used.
//   ideal : SimGrid CM02 with cross-traffic off and TCP-gamma 0 -> a transfer of m bytes on a route
//           of latency a and bottleneck bandwidth B takes exactly a + m/B (closed forms to rounding).
//   nccl  : the ideal fluid network, driven the way NCCL drives it: a protocol (LL, LL128, Simple)
//           chosen per collective by NCCL's tuning model, its wire efficiency, per-step software
//           latency, and chunk pipelining with NCCL_STEPS slots in flight (constants: nccl_model.hpp).
//   tcp   : SimGrid's default LV08 model (latency x13.01, bandwidth x0.97, 5 % reverse cross-traffic,
//           TCP window gamma 4 MiB): what an untuned SimGrid user gets.
//   gloo  : the ideal fluid network driven as arcsim.distributed drives gloo over TCP: gloo's
//           algorithm per call, per-call and per-message costs, TCP efficiency (sim/gloo_model.hpp).
#include <span>
#include <string>

#include "common/vocabulary.hpp"

namespace arcsim::sim {

enum class ProfileKind { ideal, nccl, tcp, gloo };

// The profiles, one row each: the spec's "profiles", --profile, its help and its errors read it.
std::span<const vocab::Entry<ProfileKind>> profiles();

// The profile every command uses when none is given (simulate, sweep): NCCL's model, the one
// calibrated against measurements; `ideal` is the closed-form check, asked for by name.
inline constexpr const char* kDefaultProfile = "nccl";

// Throws std::invalid_argument "--profile: expected ideal|nccl|tcp|gloo, got \"x\"".
ProfileKind parse_profile(const std::string& name);
const char* to_string(ProfileKind p);

// How a chunked algorithm moves one step's data: split into chunks of at most chunk_bytes, at most
// `window` chunks in flight per peer, `step_overhead_s` of software latency before each step, and
// `wire_factor` wire bytes per payload byte (protocol flags, headers).
struct Pipeline {
  double chunk_bytes = 0;      // 0: one message per step (no chunking)
  int window = 1;
  double step_overhead_s = 0;
  double wire_factor = 1.0;
  double start_latency_s = 0;  // once per collective (kernel launch / setup)
  // Post chunks to a peer no faster than the route's bottleneck bandwidth carries them (a byte
  // stream, as TCP or an RDMA queue pair sends them). Without it, W equal chunks in flight share the
  // link fairly, finish together, and every window pays the route latency again: a fluid-model
  // artefact that makes pipelining useless at ms latencies.
  bool pace = false;
  // The step's software overhead runs while its bytes move (gloo: the next message's rendezvous
  // alongside this one's bytes): a step takes max(overhead, transfer), not their sum. Unchunked only.
  bool overlap_overhead = false;
  // A link's token bucket: the first step's message(s) of this rank carry this many bytes fewer
  // on the wire (they pass at wire speed after an idle gap). Unchunked only.
  double first_step_free_bytes = 0;
  std::string protocol = "none";
};

// Creates the one SimGrid Engine of this process and configures its network model for the
// profile (must happen before any platform is built). Silences SimGrid's INFO logging.
// Throws std::logic_error if called twice in one process.
void create_engine(ProfileKind profile);

}  // namespace arcsim::sim
