// PowerSGD (Vogels et al., NeurIPS'19), rank r, one power iteration per call with a warm-started
// Q (docs/compressors/powersgd.md).
//
// Every tensor of two or more dims is viewed as an n x m matrix M by the shape rule (layout.hpp)
// and compressed when that pays, n m > 2 r (n + m) (the official code's minimum compression rate
// of 2); the others (1-D tensors, small matrices) are all-reduced densely, as the official code
// does. Per compressed matrix and worker i:
//   P_i = M_i Q              (the first call: Q = the shared Gaussian V of the ARC sketch, so this
//                             is Backend::sketch itself; later calls: the warm-started Q)
//   P = (1/N) sum_i P_i      all-reduce #1 (all matrices of the bucket in one buffer)
//   P = orthogonalize(P)     Gram-Schmidt, columns in order (identical on every worker)
//   Q_i = M_i^T P
//   Q = (1/N) sum_i Q_i      all-reduce #2 (one buffer per bucket); kept as the next call's Q
//   M_hat = P Q^T            = (1/N) sum_i P Q_i^T: worker i's own message is C_i(M_i) = P Q_i^T,
//                             so error feedback (EF14, as the paper's memory) is e_i = M_i - P Q_i^T.
// The uncompressed tensors of the bucket go through one more all-reduce, issued first. Bytes per
// worker: value_dtype size x (r (n + m) per compressed matrix + the uncompressed elements).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/primitives.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/wire.hpp"
#include "kernels/worker_buffers.hpp"

namespace arcsim::kernels {

namespace {

class PowerSgd final : public Sparsifier {
 public:
  explicit PowerSgd(const CompressorConfig& c)
      : rank_(static_cast<std::size_t>(c.rank)),
        rule_(parse_shape_rule(c.shape_rule)),
        seed_(c.seed),
        vtype_(value_dtype(c.value_dtype)) {
    if (c.rank < 1) throw std::invalid_argument("rank: expected an integer >= 1, got " + std::to_string(c.rank));
  }
  const char* name() const override { return "powersgd"; }

  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t n = layout.numel(), W = a.in.size(), T = layout.shapes.size(), r = rank_;
    Backend& be = a.be();
    // Which tensors are compressed, and where their factors live in the bucket's P and Q buffers.
    std::vector<RowView> views(T);
    std::vector<bool> low_rank(T);
    std::vector<std::size_t> p_off(T + 1, 0), q_off(T + 1, 0);
    std::vector<std::uint32_t> dense_pos;
    std::size_t matrix_elems = 0;
    for (std::size_t t = 0; t < T; ++t) {
      views[t] = row_view(layout.shapes[t], rule_, 1, false, layout.name(t));
      const std::size_t rows = views[t].rows, cols = views[t].cols;
      low_rank[t] = layout.shapes[t].size() >= 2 && rows * cols > 2 * r * (rows + cols);
      p_off[t + 1] = p_off[t] + (low_rank[t] ? rows * r : 0);
      q_off[t + 1] = q_off[t] + (low_rank[t] ? cols * r : 0);
      if (low_rank[t]) {
        matrix_elems += rows * cols;
      } else {
        for (std::size_t i = 0; i < layout.numel(t); ++i)
          dense_pos.push_back(static_cast<std::uint32_t>(layout.offset(t) + i));
      }
    }
    const std::size_t p_total = p_off[T], q_total = q_off[T], d_total = dense_pos.size();
    auto& Q = warm_q_[a.bucket];  // the averaged Q of the previous call, per tensor
    auto& shapes = shapes_[a.bucket];
    const bool first = Q.empty();
    if (first) {
      Q.assign(T, {});
      shapes = layout.shapes;
    } else if (shapes != layout.shapes) {
      throw std::invalid_argument(
          "bucket " + std::to_string(a.bucket) +
          ": expected the tensor shapes of its earlier calls (PowerSGD warm-starts Q per tensor)");
    }

    // 0. The uncompressed tensors: one all-reduce, issued first (it does not wait on the factors).
    std::vector<std::vector<float>> dense_in = worker_buffers(W, d_total);
    std::vector<float> dense_sum(d_total);
    if (d_total) {
      std::vector<const float*> in(W);
      for (std::size_t w = 0; w < W; ++w) {
        be.gather(a.in[w], dense_pos.data(), d_total, dense_in[w].data());
        in[w] = dense_in[w].data();
      }
      comm.allreduce_sum(in, d_total, dense_sum.data(), /*blocking=*/false, vtype_);
    }

