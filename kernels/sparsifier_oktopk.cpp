// Ok-Topk (Li & Hoefler, "Near-Optimal Sparse Allreduce for Distributed Deep Learning", PPoPP'22):
// a sparse all-reduce of the workers' local top-k whose volume per rank stays below 6k(P-1)/P
// words (a (value, index) pair is two words), written once against the Communicator.
//
// One call of one bucket (n elements, k = max(1, floor(ratio n)), P workers, call t):
//  1. Local selection with a reused threshold. Every `tau` calls (t % tau == 0) each worker takes
//     its exact top-k (topk_magnitude) and keeps the k-th largest magnitude as its local
//     threshold; in between it keeps every entry whose magnitude is >= that threshold
//     (select_at_least: one read of the bucket), so its count drifts around k.
//  2. Split and reduce. [0, n) is cut into P regions, region j owned by rank j. The boundaries are
//     balanced on the previous call's global top-k positions (each region holds about 1/P of
//     them), recomputed every `repartition_tau` calls; the first call has no previous result and
//     uses equal regions, so the second call repartitions too. Each worker sends each region's
//     selected (value, index) pairs to its owner: an all-to-all of the pair counts (each rank sends
//     its row of P int32 counts to every rank, so that every rank knows the whole P x P matrix the
//     all-to-all-v needs), then two all-to-all-v (values as value_dtype, indices as index_dtype).
//     The owner sums what it received in source order.
//  3. Global selection with a reused global threshold: every `tau` calls it is re-evaluated
//     exactly, as the k-th largest magnitude of all reduced sums: each owner contributes its at
//     most k largest nonzero sums (float32) to an all-gather-v preceded by an all-gather of their
//     counts, and every rank takes the k-th largest of the union. Each owner keeps the sums whose
//     magnitude is >= the global threshold.
//  4. Balance and all-gather-v. An all-gather of the owners' counts; when they are unequal the
//     pairs are moved (all-to-all-v, contiguous in index order) so that rank r holds the r-th of P
//     equal slices of the global selection; then an all-gather-v of the values and one of the
//     indices with those real per-rank sizes. Every rank scatters the pairs and divides by P.
//
// What each worker contributed to the aggregate, C_i(x_i) = x_i on (its local selection) AND (the
// global selection), is its message for error feedback: the residual keeps everything else, as
// the paper's Ok-Topk SGD does. With fp32 values agg == (1/P) sum_i C_i(x_i) (sums in worker
// order). Thresholds are magnitude keys (magnitude_key); a threshold of key 0 is raised to the
// smallest positive key so a reused threshold never selects the zeros of a bucket.
//
// Workers and ranks: the process holds W local workers (the `in` spans; local worker w is rank
// first_rank() + w and owns region first_rank() + w) of P = world_size() ranks: the emulated
// communicator holds all P, a process group one. Everything received is sized by P.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
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

using Bytes = std::vector<std::uint8_t>;

struct BucketState {
  std::uint32_t calls = 0;
  std::size_t numel = 0;
  std::vector<std::uint32_t> local_key;    // per local worker, reused local threshold
  std::uint32_t global_key = 1;            // reused global threshold
  std::vector<std::size_t> bounds;         // P + 1 region boundaries
  std::vector<std::uint32_t> last_global;  // the previous call's global selection (ascending)
};

std::vector<std::size_t> equal_bounds(std::size_t n, std::size_t P) {
  std::vector<std::size_t> b(P + 1);
  for (std::size_t j = 0; j <= P; ++j) b[j] = n * j / P;
  return b;
}

// Region j starts at the (j T / P)-th position of the sorted previous selection, so each region
// holds about T / P of it.
std::vector<std::size_t> balanced_bounds(std::size_t n, std::size_t P, const std::vector<std::uint32_t>& pos) {
  if (pos.size() < P) return equal_bounds(n, P);
  std::vector<std::size_t> b(P + 1);
  b[0] = 0;
  b[P] = n;
  for (std::size_t j = 1; j < P; ++j) b[j] = std::max<std::size_t>(b[j - 1], pos[pos.size() * j / P]);
  return b;
}

std::vector<const void*> cptrs(const std::vector<Bytes>& v) {
  std::vector<const void*> p(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i].data();
  return p;
}
std::vector<void*> mptrs(std::vector<Bytes>& v) {
  std::vector<void*> p(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i].data();
  return p;
}

