// The chunk-pipelined ring: the engine under ring all-reduce, reduce-scatter and all-gather(v).
#include <algorithm>
#include <cmath>

#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

void overhead_before_posting(const Pipeline& pipe) {
  if (pipe.step_overhead_s > 0 && !pipe.overlap_overhead) sg4::this_actor::sleep_for(pipe.step_overhead_s);
}

void overhead_while_moving(const Pipeline& pipe) {
  if (pipe.step_overhead_s > 0 && pipe.overlap_overhead) sg4::this_actor::sleep_for(pipe.step_overhead_s);
}

double first_step_wire_factor(double bytes, const Pipeline& pipe) {
  if (pipe.first_step_free_bytes <= 0 || bytes <= 0) return pipe.wire_factor;
  return pipe.wire_factor * std::max(0.0, 1.0 - pipe.first_step_free_bytes / bytes);
}

int chunks_of(double bytes, const Pipeline& pipe) {
  if (pipe.chunk_bytes <= 0 || bytes <= pipe.chunk_bytes) return 1;
  return static_cast<int>(std::ceil(bytes / pipe.chunk_bytes));
}

void ring_pipeline(Group& g, int me, int steps, const std::function<double(int, int)>& step_bytes,
                   const Pipeline& pipe) {
  const int p = g.size();
  if (p < 2 || steps < 1) return;
  const int right = (me + 1) % p, left = (me + p - 1) % p;

  if (pipe.chunk_bytes <= 0 && pipe.window <= 1 && !pipe.pace) {
    // Unchunked, one step at a time (ideal, tcp): the fast path, 2 activities per step.
    for (int s = 0; s < steps; ++s) {
      overhead_before_posting(pipe);
      const double b = step_bytes(me, s);
      auto out = g.send(me, right, b, s == 0 ? first_step_wire_factor(b, pipe) : pipe.wire_factor);
      auto in = g.recv(me, left);
      overhead_while_moving(pipe);
      in->wait();
      out->wait();
    }
    return;
  }

  // What this rank sends, in order: (step, piece, bytes). What it receives mirrors the left
  // neighbour's sends; we only count them (piece c of step s is receive number first[s] + c).
  struct Msg { int step, piece; double bytes; };
  std::vector<Msg> out;
  std::vector<int> first_recv(steps + 1, 0), recv_pieces(steps, 0);
  for (int s = 0; s < steps; ++s) {
    const double b = step_bytes(me, s);
    const int c = chunks_of(b, pipe);
    for (int k = 0; k < c; ++k) out.push_back({s, k, piece(b, c, k)});
    recv_pieces[s] = chunks_of(step_bytes(left, s), pipe);
  }
  for (int s = 0; s < steps; ++s) first_recv[s + 1] = first_recv[s] + recv_pieces[s];
  const int total_out = static_cast<int>(out.size());
  const int total_in = first_recv[steps];

  std::vector<char> arrived(total_in, 0);
  std::vector<sg4::CommPtr> pending;  // sends and receives in flight
  std::vector<int> tag;               // >= 0: receive index; < 0: send (-1 - index)
  int next_send = 0, next_recv = 0, sends_in_flight = 0, recvs_in_flight = 0;
  int last_step_started = -1;
  const int window = std::max(1, pipe.window);

  // Pacing: the earliest time the next chunk may be posted (see Pipeline::pace).
  const double pace_Bps = pipe.pace ? g.bottleneck_Bps(me, right) : 0;
  double next_post = 0;

  while (next_send < total_out || next_recv < total_in || !pending.empty()) {
    while (next_recv < total_in && recvs_in_flight < window) {
      pending.push_back(g.recv(me, left));
      tag.push_back(next_recv++);
      ++recvs_in_flight;
    }
    bool paced_out = false;
    while (next_send < total_out && sends_in_flight < window) {
      const Msg& m = out[next_send];
      if (m.step > 0) {
        const int need = first_recv[m.step - 1] + std::min(m.piece, recv_pieces[m.step - 1] - 1);
        if (!arrived[need]) break;
      }
      if (pace_Bps > 0 && sg4::Engine::get_clock() < next_post) {
        paced_out = true;
        break;
      }
      if (m.step != last_step_started) {
        last_step_started = m.step;
        if (pipe.step_overhead_s > 0) sg4::this_actor::sleep_for(pipe.step_overhead_s);
      }
      pending.push_back(g.send(me, right, m.bytes, pipe.wire_factor));
      tag.push_back(-1 - next_send++);
      ++sends_in_flight;
      if (pace_Bps > 0)
        next_post = std::max(next_post, sg4::Engine::get_clock()) + m.bytes * pipe.wire_factor / pace_Bps;
    }
    const double timeout = paced_out ? next_post - sg4::Engine::get_clock() : -1;
    if (pending.empty()) {
      if (!paced_out) break;
      sg4::this_actor::sleep_for(timeout);
      continue;
    }
    const auto got = sg4::Comm::wait_any_for(pending, timeout);
    if (got < 0) continue;  // pacing delay over: post the next chunk
    const auto i = static_cast<std::size_t>(got);
    if (tag[i] >= 0) {
      arrived[tag[i]] = 1;
      --recvs_in_flight;
    } else {
      --sends_in_flight;
    }
    pending.erase(pending.begin() + i);
    tag.erase(tag.begin() + i);
  }
}

void ring_allreduce(Group& g, int me, double bytes, const Pipeline& pipe) {
  const int p = g.size();
  // Step s sends block (me - s) mod p in both phases; blocks are the integral pieces of `bytes`.
  ring_pipeline(g, me, 2 * (p - 1),
                [&](int r, int s) { return piece(bytes, p, ((r - s) % p + p) % p); }, pipe);
}

void ring_reduce_scatter(Group& g, int me, double bytes, const Pipeline& pipe) {
  const int p = g.size();
  ring_pipeline(g, me, p - 1, [&](int r, int s) { return piece(bytes, p, ((r - s) % p + p) % p); }, pipe);
}

void ring_allgather(Group& g, int me, const std::vector<double>& block_bytes, const Pipeline& pipe) {
  const int p = g.size();
  ring_pipeline(g, me, p - 1, [&](int r, int s) { return block_bytes[((r - s) % p + p) % p]; }, pipe);
}

}  // namespace arcsim::sim
