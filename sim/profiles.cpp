// The profiles' table, parser and names: free of SimGrid, so spec parsers (and the fuzzer) link it
// without the engine.
#include <stdexcept>

#include "sim/profile.hpp"

namespace arcsim::sim {

namespace {

constexpr vocab::Entry<ProfileKind> kProfiles[] = {
    {"ideal", "CM02, no cross-traffic, TCP-gamma 0: the closed forms to rounding", ProfileKind::ideal},
    {"nccl", "the ideal network driven as NCCL drives it (protocols, wire efficiency, step latency, pipelining)",
     ProfileKind::nccl},
    {"tcp", "SimGrid's default LV08 model (latency and bandwidth factors, cross-traffic, TCP window)",
     ProfileKind::tcp},
    {"gloo",
     "arcsim.distributed over gloo and TCP: gloo's algorithms, per-call and per-message costs, TCP efficiency "
     "(the topology's \"gloo\" section, arcsim calibrate --gloo-bench)",
     ProfileKind::gloo},
};

}  // namespace

std::span<const vocab::Entry<ProfileKind>> profiles() { return kProfiles; }

ProfileKind parse_profile(const std::string& name) {
  if (const auto* e = vocab::find(kProfiles, name)) return e->value;
  throw std::invalid_argument("--profile: " + vocab::expected(kProfiles, name));
}

const char* to_string(ProfileKind p) {
  for (const auto& e : kProfiles)
    if (e.value == p) return e.name.data();  // the table's literals are NUL-terminated
  return "?";
}

}  // namespace arcsim::sim