class OkTopk final : public Sparsifier {
 public:
  OkTopk(std::int64_t tau, std::int64_t repartition_tau, DType values, DType indices)
      : tau_(static_cast<std::uint32_t>(tau)), repartition_(static_cast<std::uint32_t>(repartition_tau)),
        vt_(values), it_(indices) {}
  const char* name() const override { return "oktopk"; }

  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t n = layout.numel(), W = a.in.size();
    const std::size_t P = static_cast<std::size_t>(comm.world_size()), r0 = static_cast<std::size_t>(comm.first_rank());
    if (W == 0 || r0 + W > P)
      throw std::invalid_argument("oktopk: local workers " + std::to_string(r0) + ".." + std::to_string(r0 + W) +
                                  " are not ranks of " + std::to_string(P));
    Backend& be = a.be();
    const std::size_t k = n == 0 ? 0 : k_of(a.ratio, n);
    BucketState& st = state_[a.bucket];
    if (st.numel != n || st.local_key.size() != W) st = BucketState{0, n, std::vector<std::uint32_t>(W, 1), 1, {}, {}};
    const std::uint32_t t = st.calls++;
    const bool reevaluate = t % tau_ == 0;
    if (t == 0) st.bounds = equal_bounds(n, P);
    else if (t == 1 || t % repartition_ == 0) st.bounds = balanced_bounds(n, P, st.last_global);
    const auto& bounds = st.bounds;

    // 1. Local selection (local workers).
    std::vector<std::vector<std::uint32_t>> idx(W);
    std::vector<std::vector<float>> vals(W);
    std::vector<std::size_t> local_count(W);
    std::vector<std::uint32_t> scratch;  // one filter output at a time (n entries), copied out exactly
    {
      KernelTimer timer(comm, be, KernelId::kOktopkSelect, {.n = n, .k = k}, W);
      for (std::size_t w = 0; w < W; ++w) {
        if (reevaluate) {
          idx[w].resize(k);
          be.topk_magnitude(a.in[w], n, k, idx[w].data());
          std::uint32_t kth = ~0u;
          for (auto i : idx[w]) kth = std::min(kth, magnitude_key(a.in[w][i]));
          st.local_key[w] = std::max<std::uint32_t>(k ? kth : 1u, 1u);
        } else {
          scratch.resize(n);
          const std::size_t c = be.select_at_least(a.in[w], n, st.local_key[w], scratch.data());
          idx[w].assign(scratch.begin(), scratch.begin() + static_cast<long>(c));
        }
        local_count[w] = idx[w].size();
        vals[w].resize(local_count[w]);
        be.gather(a.in[w], idx[w].data(), local_count[w], vals[w].data());
      }
    }

