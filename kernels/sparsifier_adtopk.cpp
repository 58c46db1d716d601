// ADTopk (all-dimension top-k, HPDC'24) with FGBuff's quantity-based inter-worker buffering
// (docs/compressors/adtopk.md).
//
// Per tensor of two or more dims, viewed as rows by the shape rule (layout.hpp): every worker keeps
// the k_row = max(1, floor(ratio * m)) largest |x| of each of its n rows, so every row contributes
// n * k_row entries. Tensors of fewer than two dims are not compressed: sent whole, as ADTopk
// does, in the same all-gather mode (values only). Messages are all-gathered (values in
// value_dtype, indices in index_dtype) and every worker scatter-adds all N messages in worker order
// and divides by N.
//  * Indices: on exact per-row calls the row of an entry is implied by its position (each row
//    sends k_row entries), so only the row-local column is sent; on every other call (interleaved
//    global calls, threshold-filtered calls) the bucket-flat index is sent.
//  * interleave: as ADTopk's adtopk_i, calls alternate per-row (calls 0, 2, ...) and global top-k
//    of the tensor (calls 1, 3, ...: k = max(1, floor(ratio * numel))).
//  * threshold_reuse: per worker, bucket and tensor, the first 15 calls are exact per-row
//    selections, each storing the row thresholds (the smallest kept |x| of each row). Then an exact
//    recomputation every tau calls (tau starts at 5): with thr = the mean row threshold and
//    eps = thr_old / 10, tau += 1 if |thr_new - thr_old| < eps, else tau = max(5, tau - 1). In
//    between, each row keeps the entries with |x| >= its stored threshold (at least its largest):
//    k differs per worker, so the collectives are all-gather-v with the real sizes.
//  * Collectives without fgbuff: one all-gather pair per tensor, in bucket order (ADTopk's
//    per-tensor Horovod all-gathers). With fgbuff: each worker's selected entries (compressed
//    tensors, bucket order) and separately its uncompressed values fill buffers of fgbuff_elements
//    entries; buffer j is one collective, the same count on every worker while the counts agree
//    (an all-gather), the real per-worker counts in the tail otherwise (all-gather-v).
//  * One local worker per rank (ProcessGroupCommunicator): every rank's per-tensor counts are
//    needed to size what it receives. Without threshold reuse (and on the 15 warm calls) they are
//    the nominal counts, known to every rank. On later threshold-reuse calls they are data
//    dependent: when the process holds fewer workers than there are ranks, one all-gather of the
//    compressed tensors' counts (int32 each) precedes the exchange. The emulated communicator
//    (every worker local) knows them already and records no such exchange.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/primitives.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/wire.hpp"

namespace arcsim::kernels {

namespace {

constexpr std::uint32_t kExactWarmCalls = 15;  // ADTopk: exact selections before any reuse
constexpr std::uint32_t kTauStart = 5;         // ADTopk's tau, also its floor
constexpr double kEpsFraction = 0.1;           // eps = thr / 10

// Threshold-reuse state of one (worker, bucket, tensor).
struct ReuseState {
  std::vector<float> thr;  // per-row thresholds of the last exact call
  double mean_thr = 0.0;   // their mean (the tau rule's thr)
  std::uint32_t tau = kTauStart;
  std::uint32_t next_exact = kExactWarmCalls - 1;  // first recomputation after the warm calls
};

// One selected stream of a worker: bucket-flat positions and the wire form of the indices.
struct Message {
  std::vector<std::size_t> per_tensor;  // entries selected from each tensor (0 for those not compressed)
  std::vector<std::uint32_t> flat;      // bucket-flat index of each entry (what the receiver decodes)
  std::vector<std::uint32_t> wire;      // what is sent as the index (row-local column or bucket-flat)
  std::vector<float> vals;              // the values, as computed (float32)
  std::vector<std::uint32_t> row_base;  // exact per-row calls: bucket-flat start of each entry's row
  std::size_t count() const { return flat.size(); }
};

class AdTopK final : public Sparsifier {
 public:
  explicit AdTopK(const CompressorConfig& c)
      : rule_(parse_shape_rule(c.shape_rule)),
        interleave_(c.param_bool("interleave")),
        reuse_(c.param_bool("threshold_reuse")),
        fgbuff_(c.param_bool("fgbuff")),
        buffer_(static_cast<std::size_t>(c.param_integer("fgbuff_elements"))),
        vtype_(value_dtype(c.value_dtype)),
        itype_(index_dtype(c.index_dtype)) {
    if (interleave_ && reuse_)
      throw std::invalid_argument(
          "threshold_reuse: expected false with interleave true (ADTopk's interleaved variant has no threshold reuse)");
  }
  const char* name() const override { return "adtopk"; }

  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    // W local workers (local worker w is rank r0 + w) of P ranks; what is received is sized by P.
    const std::size_t n = layout.numel(), W = a.in.size(), T = layout.shapes.size();
    const std::size_t P = static_cast<std::size_t>(comm.world_size()), r0 = static_cast<std::size_t>(comm.first_rank());
    if (W == 0 || r0 + W > P)
      throw std::invalid_argument("adtopk: local workers " + std::to_string(r0) + ".." + std::to_string(r0 + W) +
                                  " are not ranks of " + std::to_string(P));
    Backend& be = a.be();
    const std::uint32_t call = calls_[a.bucket];
    const bool global_call = interleave_ && call % 2 == 1;

