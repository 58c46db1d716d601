#pragma once
// Limits of one simulation, checked before SimGrid is touched (docs/limits.md has the
// measurements). Header-only and free of SimGrid so parsers (plans) can check them too.
#include <string>

namespace arcsim::sim {

// Bytes of one collective per rank (and of any one rank's share of an all-gather-v): 1 TiB. A
// collective's buffer lives in one GPU's memory (141 GB on an H200, 192 GB on a B200), so
// nothing real is larger; below it every byte count and chunk stays exact in a double.
inline constexpr double kMaxMessageBytes = 1099511627776.0;

// SimGrid actors a simulation may start per rank: an iteration runs a GPU-stream actor and a
// communication actor per rank, and the double binary tree adds two helpers per rank.
inline constexpr int kActorsPerRank = 4;

// SimGrid 3.32 gives every actor a stack with a guard page (two memory mappings). When the
// process runs out of mappings (vm.max_map_count, 65530 by default) it aborts ("Failed to protect
// stack", exit 134): measured at 32768 actors on the build machines, fine at 16384.
inline constexpr int kMappingsPerActor = 2;

// Throws std::invalid_argument "<what>: expected ..., got ..." for a negative, non-finite or too
// large byte count.
void check_message_bytes(double bytes, const std::string& what);

// Messages one message-level collective may simulate (--fidelity message, and every profile's
// per-step messages): 10 million. Each message is a SimGrid communication plus its bookkeeping,
// measured on the build machine at about 5 us and 50 bytes each (a 16 GiB ring all-reduce on 16
// ranks: 983,040 messages, 4.9 s, 52 MB); 10 million keep one collective near a minute and half a
// GB. `simulate --fidelity message --bytes 1TiB --nodes 64` would have been 540 million (it grew
// to 3.5 GB and ended in std::bad_alloc). Flow fidelity has no such bound: one flow per step.
inline constexpr double kMaxMessages = 1e7;

// The messages a collective of `total_bytes` over `ranks` ranks sends at message level when the
// pipeline cuts it into `chunk_bytes` pieces (0: one message per step): every rank sends at most
// 2 x total_bytes (an all-reduce's reduce-scatter and all-gather) in 2 (ranks - 1) steps, each
// step at least one message. Throws std::invalid_argument naming `what` above kMaxMessages.
void check_message_count(double total_bytes, double chunk_bytes, int ranks, const std::string& what);

// Throws std::invalid_argument when `ranks` ranks would need more memory mappings than this
// machine allows a process (reads /proc/sys/vm/max_map_count; 65530 when unreadable).
void check_actor_capacity(int ranks);

}  // namespace arcsim::sim
