// The training-iteration model. Per node (rank) two actors stand for the two CUDA streams:
//  - the GPU stream: forward, backward (layers in reverse), the compression kernels, and waits on
//    blocking collectives; then the optimizer step;
//  - the comm stream: the bucket's collectives, in the order they were launched (one NCCL stream).
// Buckets are launched in order, each once all its tensors' gradients are ready (DDP). Kernels
// of a bucket run on the GPU stream where the plan puts them; a blocking collective (reference
// compressed hooks) stalls the GPU stream until it finishes; an asynchronous one (DDP's dense
// default) lets backward continue, and whatever follows it in the bucket's plan runs on the comm
// stream after it (a completion callback). Durations are replayed with sleep_for: the compute
// profile already says how long each piece takes.
#include "sim/iteration.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <stdexcept>

#include <simgrid/s4u.hpp>

#include "sim/collective.hpp"
#include "sim/setup.hpp"

namespace arcsim::sim {

namespace sg4 = simgrid::s4u;

namespace {

struct Task {
  int bucket = -1;  // -1: no more work
  std::size_t first = 0, last = 0;
  sg4::SemaphorePtr done;
};

struct RankState {
  std::deque<Task> queue;
  sg4::SemaphorePtr items = sg4::Semaphore::create(0);
  double end = 0, comm_busy = 0, gpu_kernels = 0, callback_kernels = 0;
};

// Seconds after the start of backward at which each bucket may be launched (in bucket order).
std::vector<double> launch_times(const Plan& plan, const ComputeProfile& compute) {
  std::map<std::string, double> ready_at;  // parameter -> end of its layer's backward
  double t = 0;
  for (auto it = compute.layers.rbegin(); it != compute.layers.rend(); ++it) {
    t += it->backward_s;
    for (const auto& p : it->params) ready_at[p] = t;
  }
  const double backward = t;
  double total_elements = 0;
  for (const auto& b : plan.buckets) total_elements += b.elements;
  std::vector<double> out;
  double cum_elements = 0, prev = 0;
  for (const auto& b : plan.buckets) {
    cum_elements += b.elements;
    double ready = 0;
    if (b.tensors.empty()) {
      // No tensor names: assume gradients arrive at a uniform rate over backward, by elements.
      ready = total_elements > 0 ? backward * cum_elements / total_elements : backward;
    } else {
      for (const auto& name : b.tensors) {
        auto f = ready_at.find(name);
        if (f == ready_at.end())
          throw std::invalid_argument("plan: buckets[" + std::to_string(b.bucket) + "].tensors: \"" + name +
                                      "\" is not a parameter of the compute profile");
        ready = std::max(ready, f->second);
      }
    }
    prev = std::max(prev, ready);  // DDP launches buckets in order
    out.push_back(prev);
  }
  return out;
}

}  // namespace

IterationBreakdown simulate_iteration(const NetworkConfig& net, const Plan& plan,
                                      const ComputeProfile& compute, const IterationOptions& options) {
  const auto launch = launch_times(plan, compute);  // input errors before SimGrid starts
  auto ctx = make_context(net);
  Context* c = ctx.get();
  const int P = c->ranks();

  // Resolve every collective once: the same decision on every rank.
  std::vector<std::vector<ResolvedCall>> calls(plan.buckets.size());
  std::map<std::string, int> used;  // (algorithm/protocol) -> collective calls, for reports
  for (std::size_t b = 0; b < plan.buckets.size(); ++b)
    for (const auto& op : plan.buckets[b].ops) {
      ResolvedCall rc;
      if (op.kind == OpKind::collective) {
        CollectiveCall call;
        call.op = op.op;
        call.algorithm = algorithm_for(op.op, net.algorithm);
        call.bytes = op.bytes_per_rank;
        call.by_rank = op.bytes_by_rank;
        call.matrix = op.bytes_matrix;
        call.scaling = op.scaling;
        rc = resolve_call(*c, call);
        ++used[rc.label()];
      }
      calls[b].push_back(std::move(rc));
    }

  std::vector<RankState> state(P);
  const double backward = compute.backward_s();

  for (int r = 0; r < P; ++r) {
    RankState* st = &state[r];
    // Comm stream.
    sg4::Actor::create("comm" + std::to_string(r), c->platform.ranks[r], [c, r, st, &plan, &calls] {
      for (;;) {
        st->items->acquire();
        Task t = st->queue.front();
        st->queue.pop_front();
        if (t.bucket < 0) return;
        const auto& ops = plan.buckets[t.bucket].ops;
        for (std::size_t i = t.first; i < t.last; ++i) {
          if (ops[i].kind == OpKind::kernel) {
            sg4::this_actor::sleep_for(ops[i].duration_s);
            st->callback_kernels += ops[i].duration_s;
          } else {
            const double t0 = sg4::Engine::get_clock();
            run_collective(*c, r, calls[t.bucket][i]);
            st->comm_busy += sg4::Engine::get_clock() - t0;
          }
        }
        t.done->release();
      }
    });
    // GPU stream.
    sg4::Actor::create("gpu" + std::to_string(r), c->platform.ranks[r],
                       [st, &plan, &compute, &launch, &options, backward] {
      auto submit = [st](int bucket, std::size_t first, std::size_t last) {
        auto done = sg4::Semaphore::create(0);
        st->queue.push_back({bucket, first, last, done});
        st->items->release();
        return done;
      };
      std::vector<sg4::SemaphorePtr> outstanding;
      auto handle = [&](int b) {
        const auto& ops = plan.buckets[b].ops;
        for (std::size_t i = 0; i < ops.size(); ++i) {
          if (ops[i].kind == OpKind::kernel) {
            sg4::this_actor::sleep_for(ops[i].duration_s);
            st->gpu_kernels += ops[i].duration_s;
            continue;
          }
          if (options.blocking.value_or(ops[i].blocking)) {
            submit(b, i, i + 1)->acquire();
          } else {
            outstanding.push_back(submit(b, i, ops.size()));
            return;
          }
        }
      };
      sg4::this_actor::sleep_for(compute.fixed_s + compute.forward_s);
      double done = 0;  // seconds of backward work done
      if (!options.overlap) {
        sg4::this_actor::sleep_for(backward);
        done = backward;
      }
      for (std::size_t b = 0; b < plan.buckets.size(); ++b) {
        if (launch[b] > done) {
          sg4::this_actor::sleep_for(launch[b] - done);
          done = launch[b];
        }
        handle(static_cast<int>(b));
      }
      if (backward > done) sg4::this_actor::sleep_for(backward - done);
      for (auto& s : outstanding) s->acquire();  // DDP's finalize: wait for every bucket
      sg4::this_actor::sleep_for(compute.optimizer_s);
      st->end = sg4::Engine::get_clock();
      st->queue.push_back({-1, 0, 0, nullptr});
      st->items->release();
    });
  }
  sg4::Engine::get_instance()->run();

  IterationBreakdown out;
  for (const auto& s : state) out.total_s = std::max(out.total_s, s.end);
  out.compute_s = compute.fixed_s + compute.forward_s + backward + compute.optimizer_s;
  out.compression_s = state[0].gpu_kernels + state[0].callback_kernels;
  out.exposed_comm_s = std::max(0.0, out.total_s - out.compute_s - state[0].gpu_kernels);
  out.comm_s = state[0].comm_busy;
  // Per machine: one host over the socket transport is one node, however NCCL sees its GPUs.
  const int N = c->platform.topology.hosts, G = P / N;
  std::vector<double> per_node(N, 0.0);
  for (int r = 0; r < P; ++r) per_node[r / G] += c->bytes_sent[r];
  for (double b : per_node) {
    out.bytes_per_node += b / N;
    out.bytes_per_node_max = std::max(out.bytes_per_node_max, b);
  }
  out.profile = net.profile;
  out.nodes = N;
  out.ranks = P;
  out.messages = c->messages;
  out.topology = c->platform.topology.spec.name;
  out.transport = c->platform.topology.transport;
  out.algorithm = net.algorithm;
  out.algorithms_used = format_algorithms_used(used);
  return out;
}

nlohmann::json to_json(const IterationBreakdown& b) {
  return {{"total_s", b.total_s}, {"compute_s", b.compute_s}, {"compression_s", b.compression_s},
          {"exposed_comm_s", b.exposed_comm_s}, {"comm_s", b.comm_s},
          {"bytes_per_node", b.bytes_per_node}, {"bytes_per_node_max", b.bytes_per_node_max},
          {"profile", b.profile}, {"nodes", b.nodes}, {"ranks", b.ranks},
          {"messages", b.messages}, {"topology", b.topology}, {"transport", b.transport}, {"algorithm", b.algorithm},
          {"algorithms_used", b.algorithms_used}};
}

}  // namespace arcsim::sim
