#include "replay_stream.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/catalogue.hpp"
#include "kernels/error_feedback.hpp"
#include "kernels/finite.hpp"
#include "kernels/metric_sums.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"

namespace arcsim::experiments {

namespace k = arcsim::kernels;

namespace {

// Collectives whose data the streamed step has already combined: it only logs them (through a
// RecordingCommunicator on top), so the plan ops are those of the Compressor's call.
class LogOnly final : public k::Communicator {
 public:
  explicit LogOnly(int workers) : workers_(workers) {}
  int world_size() const override { return workers_; }
  int local_workers() const override { return workers_; }
  void allreduce_sum(std::span<const float* const>, std::size_t, float*, bool, k::DType) override {}
  void allgather(std::span<const void* const>, std::size_t, k::DType, void*, bool) override {}
  void allgatherv(std::span<const void* const>, std::span<const std::size_t>, k::DType, void*, bool,
                  k::SizeScaling) override {}
  void alltoallv(std::span<const void* const>, std::span<const std::size_t>, k::DType, std::span<void* const>, bool,
                 k::SizeScaling) override {}
  void broadcast(std::span<const void* const>, std::size_t, k::DType, int, void*, bool) override {}

 private:
  int workers_;
};

// One plan kernel whose work is done in several timed regions (one per worker): the duration is
// their sum divided by `repeats`, as KernelTimer divides one region running every worker.
class Timed {
 public:
  Timed(k::Backend& be, k::KernelId id, const k::KernelWork& work, std::size_t repeats) : be_(be), repeats_(repeats) {
    const k::KernelSpec& spec = k::kernel_spec(id);
    rec_.name = spec.name;
    rec_.elements = spec.elements(work);
    rec_.bytes_moved = spec.bytes_moved(work);
  }
  template <class F>
  void run(F&& f) {
    be_.timer_begin();
    f();
    seconds_ += be_.timer_seconds();
  }
  k::PlanOp op() {
    rec_.duration_s = seconds_ / static_cast<double>(repeats_);
    rec_.duration_source = be_.duration_source();
    k::PlanOp p;
    p.kind = k::PlanOp::Kind::kKernel;
    p.kernel = rec_;
    return p;
  }
  void record(k::Communicator& comm) { comm.record_kernel(op().kernel); }

