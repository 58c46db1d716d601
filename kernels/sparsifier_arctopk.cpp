// ARC-Top-K (kernels.md 3.4, arctopk.md 2.2): per tensor, every worker sketches its rows with the
// shared Gaussian V (P_i = X_i V); the sketches are all-reduced (one blocking all-reduce per
// tensor as the reference hook, or one per bucket) and averaged; every worker ranks rows by the
// squared norm of the averaged sketch and keeps the same k = max(1, floor(ratio * rows)) rows
// (lowest index on ties); the selected rows of the whole bucket go through one blocking all-reduce
// of values (no indices), are averaged and scattered into a zeroed bucket.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/primitives.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/wire.hpp"
#include "kernels/worker_buffers.hpp"

namespace arcsim::kernels {

namespace {
class ArcTopK final : public Sparsifier {
 public:
  explicit ArcTopK(const ArcOptions& o) : o_(o) {}
  const char* name() const override { return "arctopk"; }

  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t n = layout.numel(), workers = a.in.size(), tensors = layout.shapes.size();
    const auto r = static_cast<std::size_t>(o_.rank);
    Backend& be = a.be();
    // Views and buffer offsets of every tensor's sketch and selected values.
    std::vector<RowView> views(tensors);
    std::vector<std::size_t> sk_off(tensors + 1, 0), k(tensors), val_off(tensors + 1, 0);
    for (std::size_t t = 0; t < tensors; ++t) {
      views[t] = row_view(layout.shapes[t], o_.shape_rule, o_.rank, o_.exact_scores, layout.name(t));
      const RowView& v = views[t];
      sk_off[t + 1] = sk_off[t] + v.rows * (v.own_sketch ? v.cols : r);
      k[t] = k_of(a.ratio, v.rows);
      val_off[t + 1] = val_off[t] + k[t] * v.cols;
    }
    const std::size_t sketch_total = sk_off[tensors], values_total = val_off[tensors];

    // 1. Local sketches.
    std::vector<std::vector<float>> sk = worker_buffers(workers, sketch_total);
    {
      std::size_t viewed = 0;  // rows x cols summed over the tensors (= n)
      for (std::size_t t = 0; t < tensors; ++t) viewed += views[t].rows * views[t].cols;
      KernelTimer timer(comm, be, KernelId::kArcSketch, {.n = viewed, .sketch = sketch_total}, workers);
      for (std::size_t w = 0; w < workers; ++w)
        for (std::size_t t = 0; t < tensors; ++t) {
          const RowView& v = views[t];
          const float* x = a.in[w] + layout.offset(t);
          float* p = sk[w].data() + sk_off[t];
          if (v.own_sketch) {
            if (v.rows * v.cols != 0) std::memcpy(p, x, v.rows * v.cols * sizeof(float));
          } else {
            be.sketch(x, v.rows, v.cols, o_.rank, o_.seed, a.step, tensor_id(a.bucket, t), p);
          }
        }
    }
    // 2. All-reduce of the sketches (sum in worker order), then the average.
    std::vector<float> avg(sketch_total);
    if (o_.sketch_per_bucket) {
      allreduce_range(comm, sk, 0, sketch_total, avg.data());
    } else {
      for (std::size_t t = 0; t < tensors; ++t)
        if (sk_off[t + 1] > sk_off[t]) allreduce_range(comm, sk, sk_off[t], sk_off[t + 1] - sk_off[t], avg.data() + sk_off[t]);
    }
    // 3. Row scores of the averaged sketch and the same top-k rows on every worker.
    std::vector<std::vector<std::uint32_t>> rows(tensors);
    {
      std::size_t total_rows = 0;
      for (const auto& v : views) total_rows += v.rows;
      KernelTimer timer(comm, be, KernelId::kArcSelectRows, {.rows = total_rows, .sketch = sketch_total});
      be.divide(avg.data(), sketch_total, comm.world_size());
      for (std::size_t t = 0; t < tensors; ++t) {
        const RowView& v = views[t];
        std::vector<float> scores(v.rows);
        be.row_scores(avg.data() + sk_off[t], v.rows, v.own_sketch ? v.cols : r, scores.data());
        rows[t].resize(k[t]);
        be.topk_rows(scores.data(), v.rows, k[t], rows[t].data());
      }
    }
    // 4. Gather the selected rows, one all-reduce of the values of the whole bucket.
    std::vector<std::vector<float>> vals = worker_buffers(workers, values_total);
    {
      KernelTimer timer(comm, be, KernelId::kArcGatherRows, {.k = values_total}, workers);
      for (std::size_t w = 0; w < workers; ++w)
        for (std::size_t t = 0; t < tensors; ++t)
          be.gather_rows(a.in[w] + layout.offset(t), views[t].cols, rows[t].data(), k[t], vals[w].data() + val_off[t]);
    }
    if (a.value_wire != DType::kFloat32)  // the values as sent (the sketch stays float32)
      for (auto& v : vals) for (auto& x : v) x = round_to_wire(x, a.value_wire);
    std::vector<float> vsum(values_total);
    allreduce_range(comm, vals, 0, values_total, vsum.data(), a.value_wire);
    // 5. Average and scatter into a zeroed bucket.
    {
      KernelTimer timer(comm, be, KernelId::kArcScatterRows, {.n = n, .k = values_total});
      be.divide(vsum.data(), values_total, comm.world_size());
      be.zero(a.agg, n);
      for (std::size_t t = 0; t < tensors; ++t)
        be.scatter_rows(vsum.data() + val_off[t], views[t].cols, rows[t].data(), k[t], a.agg + layout.offset(t));
    }
    for (std::size_t w = 0; w < a.local_out.size(); ++w) {
      be.zero(a.local_out[w], n);
      for (std::size_t t = 0; t < tensors; ++t)
        be.scatter_rows(vals[w].data() + val_off[t], views[t].cols, rows[t].data(), k[t], a.local_out[w] + layout.offset(t));
    }
    if (a.selected) {
      a.selected->assign(n, 0);
      for (std::size_t t = 0; t < tensors; ++t)
        for (auto row : rows[t]) {
          auto first = a.selected->begin() + static_cast<std::ptrdiff_t>(layout.offset(t) + row * views[t].cols);
          std::fill(first, first + static_cast<std::ptrdiff_t>(views[t].cols), 1);
        }
    }
    SparsifyResult res;
    res.k_unit = "rows";
    res.values_per_rank = values_total;
    for (std::size_t t = 0; t < tensors; ++t) res.k += k[t];
    if (a.in.size() == static_cast<std::size_t>(comm.world_size())) recall(be, layout, a, views, k, rows, res);
    return res;
  }

