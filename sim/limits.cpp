#include "sim/limits.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "common/format.hpp"

namespace arcsim::sim {

void check_message_bytes(double bytes, const std::string& what) {
  if (!std::isfinite(bytes) || bytes < 0)
    throw std::invalid_argument(what + ": expected a non-negative finite number of bytes");
  if (bytes > kMaxMessageBytes)
    throw std::invalid_argument(what + ": expected at most 1 TiB (1099511627776 bytes) per rank, got " +
                                io::format_number(bytes) + " bytes (docs/limits.md)");
}

void check_message_count(double total_bytes, double chunk_bytes, int ranks, const std::string& what) {
  const double steps = 2.0 * std::max(ranks - 1, 1);
  const double per_rank = chunk_bytes > 0 ? std::ceil(2.0 * total_bytes / chunk_bytes) + steps : steps;
  const double messages = per_rank * ranks;
  if (!(messages <= kMaxMessages))
    throw std::invalid_argument(what + ": expected at most " + std::to_string(static_cast<long long>(kMaxMessages)) +
                                " simulated messages per collective at message level, this one needs about " +
                                io::format_number(std::round(messages)) + " (" + io::format_number(total_bytes) +
                                " bytes in " + io::format_number(chunk_bytes) + "-byte chunks over " +
                                std::to_string(ranks) + " ranks); use --fidelity flow or fewer bytes (docs/limits.md)");
}

void check_actor_capacity(int ranks) {
  long max_maps = 65530;
  std::ifstream in("/proc/sys/vm/max_map_count");
  if (in) in >> max_maps;
  // Half of the mappings for the actors' stacks; the rest for the binary, libraries and heap.
  const long needed = static_cast<long>(ranks) * kActorsPerRank * kMappingsPerActor;
  if (needed > max_maps / 2)
    throw std::invalid_argument("nodes: " + std::to_string(ranks) + " ranks need about " + std::to_string(needed) +
                                " memory mappings for SimGrid's actor stacks, expected at most half of "
                                "vm.max_map_count (" + std::to_string(max_maps) + ") on this machine");
}

}  // namespace arcsim::sim