    std::vector<RowView> views(T);
    std::vector<bool> compressed(T);
    for (std::size_t t = 0; t < T; ++t) {
      views[t] = row_view(layout.shapes[t], rule_, 1, false, layout.name(t));
      compressed[t] = layout.shapes[t].size() >= 2 && layout.numel(t) > 0;
    }
    auto& states = reuse_state_[a.bucket];
    auto& shapes = shapes_[a.bucket];
    if (call == 0)
      shapes = layout.shapes;
    else if (shapes != layout.shapes)
      throw std::invalid_argument("bucket " + std::to_string(a.bucket) +
                                  ": expected the tensor shapes of its earlier calls (ADTopk keeps state per tensor)");
    ++calls_[a.bucket];
    if (reuse_ && states.empty()) states.assign(W, std::vector<ReuseState>(T));

    // 1. Selection, per worker: the sparse message (compressed tensors) and the dense one.
    std::vector<Message> sparse(W), dense(W);
    // Exact per-row calls without reuse send row-local columns: every worker's message then has
    // the same layout (k_row entries per row), so a receiver knows each entry's row base.
    const bool row_local_wire = !global_call && !reuse_;
    {
      std::size_t nominal_k = 0;
      for (std::size_t t = 0; t < T; ++t)
        nominal_k += compressed[t]
                         ? (global_call ? k_of(a.ratio, layout.numel(t)) : views[t].rows * k_of(a.ratio, views[t].cols))
                         : layout.numel(t);
      KernelTimer timer(comm, be, KernelId::kAdtopkSelect, {.n = n, .k = nominal_k}, W);
      for (std::size_t w = 0; w < W; ++w) {
        sparse[w].per_tensor.assign(T, 0);
        for (std::size_t t = 0; t < T; ++t) {
          const std::size_t off = layout.offset(t), d = layout.numel(t);
          if (!compressed[t]) {
            for (std::size_t i = 0; i < d; ++i) dense[w].flat.push_back(static_cast<std::uint32_t>(off + i));
            continue;
          }
          const std::size_t before = sparse[w].count();
          select_tensor(be, a.in[w] + off, off, views[t], a.ratio, global_call, call, reuse_ ? &states[w][t] : nullptr,
                        sparse[w]);
          sparse[w].per_tensor[t] = sparse[w].count() - before;
        }
      }
      for (std::size_t w = 0; w < W; ++w) {
        sparse[w].vals.resize(sparse[w].count());
        be.gather(a.in[w], sparse[w].flat.data(), sparse[w].count(), sparse[w].vals.data());
        dense[w].vals.resize(dense[w].count());
        be.gather(a.in[w], dense[w].flat.data(), dense[w].count(), dense[w].vals.data());
        if (!row_local_wire) sparse[w].wire = sparse[w].flat;
      }
    }
    if (reuse_) update_thresholds(a, layout, views, compressed, call, states, sparse);