    // 1. P_i = M_i Q.
    std::vector<std::vector<float>> P = worker_buffers(W, p_total);
    {
      KernelTimer timer(comm, be, KernelId::kPowersgdProjectP, {.n = matrix_elems, .sketch = p_total + q_total}, W);
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t) {
          if (!low_rank[t]) continue;
          const float* M = a.in[w] + layout.offset(t);
          float* p = P[w].data() + p_off[t];
          if (first)
            be.sketch(M, views[t].rows, views[t].cols, static_cast<int>(r), seed_, 0, tensor_id(a.bucket, t), p);
          else
            be.matmul_right(M, views[t].rows, views[t].cols, Q[t].data(), r, p);
        }
    }
    // 2. All-reduce #1, average, orthogonalize.
    std::vector<float> Pbar(p_total);
    if (p_total) allreduce(comm, P, p_total, Pbar.data());
    {
      KernelTimer timer(comm, be, KernelId::kPowersgdOrthogonalize, {.n = p_total});
      be.divide(Pbar.data(), p_total, comm.world_size());
      for (std::size_t t = 0; t < T; ++t)
        if (low_rank[t]) be.orthogonalize(Pbar.data() + p_off[t], views[t].rows, r);
    }
    // 3. Q_i = M_i^T P, all-reduce #2, average: the next call's warm start.
    std::vector<std::vector<float>> Qi = worker_buffers(W, q_total);
    {
      KernelTimer timer(comm, be, KernelId::kPowersgdProjectQ, {.n = matrix_elems, .sketch = p_total + q_total}, W);
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t)
          if (low_rank[t])
            be.matmul_left_t(a.in[w] + layout.offset(t), views[t].rows, views[t].cols, Pbar.data() + p_off[t], r,
                             Qi[w].data() + q_off[t]);
    }
    std::vector<float> Qbar(q_total);
    if (q_total) allreduce(comm, Qi, q_total, Qbar.data());

    // 4. Decompress: the aggregate M_hat = P Qbar^T, the dense part averaged.
    {
      KernelTimer timer(comm, be, KernelId::kPowersgdDecompress, {.n = n, .sketch = p_total + q_total});
      be.divide(Qbar.data(), q_total, comm.world_size());
      be.zero(a.agg, n);
      for (std::size_t t = 0; t < T; ++t)
        if (low_rank[t])
          reconstruct(be, Pbar.data() + p_off[t], Qbar.data() + q_off[t], views[t], a.agg + layout.offset(t));
      if (d_total) {
        be.divide(dense_sum.data(), d_total, comm.world_size());
        be.scatter(dense_sum.data(), dense_pos.data(), d_total, a.agg);
      }
    }
    for (std::size_t t = 0; t < T; ++t)
      if (low_rank[t])
        Q[t].assign(Qbar.begin() + static_cast<std::ptrdiff_t>(q_off[t]),
                    Qbar.begin() + static_cast<std::ptrdiff_t>(q_off[t + 1]));

    // Each worker's own message as sent (factors rounded to the wire type): P Q_i^T and its dense part.
    for (std::size_t w = 0; w < a.local_out.size(); ++w) {
      be.zero(a.local_out[w], n);
      for (float& v : Qi[w]) v = round_to_wire(v, vtype_);
      for (std::size_t t = 0; t < T; ++t)
        if (low_rank[t])
          reconstruct(be, Pbar.data() + p_off[t], Qi[w].data() + q_off[t], views[t], a.local_out[w] + layout.offset(t));
      for (float& v : dense_in[w]) v = round_to_wire(v, vtype_);
      be.scatter(dense_in[w].data(), dense_pos.data(), d_total, a.local_out[w]);
    }
    // Every position carries a value (the output is dense): retained_energy is 1 by construction;
    // relative_error is PowerSGD's quality measure.
    if (a.selected) a.selected->assign(n, 1);
    SparsifyResult res;
    res.k = r;
    res.k_unit = "rank";
    res.values_per_rank = p_total + q_total + d_total;
    return res;
  }

 private:
  void allreduce(Communicator& comm, const std::vector<std::vector<float>>& bufs, std::size_t count, float* out) const {
    std::vector<const float*> in(bufs.size());
    for (std::size_t w = 0; w < bufs.size(); ++w) in[w] = bufs[w].data();
    comm.allreduce_sum(in, count, out, /*blocking=*/false, vtype_);
  }
  // out (rows x cols) = P Q^T, P rows x r, Q cols x r.
  void reconstruct(Backend& be, const float* P, const float* Q, const RowView& v, float* out) const {
    std::vector<float> qt(rank_ * v.cols);
    for (std::size_t j = 0; j < v.cols; ++j)
      for (std::size_t c = 0; c < rank_; ++c) qt[c * v.cols + j] = Q[j * rank_ + c];
    be.matmul_right(P, v.rows, rank_, qt.data(), v.cols, out);
  }

  std::size_t rank_;
  ShapeRule rule_;
  std::uint64_t seed_;
  DType vtype_;
  std::map<std::uint32_t, std::vector<std::vector<float>>> warm_q_;         // [bucket][tensor]: m x r
  std::map<std::uint32_t, std::vector<std::vector<std::int64_t>>> shapes_;  // [bucket]: its tensors
};

}  // namespace

std::unique_ptr<Sparsifier> make_powersgd(const CompressorConfig& config) { return std::make_unique<PowerSgd>(config); }

}  // namespace arcsim::kernels