    // 2. Split and reduce: counts[s * P + d] = pairs rank s sends to d (its selection is ascending,
    // so region by region it is already in destination order). Local rows first, then the whole
    // matrix from the count exchange.
    std::vector<std::size_t> rows(W * P);
    for (std::size_t w = 0; w < W; ++w) {
      std::size_t from = 0;
      for (std::size_t d = 0; d < P; ++d) {
        const std::size_t to = static_cast<std::size_t>(
            std::lower_bound(idx[w].begin() + static_cast<long>(from), idx[w].end(), bounds[d + 1]) - idx[w].begin());
        rows[w * P + d] = to - from;
        from = to;
      }
    }
    const std::vector<std::size_t> counts = exchange_counts(comm, rows, P);
    std::vector<std::size_t> recv(P, 0), sent(P, 0);  // per rank: pairs it receives, pairs it selected
    for (std::size_t s = 0; s < P; ++s)
      for (std::size_t d = 0; d < P; ++d) {
        recv[d] += counts[s * P + d];
        sent[s] += counts[s * P + d];
      }
    std::vector<Bytes> send_v(W), send_i(W), recv_v(W), recv_i(W);
    for (std::size_t w = 0; w < W; ++w) {
      send_v[w] = pack_values(vals[w].data(), local_count[w], vt_);
      send_i[w] = pack_indices(idx[w].data(), local_count[w], it_);
      recv_v[w].resize(recv[r0 + w] * dtype_size(vt_));
      recv_i[w].resize(recv[r0 + w] * dtype_size(it_));
    }
    {
      auto in_v = cptrs(send_v), in_i = cptrs(send_i);
      auto out_v = mptrs(recv_v), out_i = mptrs(recv_i);
      comm.alltoallv(in_v, counts, vt_, out_v, true);
      comm.alltoallv(in_i, counts, it_, out_i, true);
    }
    std::vector<std::vector<float>> acc(W);  // local owner w (rank r0 + w): its region's sums, dense
    std::size_t max_recv = 0, max_width = 0;
    for (std::size_t d = 0; d < P; ++d) {
      max_recv = std::max(max_recv, recv[d]);
      max_width = std::max(max_width, bounds[d + 1] - bounds[d]);
    }
    std::vector<std::vector<std::uint32_t>> gsel(W);  // local owner w: selected positions (region-relative)
    {
      KernelTimer timer(comm, be, KernelId::kOktopkReduce, {.n = max_width, .k = max_recv}, W);
      for (std::size_t w = 0; w < W; ++w) {
        const std::size_t d = r0 + w, lo = bounds[d], width = bounds[d + 1] - lo;
        std::vector<float> rv(recv[d]);
        std::vector<std::uint32_t> ri(recv[d]);
        unpack_values(recv_v[w].data(), recv[d], vt_, rv.data());
        unpack_indices(recv_i[w].data(), recv[d], it_, ri.data());
        for (auto& i : ri) {
          if (i < lo || i >= lo + width) throw std::logic_error("oktopk: a pair arrived at the wrong region owner");
          i -= static_cast<std::uint32_t>(lo);
        }
        acc[w].resize(width);
        be.zero(acc[w].data(), width);
        be.scatter_add(rv.data(), ri.data(), recv[d], acc[w].data());
      }
    }

    // 3. Global threshold: re-evaluated exactly every tau calls.
    if (reevaluate) st.global_key = global_threshold(comm, be, acc, k, max_width);
    {
      KernelTimer timer(comm, be, KernelId::kOktopkSelect, {.n = max_width, .k = k}, W);
      scratch.resize(max_width);
      for (std::size_t w = 0; w < W; ++w) {
        const std::size_t c = be.select_at_least(acc[w].data(), acc[w].size(), st.global_key, scratch.data());
        gsel[w].assign(scratch.begin(), scratch.begin() + static_cast<long>(c));
      }
    }

    // 4. Balance and all-gather-v.
    std::vector<std::size_t> owned(W);
    for (std::size_t w = 0; w < W; ++w) owned[w] = gsel[w].size();
    const std::vector<std::size_t> all_owned = allgather_counts(comm, owned);
    std::size_t T = 0;
    for (auto c : all_owned) T += c;
    std::vector<Bytes> blk_v(W), blk_i(W);  // what each local rank contributes to the all-gather-v
    for (std::size_t w = 0; w < W; ++w) {
      std::vector<float> v(owned[w]);
      be.gather(acc[w].data(), gsel[w].data(), owned[w], v.data());
      std::vector<std::uint32_t> abs(gsel[w]);
      for (auto& i : abs) i += static_cast<std::uint32_t>(bounds[r0 + w]);
      blk_v[w] = pack_values(v.data(), owned[w], vt_);
      blk_i[w] = pack_indices(abs.data(), owned[w], it_);
    }
    std::vector<std::size_t> slice(P);
    for (std::size_t r = 0; r < P; ++r) slice[r] = T * (r + 1) / P - T * r / P;
    if (slice != all_owned) balance(comm, all_owned, slice, blk_v, blk_i);
    std::vector<std::uint8_t> all_v(T * dtype_size(vt_)), all_i(T * dtype_size(it_));
    {
      auto in_v = cptrs(blk_v), in_i = cptrs(blk_i);
      comm.allgatherv(in_v, slice, vt_, all_v.data(), true, SizeScaling::kShare);
      comm.allgatherv(in_i, slice, it_, all_i.data(), true, SizeScaling::kShare);
    }
    std::vector<float> gv(T);
    std::vector<std::uint32_t> gi(T);
    unpack_values(all_v.data(), T, vt_, gv.data());
    unpack_indices(all_i.data(), T, it_, gi.data());
    {
      KernelTimer timer(comm, be, KernelId::kOktopkScatter, {.n = n, .k = T});
      be.zero(a.agg, n);
      be.scatter(gv.data(), gi.data(), T, a.agg);
      be.divide(a.agg, n, comm.world_size());
    }

