// Direct all-to-all-v (gloo/alltoallv.cc): every send and every receive posted at once; the links
// share the flows. The messages' software cost (pipe.step_overhead_s) runs before them, or, with
// pipe.overlap_overhead, alongside them.
#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

void direct_alltoallv(Group& g, int me, const std::vector<std::vector<double>>& bytes, const Pipeline& pipe) {
  const int p = g.size();
  overhead_before_posting(pipe);
  double sent = 0;  // the rank's link carries all of them: the token bucket shortens each alike
  for (int s = 1; s < p; ++s) sent += bytes[me][(me + s) % p];
  const double wire_factor = first_step_wire_factor(sent, pipe);
  std::vector<simgrid::s4u::CommPtr> comms;
  for (int s = 1; s < p; ++s) {
    comms.push_back(g.send(me, (me + s) % p, bytes[me][(me + s) % p], wire_factor));
    comms.push_back(g.recv(me, (me - s + p) % p));
  }
  overhead_while_moving(pipe);
  for (auto& c : comms) c->wait();
}

}  // namespace arcsim::sim
