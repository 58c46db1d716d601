// Bruck all-gather: at step k every rank sends to rank - 2^k what it has gathered so far (up to
// 2^k blocks, p - 2^k at the last step) and receives from rank + 2^k. ceil(lg p) alpha + (p-1)/p n beta.
#include <algorithm>

#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

void bruck_allgather(Group& g, int me, double block_bytes, const Pipeline& pipe) {
  const int p = g.size();
  for (int dist = 1; dist < p; dist *= 2) {
    if (pipe.step_overhead_s > 0) simgrid::s4u::this_actor::sleep_for(pipe.step_overhead_s);
    const int nblocks = std::min(dist, p - dist);
    auto s = g.send(me, (me - dist + p) % p, nblocks * block_bytes, pipe.wire_factor);
    auto r = g.recv(me, (me + dist) % p);
    s->wait();
    r->wait();
  }
}

}  // namespace arcsim::sim