 private:
  k::Backend& be_;
  std::size_t repeats_;
  double seconds_ = 0.0;
  k::KernelRecord rec_;
};

// Worker w's gradients, checked finite (the Compressor's message) and added to the per-element
// double sums in worker order (the means of its metrics).
void read_worker(const WorkerGradients& grads, int w, std::size_t n, float* g, double* gsum) {
  grads(w, g);
  k::require_finite(g, n, w);
  if (gsum) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (std::size_t i = 0; i < n; ++i) gsum[i] += g[i];
  }
}

// out = in[0], then out += in[w] in worker order: the emulated all-reduce's sum, one worker at a time.
void accumulate(int w, const float* in, std::size_t count, float* out) {
  if (w == 0) {
    if (count) std::memcpy(out, in, count * sizeof(float));
    return;
  }
#pragma omp parallel for schedule(static) if (count > 65536)
  for (std::size_t i = 0; i < count; ++i) out[i] += in[i];
}

// The Compressor's two metrics: the retained energy from the per-element sums of the compressor's
// inputs (insum: EF21's g - e), the relative error from those of the raw gradients (gsum). With no
// EF or EF14 from a zero state (u = g + 0) the inputs are the gradients (insum is gsum), and one
// pass gives both, as in the Compressor.
void metrics(const std::vector<double>& insum, const std::vector<double>& gsum, int workers, const float* agg,
             const std::vector<std::uint8_t>& selected, k::StepReport& rep) {
  const double W = static_cast<double>(workers);
  auto mean = [&](const std::vector<double>& sum, std::size_t lo, std::size_t len, double* m) {
    for (std::size_t i = 0; i < len; ++i) m[i] = sum[lo + i] / W;
  };
  const std::size_t n = gsum.size();
  std::array<double, 3> s;  // total, kept, num
  double den;
  if (&insum == &gsum) {
    s = k::metric_sums<3>(n, [&](std::size_t lo, std::size_t len, std::array<double*, 3>& t) {
      mean(gsum, lo, len, t[0]);
      k::metric_terms(t[0], len, agg + lo, t[2], selected.data() + lo, t[1]);
    });
    den = s[0];
  } else {
    const auto energy = k::metric_sums<2>(n, [&](std::size_t lo, std::size_t len, std::array<double*, 2>& t) {
      mean(insum, lo, len, t[0]);
      k::metric_terms(t[0], len, nullptr, nullptr, selected.data() + lo, t[1]);
    });
    const auto error = k::metric_sums<2>(n, [&](std::size_t lo, std::size_t len, std::array<double*, 2>& t) {
      mean(gsum, lo, len, t[1]);
      k::metric_terms(t[1], len, agg + lo, t[0], nullptr, nullptr);
    });
    s = {energy[0], energy[1], error[0]};
    den = error[1];
  }
  const auto [total, kept, num] = s;
  rep.retained_energy = k::retained_energy(kept, total);
  rep.grad_energy = den;
  rep.relative_error = k::relative_error(num, den);
}

struct Step {
  Step(const k::CompressorConfig& c, int workers, std::uint32_t b, const k::BucketLayout& l, const WorkerGradients& gr,
       const WorkerGradients* pr, k::Backend& backend, float* out)
      : cfg(c), W(workers), bucket(b), layout(l), grads(gr), prime(pr), be(backend), agg(out) {}
  const k::CompressorConfig& cfg;
  int W;
  std::uint32_t bucket;
  const k::BucketLayout& layout;
  const WorkerGradients& grads;
  const WorkerGradients* prime;  // EF21/EF21M dense start: each worker's gradients of the initial call
  k::Backend& be;
  float* agg;
  std::size_t n = layout.numel();
  k::ErrorFeedback ef = k::error_feedback(cfg.ef);
  bool ef14 = ef == k::ErrorFeedback::ef14, ef21 = k::is_ef21_family(ef), ef21m = ef == k::ErrorFeedback::ef21m;
  bool dense_start = ef21 && cfg.ef21_init == "dense";
  std::uint32_t call = dense_start ? 1 : 0;  // the compressed call follows the dense start
  LogOnly log{W};
  k::RecordingCommunicator comm{log};
  k::StepReport rep;
  std::vector<double> gsum = std::vector<double>(n, 0.0);
  std::vector<std::uint8_t> selected = std::vector<std::uint8_t>(n, 0);
  std::vector<float> g = std::vector<float>(n), e = std::vector<float>(ef14 || ef21 ? n : 0);
  // EF21/EF21M: the compressor input x = g - e (h - e), the momentum h, the aggregate state ebar
  // (after the dense start: the mean of the initial gradients) and the inputs' per-element sums.
  std::vector<float> x = std::vector<float>(ef21 ? n : 0), h = std::vector<float>(ef21m ? n : 0),
                     ebar = std::vector<float>(ef21 ? n : 0);
  std::vector<double> xsum = std::vector<double>(ef21 ? n : 0, 0.0);