    std::vector<std::uint8_t> in_global(n, 0);
    for (auto i : gi) in_global[i] = 1;
    for (std::size_t w = 0; w < a.local_out.size(); ++w) {
      std::vector<std::uint32_t> mine;
      std::vector<float> mv;
      for (std::size_t j = 0; j < local_count[w]; ++j)
        if (in_global[idx[w][j]]) {
          mine.push_back(idx[w][j]);
          mv.push_back(vals[w][j]);
        }
      be.zero(a.local_out[w], n);
      be.scatter(mv.data(), mine.data(), mine.size(), a.local_out[w]);
    }
    if (a.selected) *a.selected = in_global;
    st.last_global = std::move(gi);

    SparsifyResult r;
    r.k = T;
    r.values_per_rank = sent[0];  // rank 0's local selection
    r.k_by_worker = sent;         // every rank's local selection (the count matrix's row sums)
    return r;
  }

 private:
  // The all-to-all of the pair counts that precedes the all-to-all-v: each rank sends its row of
  // the matrix (P int32) to every rank, so that every rank knows the whole P x P matrix (which the
  // all-to-all-v's sizes, and its plan, need). rows: the local workers' rows; returns the matrix.
  static std::vector<std::size_t> exchange_counts(Communicator& comm, const std::vector<std::size_t>& rows,
                                                  std::size_t P) {
    const std::size_t W = rows.size() / P, r0 = static_cast<std::size_t>(comm.first_rank());
    std::vector<std::vector<std::int32_t>> in(W, std::vector<std::int32_t>(P * P)),
        out(W, std::vector<std::int32_t>(P * P));
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t d = 0; d < P; ++d)
        for (std::size_t j = 0; j < P; ++j) {
          const std::size_t c = rows[w * P + j];
          if (c > static_cast<std::size_t>(INT32_MAX))
            throw std::invalid_argument("oktopk: more than 2^31 - 1 pairs for one region");
          in[w][d * P + j] = static_cast<std::int32_t>(c);  // block for d: the whole row
        }
    std::vector<const void*> ip(W);
    std::vector<void*> op(W);
    for (std::size_t w = 0; w < W; ++w) {
      ip[w] = in[w].data();
      op[w] = out[w].data();
    }
    const std::vector<std::size_t> per_pair(P * P, P);
    comm.alltoallv(ip, per_pair, DType::kInt32, op, true, SizeScaling::kPerPair);
    // out[w]: the rows of ranks 0, 1, ... back to back, the same on every local worker.
    std::vector<std::size_t> counts(P * P);
    for (std::size_t i = 0; i < P * P; ++i) counts[i] = static_cast<std::size_t>(out[0][i]);
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t i = 0; i < P * P; ++i)
        if (static_cast<std::size_t>(out[w][i]) != counts[i])
          throw std::logic_error("oktopk: the count exchange gave local workers different matrices");
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t j = 0; j < P; ++j)
        if (counts[(r0 + w) * P + j] != rows[w * P + j])
          throw std::logic_error("oktopk: the count exchange disagrees with what was sent");
    return counts;
  }

  // One int32 per rank, all-gathered: the sizes an all-gather-v needs.
  // mine: the local workers' counts; returns every rank's.
  static std::vector<std::size_t> allgather_counts(Communicator& comm, const std::vector<std::size_t>& mine) {
    const std::size_t W = mine.size(), P = static_cast<std::size_t>(comm.world_size());
    std::vector<std::int32_t> c(W), all(P);
    std::vector<const void*> ip(W);
    for (std::size_t w = 0; w < W; ++w) {
      c[w] = static_cast<std::int32_t>(mine[w]);
      ip[w] = &c[w];
    }
    comm.allgather(ip, 1, DType::kInt32, all.data(), true);
    return std::vector<std::size_t>(all.begin(), all.end());
  }

  // The k-th largest magnitude of the reduced sums, from each owner's at most k largest nonzero
  // ones (acc: the local owners' sums).
  static std::uint32_t global_threshold(Communicator& comm, Backend& be, const std::vector<std::vector<float>>& acc,
                                        std::size_t k, std::size_t max_width) {
    const std::size_t W = acc.size();
    std::vector<std::vector<float>> cand(W);
    std::vector<std::size_t> cc(W);
    {
      KernelTimer timer(comm, be, KernelId::kOktopkSelect, {.n = max_width, .k = k}, W);
      for (std::size_t d = 0; d < W; ++d) {
        std::vector<std::uint32_t> nz(acc[d].size());
        nz.resize(be.select_at_least(acc[d].data(), acc[d].size(), 1u, nz.data()));
        std::vector<float> v(nz.size());
        be.gather(acc[d].data(), nz.data(), nz.size(), v.data());
        if (v.size() > k) {
          std::vector<std::uint32_t> top(k);
          be.topk_magnitude(v.data(), v.size(), k, top.data());
          cand[d].resize(k);
          be.gather(v.data(), top.data(), k, cand[d].data());
        } else {
          cand[d] = std::move(v);
        }
        cc[d] = cand[d].size();
      }
    }
    const std::vector<std::size_t> all_cc = allgather_counts(comm, cc);
    std::size_t total = 0;
    for (auto c : all_cc) total += c;
    std::vector<float> all(total);
    std::vector<const void*> ip(W);
    for (std::size_t d = 0; d < W; ++d) ip[d] = cand[d].data();
    comm.allgatherv(ip, all_cc, DType::kFloat32, all.data(), true);
    if (total == 0 || k == 0) return 1u;
    const std::size_t kk = std::min(k, total);
    std::vector<std::uint32_t> top(kk);
    be.topk_magnitude(all.data(), total, kk, top.data());
    std::uint32_t kth = ~0u;
    for (auto i : top) kth = std::min(kth, magnitude_key(all[i]));
    return std::max<std::uint32_t>(kth, 1u);
  }

  // Moves the owners' blocks (contiguous in index order) so that rank r holds slice r of the
  // concatenation: an all-to-all-v of values and one of indices, matrix = overlaps of the ranges.
  // owned, slice: every rank's; blk_v, blk_i: the local workers' blocks.
  void balance(Communicator& comm, const std::vector<std::size_t>& owned, const std::vector<std::size_t>& slice,
               std::vector<Bytes>& blk_v, std::vector<Bytes>& blk_i) const {
    const std::size_t P = owned.size(), W = blk_v.size(), r0 = static_cast<std::size_t>(comm.first_rank());
    std::vector<std::size_t> from(P + 1, 0), to(P + 1, 0), m(P * P, 0);
    for (std::size_t j = 0; j < P; ++j) {
      from[j + 1] = from[j] + owned[j];
      to[j + 1] = to[j] + slice[j];
    }
    for (std::size_t s = 0; s < P; ++s)
      for (std::size_t d = 0; d < P; ++d) {
        const std::size_t lo = std::max(from[s], to[d]), hi = std::min(from[s + 1], to[d + 1]);
        m[s * P + d] = hi > lo ? hi - lo : 0;
      }
    std::vector<Bytes> out_v(W), out_i(W);
    for (std::size_t w = 0; w < W; ++w) {
      out_v[w].resize(slice[r0 + w] * dtype_size(vt_));
      out_i[w].resize(slice[r0 + w] * dtype_size(it_));
    }
    auto in_v = cptrs(blk_v), in_i = cptrs(blk_i);
    auto ov = mptrs(out_v), oi = mptrs(out_i);
    comm.alltoallv(in_v, m, vt_, ov, true, SizeScaling::kShare);
    comm.alltoallv(in_i, m, it_, oi, true, SizeScaling::kShare);
    blk_v.swap(out_v);
    blk_i.swap(out_i);
  }

  std::uint32_t tau_, repartition_;
  DType vt_, it_;
  std::map<std::uint32_t, BucketState> state_;
};

}  // namespace

std::unique_ptr<Sparsifier> make_oktopk(const CompressorConfig& c) {
  return std::make_unique<OkTopk>(c.param_integer("tau"), c.param_integer("repartition_tau"),
                                  value_dtype(c.value_dtype), index_dtype(c.index_dtype));
}

}  // namespace arcsim::kernels