    // 2. Every rank's sparse count per tensor (the dense ones are the tensors' sizes), then the
    //    collectives: rank p's received values land in recv_vals[p] (its sparse entries, then its
    //    dense ones), its received wire indices in recv_wire[p].
    const std::vector<std::vector<std::size_t>> counts =
        rank_counts(comm, a, layout, views, compressed, global_call, call, sparse);
    const std::size_t dense_n = dense[0].count();  // the same tensors on every rank
    std::vector<std::size_t> sparse_total(P, 0);
    std::vector<std::vector<float>> recv_vals(P);
    std::vector<std::vector<std::uint32_t>> recv_wire(P);
    for (std::size_t p = 0; p < P; ++p) {
      for (auto c : counts[p]) sparse_total[p] += c;
      recv_vals[p].resize(sparse_total[p] + dense_n);
      recv_wire[p].resize(sparse_total[p]);
    }
    if (fgbuff_) {
      exchange_buffered(comm, sparse, sparse_total, true, recv_vals, recv_wire);
      exchange_buffered(comm, dense, std::vector<std::size_t>(P, dense_n), false, recv_vals, recv_wire, &sparse_total);
    } else {
      exchange_per_tensor(comm, layout, compressed, counts, sparse, dense, recv_vals, recv_wire, sparse_total);
    }

    // 3. Decode and aggregate: agg = (1/P) sum_p scatter_add(message_p), ranks in order. On exact
    //    per-row calls every rank's sparse message has the same layout (k_row entries per row), so
    //    the local row bases decode every rank's columns; dense entries are the same tensors.
    const std::vector<std::uint32_t>& row_base = sparse[0].row_base;
    std::vector<std::vector<std::uint32_t>> decoded(P);
    std::size_t total = 0;
    for (std::size_t p = 0; p < P; ++p) {
      decoded[p].resize(recv_vals[p].size());
      if (row_local_wire && sparse_total[p] != row_base.size())
        throw std::logic_error("adtopk: rank " + std::to_string(p) + " sent " + std::to_string(sparse_total[p]) +
                               " row-local entries, expected " + std::to_string(row_base.size()));
      for (std::size_t i = 0; i < sparse_total[p]; ++i)
        decoded[p][i] = row_local_wire ? row_base[i] + recv_wire[p][i] : recv_wire[p][i];
      for (std::size_t i = 0; i < dense_n; ++i) decoded[p][sparse_total[p] + i] = dense[0].flat[i];
      total += decoded[p].size();
    }
    {
      KernelTimer timer(comm, be, KernelId::kAdtopkScatterAdd, {.n = n, .k = decoded[0].size(), .workers = P});
      be.zero(a.agg, n);
      for (std::size_t p = 0; p < P; ++p)
        be.scatter_add(recv_vals[p].data(), decoded[p].data(), decoded[p].size(), a.agg);
      be.divide(a.agg, n, comm.world_size());
    }
    // Each local worker's own message as sent (values rounded to the wire type): what EF subtracts.
    for (std::size_t w = 0; w < a.local_out.size(); ++w) {
      const std::size_t p = r0 + w;
      be.zero(a.local_out[w], n);
      be.scatter(recv_vals[p].data(), decoded[p].data(), decoded[p].size(), a.local_out[w]);
    }
    if (a.selected) {
      a.selected->assign(n, 0);
      for (const auto& d : decoded)
        for (auto i : d) (*a.selected)[i] = 1;
    }
    SparsifyResult r;
    r.values_per_rank = decoded[0].size();  // rank 0's
    if (reuse_) {
      for (const auto& d : decoded) r.k_by_worker.push_back(d.size());  // every rank's
      r.k = static_cast<std::size_t>(std::llround(static_cast<double>(total) / static_cast<double>(P)));
    } else {
      r.k = r.values_per_rank;
    }
    return r;
  }