  // Worker w's compressor input: its gradients; EF14's u = g + e with e = 0 (in e); EF21's
  // x = g - e (EF21M's x = h - e after the momentum step from h = e), e being the worker's
  // gradients of the dense start (summed into ebar in worker order, the start's all-reduce) or 0.
  // sum: the first read of worker w (ARC-Top-K reads each twice), which adds to the sums.
  const float* input(int w, Timed* ef_input, bool sum) {
    read_worker(grads, w, n, g.data(), sum ? gsum.data() : nullptr);
    if (!ef14 && !ef21) return g.data();
    if (dense_start) {
      read_worker(*prime, w, n, e.data(), nullptr);
      if (sum) accumulate(w, e.data(), n, ebar.data());
    }
    auto f = [&] {
      if (ef14) {
        be.zero(e.data(), n);
        be.ef_add(g.data(), e.data(), n, e.data());
        return;
      }
      if (!dense_start) be.zero(e.data(), n);
      if (!ef21m) return be.ef_sub(g.data(), e.data(), n, x.data());
      if (n) std::memcpy(h.data(), e.data(), n * sizeof(float));
      if (cfg.momentum == "heavy-ball") be.heavy_ball_update(h.data(), g.data(), n, static_cast<float>(cfg.beta));
      else be.momentum_update(h.data(), g.data(), n, static_cast<float>(cfg.eta));
      be.ef_sub(h.data(), e.data(), n, x.data());
    };
    if (ef_input) ef_input->run(f);
    else f();
    if (ef14) return e.data();
    if (sum) {
#pragma omp parallel for schedule(static) if (n > 65536)
      for (std::size_t i = 0; i < n; ++i) xsum[i] += x[i];
    }
    return x.data();
  }
  // EF14's e = u - c (EF21's e = e + c), c = the worker's own message made dense by `densify`
  // into g (free by now). EF21's new e dies with the bucket; it is computed for its kernel time.
  template <class Densify>
  void ef_update(Timed& t, Densify densify) {
    if (!ef14 && !ef21) return;
    be.zero(g.data(), n);
    densify(g.data());
    if (ef14) t.run([&] { be.ef14_residual(e.data(), g.data(), n, e.data()); });
    else t.run([&] { be.ef_accumulate(e.data(), g.data(), n); });
  }

  void dense() {
    Timed avg(be, k::KernelId::kAverage, {.n = n}, 1);
    for (int w = 0; w < W; ++w) accumulate(w, input(w, nullptr, true), n, agg);
    comm.allreduce_sum({}, n, agg, false);
    avg.run([&] { be.divide(agg, n, W); });
    avg.record(comm);
    std::fill(selected.begin(), selected.end(), 1);
    rep.k = rep.values_per_rank = n;
  }

  void topk(Timed* efi, Timed& efu) {
    const std::size_t tensors = layout.shapes.size();
    std::size_t total_k = 0;
    for (std::size_t t = 0; t < tensors; ++t) total_k += k::k_of(rep.ratio, layout.numel(t));
    Timed select(be, k::KernelId::kTopkSelect, {.n = n, .k = total_k}, W);
    Timed add(be, k::KernelId::kTopkScatterAdd, {.n = n, .k = total_k, .workers = static_cast<std::size_t>(W)}, 1);
    std::vector<std::uint32_t> idx(total_k);
    std::vector<float> vals(total_k);
    for (int w = 0; w < W; ++w) {
      const float* in = input(w, efi, true);
      select.run([&] {
        std::size_t pos = 0;
        for (std::size_t t = 0; t < tensors; ++t) {
          const std::size_t off = layout.offset(t), numel = layout.numel(t), kt = k::k_of(rep.ratio, numel);
          be.topk_magnitude(in + off, numel, kt, idx.data() + pos);
          for (std::size_t i = 0; i < kt; ++i) idx[pos + i] += static_cast<std::uint32_t>(off);
          pos += kt;
        }
        be.gather(in, idx.data(), total_k, vals.data());
      });
      // The scatter-add of the all-gathered messages adds worker w's after workers 0..w-1's.
      add.run([&] {
        if (w == 0) be.zero(agg, n);
        be.scatter_add(vals.data(), idx.data(), total_k, agg);
      });
      for (auto i : idx) selected[i] = 1;
      ef_update(efu, [&](float* dst) { be.scatter(vals.data(), idx.data(), total_k, dst); });
    }
    add.run([&] { be.divide(agg, n, W); });
    select.record(comm);
    comm.allgather({}, total_k, k::DType::kFloat32, nullptr, true);
    comm.allgather({}, total_k, k::DType::kInt32, nullptr, true);
    add.record(comm);
    rep.k = rep.values_per_rank = total_k;
  }