 private:
  static void allreduce_range(Communicator& comm, const std::vector<std::vector<float>>& bufs, std::size_t off,
                              std::size_t count, float* out, DType wire = DType::kFloat32) {
    std::vector<const float*> in(bufs.size());
    for (std::size_t w = 0; w < bufs.size(); ++w) in[w] = bufs[w].data() + off;
    comm.allreduce_sum(in, count, out, true, wire);
  }

  // Quality metric, not part of the algorithm (no collective recorded): the exact top-k rows of
  // the mean input, by exact squared row norm, against the rows the sketch chose.
  static void recall(Backend& be, const BucketLayout& layout, const SparsifyArgs& a, const std::vector<RowView>& views,
                     const std::vector<std::size_t>& k, const std::vector<std::vector<std::uint32_t>>& rows,
                     SparsifyResult& res) {
    for (std::size_t t = 0; t < views.size(); ++t) {
      const RowView& v = views[t];
      const std::size_t d = v.rows * v.cols, off = layout.offset(t);
      std::vector<float> mean(d, 0.0f), scores(v.rows);
      for (std::size_t w = 0; w < a.in.size(); ++w) be.ef_accumulate(mean.data(), a.in[w] + off, d);  // mean += x_w
      be.divide(mean.data(), d, static_cast<int>(a.in.size()));
      be.row_scores(mean.data(), v.rows, v.cols, scores.data());
      std::vector<std::uint32_t> best(k[t]);
      be.topk_rows(scores.data(), v.rows, k[t], best.data());
      std::vector<std::uint32_t> common;
      std::set_intersection(best.begin(), best.end(), rows[t].begin(), rows[t].end(), std::back_inserter(common));
      res.rows_exact += k[t];
      res.rows_recalled += common.size();
    }
  }

  ArcOptions o_;
};
}  // namespace

std::unique_ptr<Sparsifier> make_arctopk(const ArcOptions& options) {
  if (options.rank < 1) throw std::invalid_argument("arctopk: rank must be >= 1, got " + std::to_string(options.rank));
  return std::make_unique<ArcTopK>(options);
}

}  // namespace arcsim::kernels
