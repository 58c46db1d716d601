#include "sim/context.hpp"

#include <cmath>
#include <memory>

#include <simgrid/s4u.hpp>

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

namespace {
// Payload pointers are never read: the simulator only moves sizes.
int g_payload = 0;
void* g_sink = nullptr;
}  // namespace

Group::Group(Context& ctx, std::vector<int> members, std::string tag)
    : ctx_(ctx), members_(std::move(members)), tag_(std::move(tag)) {}

int Group::local_of(int g) const {
  for (int i = 0; i < size(); ++i)
    if (members_[i] == g) return i;
  return -1;
}

sg4::Host* Group::host(int local) const { return ctx_.platform.ranks[members_[local]]; }

double Group::bottleneck_Bps(int from, int to) {
  const std::uint64_t key = (static_cast<std::uint64_t>(from) << 32) | static_cast<std::uint32_t>(to);
  auto it = bottleneck_.find(key);
  if (it != bottleneck_.end()) return it->second;
  const double b = topo::route(ctx_.platform, members_[from], members_[to]).bottleneck_Bps;
  bottleneck_.emplace(key, b);
  return b;
}

sg4::Mailbox* Group::box(int from, int to) {
  const std::uint64_t key = (static_cast<std::uint64_t>(from) << 32) | static_cast<std::uint32_t>(to);
  auto it = boxes_.find(key);
  if (it != boxes_.end()) return it->second;
  auto* mb = sg4::Mailbox::by_name(tag_ + ":" + std::to_string(members_[from]) + ">" +
                                   std::to_string(members_[to]));
  boxes_.emplace(key, mb);
  return mb;
}

sg4::CommPtr Group::send(int me, int to, double bytes, double wire_factor) {
  ctx_.bytes_sent[members_[me]] += bytes;
  ctx_.messages += 1;
  const auto wire = static_cast<std::uint64_t>(std::llround(bytes * wire_factor));
  return box(me, to)->put_async(&g_payload, wire);
}

sg4::CommPtr Group::recv(int me, int from) { return box(from, me)->get_async<void>(&g_sink); }

Group& Context::group(const std::string& name, const std::vector<int>& members) {
  auto it = groups_.find(name);
  if (it != groups_.end()) return *it->second;
  auto g = std::make_unique<Group>(*this, members, name);
  auto& ref = *g;
  groups_.emplace(name, std::move(g));
  return ref;
}

Group& Context::world() {
  auto it = groups_.find("w");
  if (it != groups_.end()) return *it->second;
  std::vector<int> all(ranks());
  for (int i = 0; i < ranks(); ++i) all[i] = i;
  return group("w", all);
}

double piece(double total, int parts, int index) {
  const double t = std::round(total);
  return std::floor(t * (index + 1) / parts) - std::floor(t * index / parts);
}

}  // namespace arcsim::sim
