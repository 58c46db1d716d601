// Top-K as the reference hook (sparse_hook_c4, per tensor): every worker selects its own exact
// magnitude top-k of each tensor; values (fp32) and bucket-flat indices (int32) of the whole bucket
// are all-gathered in two blocking all-gathers; each worker scatter-adds all N contributions in
// worker order and divides by N.
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
class TopK final : public Sparsifier {
 public:
  const char* name() const override { return "topk"; }
  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t n = layout.numel(), workers = a.in.size(), tensors = layout.shapes.size();
    Backend& be = a.be();
    std::size_t total_k = 0;
    for (std::size_t t = 0; t < tensors; ++t) total_k += k_of(a.ratio, layout.numel(t));

    std::vector<std::vector<std::uint32_t>> idx(workers, std::vector<std::uint32_t>(total_k));
    std::vector<std::vector<float>> vals = worker_buffers(workers, total_k);
    {
      KernelTimer timer(comm, be, KernelId::kTopkSelect, {.n = n, .k = total_k}, workers);
      for (std::size_t w = 0; w < workers; ++w) {
        std::size_t pos = 0;
        for (std::size_t t = 0; t < tensors; ++t) {
          const std::size_t off = layout.offset(t), numel = layout.numel(t), k = k_of(a.ratio, numel);
          be.topk_magnitude(a.in[w] + off, numel, k, idx[w].data() + pos);
          for (std::size_t i = 0; i < k; ++i) idx[w][pos + i] += static_cast<std::uint32_t>(off);
          pos += k;
        }
        be.gather(a.in[w], idx[w].data(), total_k, vals[w].data());
      }
    }
    std::vector<const void*> vin(workers), iin(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      vin[w] = vals[w].data();
      iin[w] = idx[w].data();
    }
    const std::size_t ranks = static_cast<std::size_t>(comm.world_size());  // blocks received
    std::vector<float> all_vals(ranks * total_k);
    std::vector<std::uint32_t> all_idx(ranks * total_k);
    if (a.value_wire == DType::kFloat32 && a.index_wire == DType::kInt32) {
      comm.allgather(vin, total_k, DType::kFloat32, all_vals.data(), true);
      comm.allgather(iin, total_k, DType::kInt32, all_idx.data(), true);
    } else {  // other wire types: pack, all-gather the packed bytes, unpack
      std::vector<std::vector<std::uint8_t>> pv(workers), pi(workers);
      for (std::size_t w = 0; w < workers; ++w) {
        for (auto& v : vals[w]) v = round_to_wire(v, a.value_wire);  // the values as sent
        pv[w] = pack_values(vals[w].data(), total_k, a.value_wire);
        pi[w] = pack_indices(idx[w].data(), total_k, a.index_wire);
        vin[w] = pv[w].data();
        iin[w] = pi[w].data();
      }
      std::vector<std::uint8_t> gv(ranks * total_k * dtype_size(a.value_wire)),
          gi(ranks * total_k * dtype_size(a.index_wire));
      comm.allgather(vin, total_k, a.value_wire, gv.data(), true);
      comm.allgather(iin, total_k, a.index_wire, gi.data(), true);
      unpack_values(gv.data(), ranks * total_k, a.value_wire, all_vals.data());
      unpack_indices(gi.data(), ranks * total_k, a.index_wire, all_idx.data());
    }
    {
      KernelTimer timer(comm, be, KernelId::kTopkScatterAdd, {.n = n, .k = total_k, .workers = ranks});
      be.zero(a.agg, n);
      for (std::size_t w = 0; w < ranks; ++w)
        be.scatter_add(all_vals.data() + w * total_k, all_idx.data() + w * total_k, total_k, a.agg);
      be.divide(a.agg, n, comm.world_size());
    }
    for (std::size_t w = 0; w < a.local_out.size(); ++w) {
      be.zero(a.local_out[w], n);
      be.scatter(vals[w].data(), idx[w].data(), total_k, a.local_out[w]);
    }
    if (a.selected) {
      a.selected->assign(n, 0);
      for (auto i : all_idx) (*a.selected)[i] = 1;
    }
    SparsifyResult r;
    r.k = total_k;
    r.values_per_rank = total_k;
    return r;
  }
};
}  // namespace

std::unique_ptr<Sparsifier> make_topk() { return std::make_unique<TopK>(); }

}  // namespace arcsim::kernels