  void randk(Timed* efi, Timed& efu) {
    const std::size_t tensors = layout.shapes.size();
    std::size_t total_k = 0;
    for (std::size_t t = 0; t < tensors; ++t) total_k += k::k_of(rep.ratio, layout.numel(t));
    Timed indices(be, k::KernelId::kRandkIndices, {.n = n, .k = total_k}, 1);
    Timed gather(be, k::KernelId::kRandkGather, {.n = n, .k = total_k}, W);
    Timed scatter(be, k::KernelId::kRandkScatter, {.n = n, .k = total_k}, 1);
    std::vector<std::uint32_t> idx(total_k);
    std::vector<float> scale(total_k, 1.0f), vals(total_k), sum(total_k);
    indices.run([&] {
      std::size_t pos = 0;
      for (std::size_t t = 0; t < tensors; ++t) {
        const std::size_t off = layout.offset(t), numel = layout.numel(t), kt = k::k_of(rep.ratio, numel);
        be.randk_indices(numel, kt, cfg.seed, call, k::tensor_id(bucket, t), idx.data() + pos);
        for (std::size_t i = 0; i < kt; ++i) {
          idx[pos + i] += static_cast<std::uint32_t>(off);
          if (cfg.unbiased) scale[pos + i] = static_cast<float>(static_cast<double>(numel) / static_cast<double>(kt));
        }
        pos += kt;
      }
    });
    for (int w = 0; w < W; ++w) {
      const float* in = input(w, efi, true);
      gather.run([&] {
        be.gather(in, idx.data(), total_k, vals.data());
        if (cfg.unbiased)
          for (std::size_t i = 0; i < total_k; ++i) vals[i] *= scale[i];
      });
      accumulate(w, vals.data(), total_k, sum.data());
      ef_update(efu, [&](float* dst) { be.scatter(vals.data(), idx.data(), total_k, dst); });
    }
    scatter.run([&] {
      be.divide(sum.data(), total_k, W);
      be.zero(agg, n);
      be.scatter(sum.data(), idx.data(), total_k, agg);
    });
    for (auto i : idx) selected[i] = 1;
    indices.record(comm);
    gather.record(comm);
    comm.allreduce_sum({}, total_k, sum.data(), true);
    scatter.record(comm);
    rep.k = rep.values_per_rank = total_k;
  }

