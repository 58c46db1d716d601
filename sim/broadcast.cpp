// Broadcast from local rank 0: binomial tree (ceil(lg p)(alpha + n beta)) and a pipelined chain
// ((p - 2 + C)(alpha + n beta / C) with C chunks, one in flight per hop).
#include <algorithm>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

void binomial_broadcast(Group& g, int me, double bytes, const Pipeline& pipe) {
  const int p = g.size();
  int mask = 1;
  while (mask < p) {
    if (me & mask) {
      g.recv(me, me - mask)->wait();
      break;
    }
    mask <<= 1;
  }
  bool first = true;  // this rank's first send: its links' token bucket is full
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (me + mask < p) {
      overhead_before_posting(pipe);
      auto out = g.send(me, me + mask, bytes, first ? first_step_wire_factor(bytes, pipe) : pipe.wire_factor);
      first = false;
      overhead_while_moving(pipe);
      out->wait();
    }
}

void chain_broadcast(Group& g, int me, double bytes, int chunks, const Pipeline& pipe) {
  const int p = g.size();
  if (p < 2) return;
  chunks = std::max(1, chunks);
  const int window = std::max(1, pipe.window);
  const bool has_prev = me > 0, has_next = me + 1 < p;
  std::vector<sg4::CommPtr> pending;
  std::vector<int> tag;  // >= 0 receive of chunk i; < 0 send
  int next_recv = 0, next_send = 0, arrived = has_prev ? 0 : chunks, recvs = 0, sends = 0;
  if (pipe.step_overhead_s > 0) sg4::this_actor::sleep_for(pipe.step_overhead_s);
  while ((has_prev && next_recv < chunks) || (has_next && next_send < chunks) || !pending.empty()) {
    while (has_prev && next_recv < chunks && recvs < window) {
      pending.push_back(g.recv(me, me - 1));
      tag.push_back(next_recv++);
      ++recvs;
    }
    while (has_next && next_send < chunks && sends < window && next_send < arrived) {
      pending.push_back(g.send(me, me + 1, piece(bytes, chunks, next_send), pipe.wire_factor));
      tag.push_back(-1 - next_send++);
      ++sends;
    }
    if (pending.empty()) break;
    const auto i = static_cast<std::size_t>(sg4::Comm::wait_any(pending));
    if (tag[i] >= 0) {
      ++arrived;  // receives complete in order on one FIFO mailbox from one sender
      --recvs;
    } else {
      --sends;
    }
    pending.erase(pending.begin() + i);
    tag.erase(tag.begin() + i);
  }
}

}  // namespace arcsim::sim
