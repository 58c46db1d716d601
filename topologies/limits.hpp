#pragma once
// The largest networks arcsim simulates, checked when a topology is parsed and resolved, before
// anything reaches SimGrid. docs/limits.md gives the measurements behind each number.
namespace arcsim::topo {

// Simulated ranks (nodes x GPUs per node). Simulation time grows as ranks^3 for a ring
// all-reduce (each of the 2(p-1) steps moves p messages, and every message event re-solves a
// sharing problem over p flows): one 1 MB ring all-reduce takes 2.5 s at 512 ranks, 24 s at 1024
// and 226 s at 2048 on the build machines. 1024 keeps a sweep point within minutes; SimGrid
// itself aborts far above it (about 32k actors, see sim/setup.hpp).
inline constexpr int kMaxRanks = 1024;

// GPUs (ranks) inside one node: the largest single NVLink domain sold (GB200 NVL72) has 72.
inline constexpr int kMaxGpusPerNode = 72;

// NCCL's channels (MAXCHANNELS, src/include/device.h).
inline constexpr int kMaxNcclChannels = 64;

// Any one count in a topology file (hosts per leaf, torus side, dragonfly counts): never more
// than the ranks, so nothing a spec multiplies can overflow.
inline constexpr int kMaxCount = kMaxRanks;

}  // namespace arcsim::topo