  void arctopk(Timed* efi, Timed& efu) {
    const std::size_t tensors = layout.shapes.size();
    const auto r = static_cast<std::size_t>(cfg.rank);
    const bool exact = cfg.row_scores == "exact";
    const k::ShapeRule rule = k::parse_shape_rule(cfg.shape_rule);
    std::vector<k::RowView> views(tensors);
    // The offsets are sized from kt: from `tensors + 1` GCC 12 warns (-Walloc-size-larger-than, a false positive).
    std::vector<std::size_t> kt(tensors), sk_off(kt.size() + 1, 0), val_off(kt.size() + 1, 0);
    std::size_t viewed = 0, total_rows = 0;
    for (std::size_t t = 0; t < tensors; ++t) {
      views[t] = k::row_view(layout.shapes[t], rule, cfg.rank, exact, layout.name(t));
      const k::RowView& v = views[t];
      sk_off[t + 1] = sk_off[t] + v.rows * (v.own_sketch ? v.cols : r);
      kt[t] = k::k_of(rep.ratio, v.rows);
      val_off[t + 1] = val_off[t] + kt[t] * v.cols;
      viewed += v.rows * v.cols;
      total_rows += v.rows;
    }
    const std::size_t sketch_total = sk_off[tensors], values_total = val_off[tensors];
    Timed sketch(be, k::KernelId::kArcSketch, {.n = viewed, .sketch = sketch_total}, W);
    Timed select(be, k::KernelId::kArcSelectRows, {.rows = total_rows, .sketch = sketch_total}, 1);
    Timed gather(be, k::KernelId::kArcGatherRows, {.k = values_total}, W);
    Timed scatter(be, k::KernelId::kArcScatterRows, {.n = n, .k = values_total}, 1);

    // Pass 1: sketches, their worker-order sum, and the float mean of the inputs (row recall).
    std::vector<float> sk(sketch_total), avg(sketch_total), mean(n, 0.0f);
    for (int w = 0; w < W; ++w) {
      const float* in = input(w, efi, true);
      sketch.run([&] {
        for (std::size_t t = 0; t < tensors; ++t) {
          const k::RowView& v = views[t];
          const float* x = in + layout.offset(t);
          float* p = sk.data() + sk_off[t];
          if (v.own_sketch) {
            if (v.rows * v.cols != 0) std::memcpy(p, x, v.rows * v.cols * sizeof(float));
          } else {
            be.sketch(x, v.rows, v.cols, cfg.rank, cfg.seed, call, k::tensor_id(bucket, t), p);
          }
        }
      });
      accumulate(w, sk.data(), sketch_total, avg.data());
      for (std::size_t t = 0; t < tensors; ++t)
        be.ef_accumulate(mean.data() + layout.offset(t), in + layout.offset(t), views[t].rows * views[t].cols);
    }
    std::vector<std::vector<std::uint32_t>> rows(tensors);
    select.run([&] {
      be.divide(avg.data(), sketch_total, W);
      for (std::size_t t = 0; t < tensors; ++t) {
        const k::RowView& v = views[t];
        std::vector<float> scores(v.rows);
        be.row_scores(avg.data() + sk_off[t], v.rows, v.own_sketch ? v.cols : r, scores.data());
        rows[t].resize(kt[t]);
        be.topk_rows(scores.data(), v.rows, kt[t], rows[t].data());
      }
    });
    recall(views, kt, rows, mean);
    std::vector<float>().swap(mean);

    // Pass 2: every worker's selected rows (its input read again), their worker-order sum.
    std::vector<float> vals(values_total), vsum(values_total);
    for (int w = 0; w < W; ++w) {
      const float* in = input(w, nullptr, false);
      gather.run([&] {
        for (std::size_t t = 0; t < tensors; ++t)
          be.gather_rows(in + layout.offset(t), views[t].cols, rows[t].data(), kt[t], vals.data() + val_off[t]);
      });
      accumulate(w, vals.data(), values_total, vsum.data());
      ef_update(efu, [&](float* dst) {
        for (std::size_t t = 0; t < tensors; ++t)
          be.scatter_rows(vals.data() + val_off[t], views[t].cols, rows[t].data(), kt[t], dst + layout.offset(t));
      });
    }
    scatter.run([&] {
      be.divide(vsum.data(), values_total, W);
      be.zero(agg, n);
      for (std::size_t t = 0; t < tensors; ++t)
        be.scatter_rows(vsum.data() + val_off[t], views[t].cols, rows[t].data(), kt[t], agg + layout.offset(t));
    });
    for (std::size_t t = 0; t < tensors; ++t)
      for (auto row : rows[t]) {
        auto first = selected.begin() + static_cast<std::ptrdiff_t>(layout.offset(t) + row * views[t].cols);
        std::fill(first, first + static_cast<std::ptrdiff_t>(views[t].cols), 1);
      }

    sketch.record(comm);
    if (cfg.sketch_allreduce == "bucket") {
      comm.allreduce_sum({}, sketch_total, nullptr, true);
    } else {
      for (std::size_t t = 0; t < tensors; ++t)
        if (sk_off[t + 1] > sk_off[t]) comm.allreduce_sum({}, sk_off[t + 1] - sk_off[t], nullptr, true);
    }
    select.record(comm);
    gather.record(comm);
    comm.allreduce_sum({}, values_total, nullptr, true);
    scatter.record(comm);
    rep.k_unit = "rows";
    rep.values_per_rank = values_total;
    for (std::size_t t = 0; t < tensors; ++t) rep.k += kt[t];
  }

