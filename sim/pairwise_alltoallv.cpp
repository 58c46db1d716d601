// Pairwise-exchange all-to-all-v (MPI's pairwise alltoallv): p - 1 steps; at step s rank r sends
// its row entry for (r + s) mod p and receives from (r - s) mod p, then waits for both. The
// diagonal stays local. Every step posts a message, empty or not, as MPI does.
#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

void pairwise_alltoallv(Group& g, int me, const std::vector<std::vector<double>>& bytes, const Pipeline& pipe) {
  const int p = g.size();
  for (int s = 1; s < p; ++s) {
    overhead_before_posting(pipe);
    const int to = (me + s) % p, from = (me - s + p) % p;
    auto out = g.send(me, to, bytes[me][to], pipe.wire_factor);
    auto in = g.recv(me, from);
    in->wait();
    out->wait();
  }
}

}  // namespace arcsim::sim
