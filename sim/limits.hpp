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

// Throws std::invalid_argument when `ranks` ranks would need more memory mappings than this
// machine allows a process (reads /proc/sys/vm/max_map_count; 65530 when unreadable).
void check_actor_capacity(int ranks);

}  // namespace arcsim::sim
