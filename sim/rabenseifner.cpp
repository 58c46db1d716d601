// Rabenseifner all-reduce: recursive-halving reduce-scatter, then recursive-doubling all-gather.
// On p = 2^k ranks: 2 lg p (alpha) + 2 (p-1)/p n beta. Other p: MPICH's fold (Thakur et al. 2005):
// with q = 2^floor(lg p) and r = p - q, ranks 0..2r-1 pair up (even -> odd sends the whole vector),
// the q survivors run the power-of-two algorithm, and the odd ranks send the result back.
#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

namespace {

void exchange(Group& g, int me, int partner, double bytes, const Pipeline& pipe) {
  if (pipe.step_overhead_s > 0) sg4::this_actor::sleep_for(pipe.step_overhead_s);
  auto s = g.send(me, partner, bytes, pipe.wire_factor);
  auto r = g.recv(me, partner);
  s->wait();
  r->wait();
}

}  // namespace

void rabenseifner_allreduce(Group& g, int me, double bytes, const Pipeline& pipe) {
  const int p = g.size();
  if (p < 2) return;
  int q = 1;
  while (q * 2 <= p) q *= 2;
  const int r = p - q;

  // Fold the extra ranks in.
  int newrank;
  if (me < 2 * r) {
    if (me % 2 == 0) {
      if (pipe.step_overhead_s > 0) sg4::this_actor::sleep_for(pipe.step_overhead_s);
      g.send(me, me + 1, bytes, pipe.wire_factor)->wait();
      g.recv(me, me + 1)->wait();  // the result, at the very end
      return;
    }
    g.recv(me, me - 1)->wait();
    newrank = me / 2;
  } else {
    newrank = me - r;
  }
  auto local_of = [r](int nr) { return nr < r ? 2 * nr + 1 : nr + r; };
  auto blocks = [&](int lo, int hi) {
    double b = 0;
    for (int i = lo; i < hi; ++i) b += piece(bytes, q, i);
    return b;
  };

  // Reduce-scatter by recursive halving: the vector is q blocks; keep the half the partner doesn't.
  int lo = 0, hi = q;
  for (int mask = q / 2; mask >= 1; mask /= 2) {
    const int partner = newrank ^ mask, mid = (lo + hi) / 2;
    const bool keep_low = (newrank & mask) == 0;
    exchange(g, me, local_of(partner), keep_low ? blocks(mid, hi) : blocks(lo, mid), pipe);
    if (keep_low) hi = mid; else lo = mid;
  }
  // All-gather by recursive doubling: send what we hold, the range doubles.
  for (int mask = 1; mask < q; mask *= 2) {
    const int partner = newrank ^ mask, size = hi - lo;
    exchange(g, me, local_of(partner), blocks(lo, hi), pipe);
    if ((newrank & mask) == 0) hi += size; else lo -= size;
  }
  if (me < 2 * r) g.send(me, me - 1, bytes, pipe.wire_factor)->wait();
}

}  // namespace arcsim::sim