 private:
  // Selects the entries of one tensor of one worker into `msg` (flat indices; row-local wire
  // indices on exact per-row calls, with their row bases).
  void select_tensor(Backend& be, const float* x, std::size_t off, const RowView& v, double ratio, bool global_call,
                     std::uint32_t call, ReuseState* st, Message& msg) {
    const std::size_t rows = v.rows, m = v.cols, d = rows * m;
    if (global_call) {
      const std::size_t k = k_of(ratio, d);
      std::vector<std::uint32_t> idx(k);
      be.topk_magnitude(x, d, k, idx.data());
      for (auto i : idx) msg.flat.push_back(static_cast<std::uint32_t>(off + i));
      return;
    }
    const bool exact = st == nullptr || call < kExactWarmCalls || call == st->next_exact;
    if (exact) {
      const std::size_t k_row = k_of(ratio, m);
      std::vector<std::uint32_t> cols(rows * k_row);
      be.topk_per_row(x, rows, m, k_row, cols.data());
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < k_row; ++j) {
          const std::size_t base = off + i * m;
          msg.flat.push_back(static_cast<std::uint32_t>(base + cols[i * k_row + j]));
          msg.wire.push_back(cols[i * k_row + j]);
          msg.row_base.push_back(static_cast<std::uint32_t>(base));
        }
      return;
    }
    // Threshold-filtered call: each row against its stored threshold.
    std::vector<std::uint32_t> counts(rows), offsets(rows);
    be.threshold_rows_count(x, rows, m, st->thr.data(), counts.data());
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      offsets[i] = sum;
      sum += counts[i];
    }
    std::vector<std::uint32_t> idx(sum);
    be.threshold_rows_select(x, rows, m, st->thr.data(), offsets.data(), idx.data());
    for (auto i : idx) msg.flat.push_back(static_cast<std::uint32_t>(off + i));
  }

  // After the selection of a call: exact tensors store their row thresholds and adapt tau.
  void update_thresholds(const SparsifyArgs& a, const BucketLayout& layout, const std::vector<RowView>& views,
                         const std::vector<bool>& compressed, std::uint32_t call,
                         std::vector<std::vector<ReuseState>>& states, const std::vector<Message>& sparse) {
    for (std::size_t w = 0; w < sparse.size(); ++w) {
      std::size_t pos = 0;
      for (std::size_t t = 0; t < views.size(); ++t) {
        if (!compressed[t]) continue;
        ReuseState& st = states[w][t];
        const RowView& v = views[t];
        const bool exact = call < kExactWarmCalls || call == st.next_exact;
        const std::size_t off = layout.offset(t), end = off + v.rows * v.cols;
        if (!exact) {  // skip this tensor's filtered entries
          while (pos < sparse[w].count() && sparse[w].flat[pos] < end) ++pos;
          continue;
        }
        const std::size_t k_row = k_of(a.ratio, v.cols);
        std::vector<float> thr(v.rows);
        double mean = 0.0;
        for (std::size_t i = 0; i < v.rows; ++i) {
          float mn = INFINITY;
          for (std::size_t j = 0; j < k_row; ++j) mn = std::min(mn, std::fabs(sparse[w].vals[pos + i * k_row + j]));
          thr[i] = mn;
          mean += mn;
        }
        pos += v.rows * k_row;
        mean = v.rows ? mean / static_cast<double>(v.rows) : 0.0;
        if (call >= kExactWarmCalls) {  // a recomputation: adapt tau (ADTopk's rule, +-1)
          const double eps = kEpsFraction * st.mean_thr;
          st.tau = std::fabs(mean - st.mean_thr) < eps ? st.tau + 1 : std::max(kTauStart, st.tau - 1);
        }
        st.thr = std::move(thr);
        st.mean_thr = mean;
        if (call >= kExactWarmCalls - 1) st.next_exact = call + st.tau;
      }
    }
  }

  // counts[p][t]: the entries rank p selected from tensor t (0 for tensors not compressed). Local
  // workers' from their messages; the other ranks' are the nominal counts where the selection is
  // exact (no threshold reuse, or a warm call), else learnt from one all-gather of the compressed
  // tensors' counts: a real run needs it, so the emulated run (which knows them all) performs it too
  // and its plan has it.
  std::vector<std::vector<std::size_t>> rank_counts(Communicator& comm, const SparsifyArgs& a,
                                                    const BucketLayout& layout, const std::vector<RowView>& views,
                                                    const std::vector<bool>& compressed, bool global_call,
                                                    std::uint32_t call, const std::vector<Message>& sparse) const {
    const std::size_t W = sparse.size(), T = compressed.size();
    const std::size_t P = static_cast<std::size_t>(comm.world_size()), r0 = static_cast<std::size_t>(comm.first_rank());
    std::vector<std::vector<std::size_t>> counts(P);
    for (std::size_t w = 0; w < W; ++w) counts[r0 + w] = sparse[w].per_tensor;
    if (!reuse_ || call < kExactWarmCalls) {
      std::vector<std::size_t> nominal(T, 0);
      for (std::size_t t = 0; t < T; ++t)
        if (compressed[t])
          nominal[t] = global_call ? k_of(a.ratio, layout.numel(t)) : views[t].rows * k_of(a.ratio, views[t].cols);
      for (std::size_t w = 0; w < W; ++w)
        if (sparse[w].per_tensor != nominal)
          throw std::logic_error("adtopk: an exact selection did not select the nominal count");
      for (auto& c : counts) c = nominal;
      return counts;
    }
    // Threshold-filtered counts: a size exchange, one int32 per compressed tensor per rank.
    std::vector<std::size_t> which;
    for (std::size_t t = 0; t < T; ++t)
      if (compressed[t]) which.push_back(t);
    const std::size_t C = which.size();
    if (C == 0) {
      for (auto& c : counts) c.assign(T, 0);
      return counts;
    }
    std::vector<std::vector<std::int32_t>> mine(W, std::vector<std::int32_t>(C));
    std::vector<const void*> in(W);
    for (std::size_t w = 0; w < W; ++w) {
      for (std::size_t j = 0; j < C; ++j) {
        const std::size_t c = sparse[w].per_tensor[which[j]];
        if (c > static_cast<std::size_t>(INT32_MAX))
          throw std::invalid_argument("adtopk: a tensor's selection exceeds 2^31 - 1 entries");
        mine[w][j] = static_cast<std::int32_t>(c);
      }
      in[w] = mine[w].data();
    }
    std::vector<std::int32_t> all(P * C);
    comm.allgather(in, C, DType::kInt32, all.data(), true);
    for (std::size_t p = 0; p < P; ++p) {
      counts[p].assign(T, 0);
      for (std::size_t j = 0; j < C; ++j) counts[p][which[j]] = static_cast<std::size_t>(all[p * C + j]);
    }
    for (std::size_t w = 0; w < W; ++w)
      if (counts[r0 + w] != sparse[w].per_tensor)
        throw std::logic_error("adtopk: the count exchange disagrees with what was selected");
    return counts;
  }

  // One collective pair: entries [starts[w], starts[w] + counts[r0 + w]) of each local worker's
  // stream, values (and indices when `sparse`); counts has one entry per rank, known to every
  // rank. Entry i of rank p's range lands in recv_vals[p][base[p] + starts_p + i] (and
  // recv_wire[p][starts_p + i]), starts_p = recv_at[p]. Equal counts: all-gather; otherwise
  // all-gather-v with the real counts.
  void gather_range(Communicator& comm, const std::vector<Message>& msgs, bool sparse,
                    const std::vector<std::size_t>& starts, const std::vector<std::size_t>& counts,
                    const std::vector<std::size_t>& recv_at, std::vector<std::vector<float>>& recv_vals,
                    std::vector<std::vector<std::uint32_t>>& recv_wire, const std::vector<std::size_t>* base) {
    const std::size_t W = msgs.size(), P = counts.size(), r0 = static_cast<std::size_t>(comm.first_rank());
    bool equal = true;
    for (auto c : counts) equal = equal && c == counts[0];
    std::size_t total = 0;
    for (auto c : counts) total += c;
    if (total == 0) return;
    // Values.
    std::vector<std::vector<std::uint8_t>> packed(W);
    std::vector<const void*> in(W);
    for (std::size_t w = 0; w < W; ++w) {
      packed[w] = pack_values(msgs[w].vals.data() + starts[w], counts[r0 + w], vtype_);
      in[w] = packed[w].data();
    }
    std::vector<std::uint8_t> out(total * dtype_size(vtype_));
    if (equal)
      comm.allgather(in, counts[0], vtype_, out.data(), false);
    else
      comm.allgatherv(in, counts, vtype_, out.data(), false);
    std::size_t at = 0;
    for (std::size_t p = 0; p < P; ++p) {
      const std::size_t b = (base ? (*base)[p] : 0) + recv_at[p];
      unpack_values(out.data() + at * dtype_size(vtype_), counts[p], vtype_, recv_vals[p].data() + b);
      at += counts[p];
    }
    if (!sparse) return;
    // Indices.
    for (std::size_t w = 0; w < W; ++w) {
      packed[w] = pack_indices(msgs[w].wire.data() + starts[w], counts[r0 + w], itype_);
      in[w] = packed[w].data();
    }
    out.assign(total * dtype_size(itype_), 0);
    if (equal)
      comm.allgather(in, counts[0], itype_, out.data(), false);
    else
      comm.allgatherv(in, counts, itype_, out.data(), false);
    at = 0;
    for (std::size_t p = 0; p < P; ++p) {
      unpack_indices(out.data() + at * dtype_size(itype_), counts[p], itype_, recv_wire[p].data() + recv_at[p]);
      at += counts[p];
    }
  }
  // Without fgbuff: per tensor in bucket order, its entries of every rank.
  void exchange_per_tensor(Communicator& comm, const BucketLayout& layout, const std::vector<bool>& compressed,
                           const std::vector<std::vector<std::size_t>>& counts, const std::vector<Message>& sparse,
                           const std::vector<Message>& dense, std::vector<std::vector<float>>& recv_vals,
                           std::vector<std::vector<std::uint32_t>>& recv_wire,
                           const std::vector<std::size_t>& sparse_total) {
    const std::size_t W = sparse.size(), P = counts.size(), r0 = static_cast<std::size_t>(comm.first_rank());
    std::vector<std::size_t> sp(P, 0), dp(P, 0);  // per rank: entries of its stream already exchanged
    for (std::size_t t = 0; t < compressed.size(); ++t) {
      const std::vector<Message>& msgs = compressed[t] ? sparse : dense;
      std::vector<std::size_t>& pos = compressed[t] ? sp : dp;
      std::vector<std::size_t> c(P);
      for (std::size_t p = 0; p < P; ++p) c[p] = compressed[t] ? counts[p][t] : layout.numel(t);
      std::vector<std::size_t> starts(W);
      for (std::size_t w = 0; w < W; ++w) starts[w] = pos[r0 + w];
      gather_range(comm, msgs, compressed[t], starts, c, pos, recv_vals, recv_wire,
                   compressed[t] ? nullptr : &sparse_total);
      for (std::size_t p = 0; p < P; ++p) pos[p] += c[p];
    }
  }

  // With fgbuff: buffers of buffer_ entries over each rank's stream (totals: every rank's length).
  void exchange_buffered(Communicator& comm, const std::vector<Message>& msgs, const std::vector<std::size_t>& totals,
                         bool sparse, std::vector<std::vector<float>>& recv_vals,
                         std::vector<std::vector<std::uint32_t>>& recv_wire,
                         const std::vector<std::size_t>* base = nullptr) {
    const std::size_t W = msgs.size(), P = totals.size(), r0 = static_cast<std::size_t>(comm.first_rank());
    std::size_t longest = 0;
    for (auto c : totals) longest = std::max(longest, c);
    for (std::size_t b = 0; b * buffer_ < longest; ++b) {
      std::vector<std::size_t> counts(P), at(P), starts(W);
      for (std::size_t p = 0; p < P; ++p) {
        const std::size_t c = totals[p];
        counts[p] = c > b * buffer_ ? std::min(buffer_, c - b * buffer_) : 0;
        at[p] = std::min(b * buffer_, c);
      }
      for (std::size_t w = 0; w < W; ++w) starts[w] = at[r0 + w];
      gather_range(comm, msgs, sparse, starts, counts, at, recv_vals, recv_wire, base);
    }
  }

  ShapeRule rule_;
  bool interleave_, reuse_, fgbuff_;
  std::size_t buffer_;
  DType vtype_, itype_;
  std::map<std::uint32_t, std::uint32_t> calls_;                               // compressed calls per bucket
  std::map<std::uint32_t, std::vector<std::vector<ReuseState>>> reuse_state_;  // [bucket][worker][tensor]
  std::map<std::uint32_t, std::vector<std::vector<std::int64_t>>> shapes_;     // [bucket]: its tensors
};

}  // namespace

std::unique_ptr<Sparsifier> make_adtopk(const CompressorConfig& config) { return std::make_unique<AdTopK>(config); }

}  // namespace arcsim::kernels