  // The sparsifier's row recall: exact top rows of the mean input against the sketch's choice.
  void recall(const std::vector<k::RowView>& views, const std::vector<std::size_t>& kt,
              const std::vector<std::vector<std::uint32_t>>& rows, std::vector<float>& mean) {
    std::size_t exact = 0, recalled = 0;
    for (std::size_t t = 0; t < views.size(); ++t) {
      const k::RowView& v = views[t];
      float* m = mean.data() + layout.offset(t);
      std::vector<float> scores(v.rows);
      be.divide(m, v.rows * v.cols, W);
      be.row_scores(m, v.rows, v.cols, scores.data());
      std::vector<std::uint32_t> best(kt[t]), common;
      be.topk_rows(scores.data(), v.rows, kt[t], best.data());
      std::set_intersection(best.begin(), best.end(), rows[t].begin(), rows[t].end(), std::back_inserter(common));
      exact += kt[t];
      recalled += common.size();
    }
    if (exact > 0) rep.row_recall = static_cast<double>(recalled) / static_cast<double>(exact);
  }

  void run() {
    rep.bucket = bucket;
    rep.call = call;
    rep.backend = be.name();
    rep.phase = "compressed";
    rep.ratio = cfg.ratio;
    Timed efi(be, k::KernelId::kEfInput, {.n = n}, W), efu(be, k::KernelId::kEfUpdate, {.n = n}, W);
    Timed* ef_input = ef14 || ef21 ? &efi : nullptr;
    if (cfg.compressor == "dense") dense();
    else if (cfg.compressor == "topk") topk(ef_input, efu);
    else if (cfg.compressor == "randk") randk(ef_input, efu);
    else arctopk(ef_input, efu);
    if (ef21) {  // the aggregate state: ebar (the dense start's mean, or 0) += agg; agg = ebar
      if (dense_start) be.divide(ebar.data(), n, W);
      efu.run([&] {
        be.ef_accumulate(ebar.data(), agg, n);
        if (n) std::memcpy(agg, ebar.data(), n * sizeof(float));
      });
    }
    // The Compressor's order: EF input kernel, the sparsifier's ops, EF update kernel.
    std::vector<k::PlanOp> body = comm.take_ops();
    if (ef_input) rep.ops.push_back(efi.op());
    rep.ops.insert(rep.ops.end(), body.begin(), body.end());
    if (ef_input) rep.ops.push_back(efu.op());
    metrics(ef21 ? xsum : gsum, gsum, W, agg, selected, rep);
  }
};

}  // namespace

bool can_stream(const k::CompressorConfig& c) {
  // Values and indices on the wire as computed (fp32, int32): other wire types round messages.
  if (c.warmup != 0 || c.ramp || c.value_dtype != "fp32" || c.index_dtype != "int32") return false;
  const k::ErrorFeedback ef = k::error_feedback(c.ef);
  if (c.compressor == "dense") return ef == k::ErrorFeedback::none;
  return c.compressor == "topk" || c.compressor == "randk" || c.compressor == "arctopk";
}

k::StepReport stream_step(const k::CompressorConfig& config, int workers, std::uint32_t bucket,
                          const k::BucketLayout& layout, const WorkerGradients& grads, k::Backend& backend,
                          float* agg, const WorkerGradients* prime) {
  config.validate();
  if (!can_stream(config))
    throw std::invalid_argument("stream_step: " + config.compressor + " with ef " + config.ef +
                                " is not streamed (use kernels::Compressor)");
  layout.validate();
  if (k::is_ef21_family(config.ef) && config.ef21_init == "dense" && !prime)
    throw std::invalid_argument("stream_step: " + config.ef + " with a dense start needs the initial call's gradients");
  Step s(config, workers, bucket, layout, grads, prime, backend, agg);
  s.run();
  return std::move(s.rep);
}

}  // namespace arcsim::experiments
