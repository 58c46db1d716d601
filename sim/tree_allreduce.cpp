// Double binary tree all-reduce (the tree NCCL uses): two binary trees over the same ranks, the
// second on mirrored ranks (r -> p-1-r; shifted by one for odd p) so that the interior nodes of
// one are leaves of the other.
// Each tree carries half of the data, cut in chunks; chunks are reduced up the tree and broadcast
// back down, and chunk c+1 goes up while chunk c comes down (pipelining). Each rank runs one actor
// per (tree, direction). No exact closed form: contention between the two trees is left to the
// network model.
#include <algorithm>
#include <deque>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/collectives.hpp"
#include "sim/nccl_model.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

namespace {

// NCCL Simple protocol step size (4 MiB buffer / NCCL_STEPS = 8): used when the profile does not
// chunk (ideal, tcp), since a tree is only sensible pipelined.
constexpr double kDefaultTreeChunk = 512 * 1024;

struct TreeShape {
  int parent = -1;
  std::vector<int> children;
};

// NCCL's double binary tree (sim/nccl_model.hpp): the in-order binary tree and its mirror/shift.
TreeShape shape(int p, int me, bool second) {
  const nccl::Tree t = second ? nccl::dtree_second(p) : nccl::btree(p);
  TreeShape s;
  s.parent = t.parent[me];
  s.children = t.children[me];
  return s;
}

void wait_window(std::deque<sg4::CommPtr>& q, std::size_t limit) {
  while (q.size() > limit) {
    q.front()->wait();
    q.pop_front();
  }
}

// Reduce: gather chunk c from every child, then pass it to the parent (or turn it around at root).
void up(Group& up_g, int me, const TreeShape& s, double bytes, int chunks, const Pipeline& pipe,
        sg4::SemaphorePtr root_ready) {
  if (pipe.step_overhead_s > 0) sg4::this_actor::sleep_for(pipe.step_overhead_s);
  const std::size_t window = std::max(1, pipe.window);
  std::deque<sg4::CommPtr> sends;
  for (int c = 0; c < chunks; ++c) {
    std::vector<sg4::CommPtr> recvs;
    for (int child : s.children) recvs.push_back(up_g.recv(me, child));
    sg4::Comm::wait_all(recvs);
    if (s.parent < 0) {
      root_ready->release();
    } else {
      sends.push_back(up_g.send(me, s.parent, piece(bytes, chunks, c), pipe.wire_factor));
      wait_window(sends, window);
    }
  }
  wait_window(sends, 0);
}

// Broadcast: receive chunk c from the parent (the root takes it from its own reduce), send it on.
void down(Group& down_g, int me, const TreeShape& s, double bytes, int chunks, const Pipeline& pipe,
          sg4::SemaphorePtr root_ready) {
  if (pipe.step_overhead_s > 0) sg4::this_actor::sleep_for(pipe.step_overhead_s);
  const std::size_t window = std::max(1, pipe.window) * std::max<std::size_t>(1, s.children.size());
  std::deque<sg4::CommPtr> sends;
  for (int c = 0; c < chunks; ++c) {
    if (s.parent < 0) root_ready->acquire();
    else down_g.recv(me, s.parent)->wait();
    for (int child : s.children) {
      sends.push_back(down_g.send(me, child, piece(bytes, chunks, c), pipe.wire_factor));
      wait_window(sends, window);
    }
  }
  wait_window(sends, 0);
}

}  // namespace

void tree_allreduce(Group& g, int me, double bytes, const Pipeline& pipe) {
  const int p = g.size();
  if (p < 2) return;
  Context& ctx = g.ctx();
  std::vector<int> members(p);
  for (int i = 0; i < p; ++i) members[i] = g.global(i);
  const double chunk = pipe.chunk_bytes > 0 ? pipe.chunk_bytes : kDefaultTreeChunk;
  std::vector<sg4::ActorPtr> actors;
  for (int t = 0; t < 2; ++t) {
    const std::string tree = t == 0 ? "A" : "B";
    Group& ug = ctx.group(g.tag() + "/t" + tree + "u", members);
    Group& dg = ctx.group(g.tag() + "/t" + tree + "d", members);
    const TreeShape s = shape(p, me, t == 1);
    const double half = piece(bytes, 2, t);
    Pipeline tp = pipe;
    tp.chunk_bytes = chunk;
    const int chunks = chunks_of(half, tp);
    auto sem = sg4::Semaphore::create(0);
    const std::string name = "r" + std::to_string(g.global(me)) + tree;
    actors.push_back(sg4::Actor::create(name + "u", g.host(me), [&ug, me, s, half, chunks, tp, sem] {
      up(ug, me, s, half, chunks, tp, sem);
    }));
    actors.push_back(sg4::Actor::create(name + "d", g.host(me), [&dg, me, s, half, chunks, tp, sem] {
      down(dg, me, s, half, chunks, tp, sem);
    }));
  }
  for (auto& a : actors) a->join();
}

}  // namespace arcsim::sim
