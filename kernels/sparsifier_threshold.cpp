// The threshold estimators' shared count rounds, compaction and variable-size exchange
// (sparsifier_threshold.hpp).
#include "kernels/sparsifier_threshold.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/recording_communicator.hpp"
#include "kernels/wire.hpp"

namespace arcsim::kernels::threshold {

float below(float thr) { return thr > 0.0f ? std::nextafter(thr, 0.0f) : 0.0f; }

std::vector<std::size_t> tensor_targets(const BucketLayout& layout, double ratio) {
  std::vector<std::size_t> k(layout.shapes.size());
  for (std::size_t t = 0; t < k.size(); ++t) k[t] = k_of(ratio, layout.numel(t));
  return k;
}

int count_rounds(Communicator& comm, Backend& be, const BucketLayout& layout, std::span<const float* const> src,
                 Grid<float>& thr, Grid<std::uint64_t>& count, int max_rounds, const AdjustFn& adjust) {
  const std::size_t W = src.size(), T = layout.shapes.size();
  count.assign(W, std::vector<std::uint64_t>(T, 0));
  Grid<std::uint8_t> active(W, std::vector<std::uint8_t>(T, 1));
  int rounds = 0;
  for (int pass = 0;; ++pass) {
    std::size_t widest = 0;  // elements the busiest worker counts in this pass
    for (std::size_t w = 0; w < W; ++w) {
      std::size_t e = 0;
      for (std::size_t t = 0; t < T; ++t) e += active[w][t] ? layout.numel(t) : 0;
      widest = std::max(widest, e);
    }
    if (widest == 0 && pass > 0) break;
    {
      KernelTimer timer(comm, be, KernelId::kThrCount, {.n = widest}, W);
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t)
          if (active[w][t]) count[w][t] = be.count_above(src[w] + layout.offset(t), layout.numel(t), thr[w][t]);
    }
    if (pass >= max_rounds) break;
    bool any = false;
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t t = 0; t < T; ++t) {
        if (!active[w][t]) continue;
        active[w][t] = adjust(w, t, count[w][t], thr[w][t]) ? 1 : 0;
        any = any || active[w][t];
      }
    if (!any) break;
    ++rounds;
  }
  return rounds;
}

Selection select(Communicator& comm, Backend& be, const BucketLayout& layout, std::span<const float* const> src,
                 const Grid<float>& thr, const Grid<std::uint64_t>& count) {
  const std::size_t W = src.size(), T = layout.shapes.size(), n = layout.numel();
  Selection s;
  s.idx.resize(W);
  s.vals.resize(W);
  std::size_t widest = 0;
  for (std::size_t w = 0; w < W; ++w) {
    std::size_t k = 0;
    for (std::size_t t = 0; t < T; ++t) k += count[w][t];
    s.idx[w].resize(k);
    s.vals[w].resize(k);
    widest = std::max(widest, k);
  }
  KernelTimer timer(comm, be, KernelId::kThrSelect, {.n = n, .k = widest}, W);
  for (std::size_t w = 0; w < W; ++w) {
    std::size_t pos = 0;
    for (std::size_t t = 0; t < T; ++t) {
      const std::size_t off = layout.offset(t);
      const std::size_t got = be.select_above(src[w] + off, layout.numel(t), thr[w][t], s.idx[w].data() + pos);
      if (got != count[w][t])
        throw std::logic_error("threshold select: " + std::to_string(got) + " selected where the count said " +
                               std::to_string(count[w][t]));
      for (std::size_t i = 0; i < got; ++i) s.idx[w][pos + i] += static_cast<std::uint32_t>(off);
      pos += got;
    }
    be.gather(src[w], s.idx[w].data(), pos, s.vals[w].data());
  }
  return s;
}

SparsifyResult exchange(Communicator& comm, Backend& be, const BucketLayout& layout, const SparsifyArgs& a,
                        Selection& sel) {
  const DType value_type = a.value_wire, index_type = a.index_wire;
  const std::size_t W = sel.idx.size(), n = layout.numel();
  std::vector<std::size_t> counts(W);
  std::vector<std::int32_t> counts32(W);
  for (std::size_t w = 0; w < W; ++w) {
    counts[w] = sel.idx[w].size();
    if (counts[w] > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
      throw std::invalid_argument("threshold exchange: a worker selected more than 2^31 - 1 elements");
    counts32[w] = static_cast<std::int32_t>(counts[w]);
  }
  // Sizes first: every receiver learns each sender's count (one int32 per rank).
  std::vector<const void*> cin(W);
  for (std::size_t w = 0; w < W; ++w) cin[w] = &counts32[w];
  const std::size_t P = static_cast<std::size_t>(comm.world_size());  // ranks (W of them are local)
  std::vector<std::int32_t> all_counts(P);
  comm.allgather(cin, 1, DType::kInt32, all_counts.data(), true);
  std::vector<std::size_t> rank_counts(all_counts.begin(), all_counts.end());
  std::size_t received = 0;
  for (std::size_t c : rank_counts) received += c;

  std::vector<std::vector<std::uint8_t>> vwire(W), iwire(W);
  std::vector<const void*> vin(W), iin(W);
  for (std::size_t w = 0; w < W; ++w) {
    vwire[w] = pack_values(sel.vals[w].data(), counts[w], value_type);
    iwire[w] = pack_indices(sel.idx[w].data(), counts[w], index_type);
    vin[w] = vwire[w].data();
    iin[w] = iwire[w].data();
    // What was sent, as the receivers see it (and as error feedback must account for it).
    unpack_values(vwire[w].data(), counts[w], value_type, sel.vals[w].data());
  }
  std::vector<std::uint8_t> all_v(received * dtype_size(value_type)), all_i(received * dtype_size(index_type));
  comm.allgatherv(vin, rank_counts, value_type, all_v.data(), true);
  comm.allgatherv(iin, rank_counts, index_type, all_i.data(), true);
  std::vector<float> vals(received);
  std::vector<std::uint32_t> idx(received);
  unpack_values(all_v.data(), received, value_type, vals.data());
  unpack_indices(all_i.data(), received, index_type, idx.data());
  {
    // Top-K's scatter-add kernel over all received entries (bytes 12 total + 8 n).
    KernelTimer timer(comm, be, KernelId::kTopkScatterAdd, {.n = n, .k = received, .workers = 1});
    be.zero(a.agg, n);
    std::size_t pos = 0;
    for (std::size_t w = 0; w < P; ++w) {
      const std::size_t c = static_cast<std::size_t>(all_counts[w]);
      be.scatter_add(vals.data() + pos, idx.data() + pos, c, a.agg);
      pos += c;
    }
    be.divide(a.agg, n, comm.world_size());
  }
  for (std::size_t w = 0; w < a.local_out.size(); ++w) {
    be.zero(a.local_out[w], n);
    be.scatter(sel.vals[w].data(), sel.idx[w].data(), counts[w], a.local_out[w]);
  }
  if (a.selected) {
    a.selected->assign(n, 0);
    for (auto i : idx) (*a.selected)[i] = 1;
  }
  SparsifyResult r;
  r.k_by_worker = rank_counts;  // every rank's count, as every rank learnt it
  r.k = P ? static_cast<std::size_t>(std::llround(static_cast<double>(received) / static_cast<double>(P))) : 0;
  r.values_per_rank = P ? rank_counts[0] : 0;
  return r;
}

}  // namespace arcsim::kernels::threshold
