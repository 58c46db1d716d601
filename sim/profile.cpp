#include "sim/profile.hpp"

#include <stdexcept>

#include <simgrid/s4u.hpp>
#include <xbt/log.h>

namespace arcsim::sim {

void create_engine(ProfileKind profile) {
  static bool created = false;
  if (created) throw std::logic_error("SimGrid allows one Engine per process (fork one per point)");
  created = true;
  int argc = 1;
  static char name[] = "arcsim";
  static char* argv[] = {name, nullptr};
  // The Engine lives until the process ends: SimGrid cannot make a second one anyway.
  auto* e = new simgrid::s4u::Engine(&argc, argv);
  // Before any set_config: each configuration change is logged at INFO level otherwise.
  xbt_log_control_set("root.thres:error");
  if (profile == ProfileKind::tcp) return;  // LV08 and its defaults, on purpose
  // Exact alpha-beta: no latency/bandwidth factors (CM02), no reverse
  // ACK flow (crosstraffic), no TCP window cap (gamma 0; it would cap flows at gamma/(2 latency)).
  e->set_config("network/model:CM02");
  e->set_config("network/crosstraffic:0");
  e->set_config("network/TCP-gamma:0");
}

}  // namespace arcsim::sim
