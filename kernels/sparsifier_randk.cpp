// Rand-K as the reference hook (sparse_hook_c4, random=True): the k indices of each tensor come
// from the shared seed, so they are the same on every worker and never sent; one all-reduce of
// the bucket's k values, /N, scatter by assignment. No rescale by default (as the reference);
// `unbiased` multiplies each tensor's values by numel/k.
#include <algorithm>
#include <vector>

#include "kernels/primitives.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/wire.hpp"
#include "kernels/worker_buffers.hpp"

namespace arcsim::kernels {

namespace {
class RandK final : public Sparsifier {
 public:
  RandK(std::uint64_t seed, bool unbiased) : seed_(seed), unbiased_(unbiased) {}
  const char* name() const override { return "randk"; }
  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t n = layout.numel(), workers = a.in.size(), tensors = layout.shapes.size();
    Backend& be = a.be();
    std::size_t total_k = 0;
    for (std::size_t t = 0; t < tensors; ++t) total_k += k_of(a.ratio, layout.numel(t));
    std::vector<std::uint32_t> idx(total_k);
    std::vector<float> scale(total_k, 1.0f);
    {
      KernelTimer timer(comm, be, KernelId::kRandkIndices, {.n = n, .k = total_k});
      std::size_t pos = 0;
      for (std::size_t t = 0; t < tensors; ++t) {
        const std::size_t off = layout.offset(t), numel = layout.numel(t), k = k_of(a.ratio, numel);
        be.randk_indices(numel, k, seed_, a.step, tensor_id(a.bucket, t), idx.data() + pos);
        for (std::size_t i = 0; i < k; ++i) {
          idx[pos + i] += static_cast<std::uint32_t>(off);
          if (unbiased_) scale[pos + i] = static_cast<float>(static_cast<double>(numel) / static_cast<double>(k));
        }
        pos += k;
      }
    }
    std::vector<std::vector<float>> vals = worker_buffers(workers, total_k);
    {
      KernelTimer timer(comm, be, KernelId::kRandkGather, {.n = n, .k = total_k}, workers);
      for (std::size_t w = 0; w < workers; ++w) {
        be.gather(a.in[w], idx.data(), total_k, vals[w].data());
        if (unbiased_)
          for (std::size_t i = 0; i < total_k; ++i) vals[w][i] *= scale[i];
        if (a.value_wire != DType::kFloat32)
          for (auto& v : vals[w]) v = round_to_wire(v, a.value_wire);
      }
    }
    std::vector<const float*> vin(workers);
    for (std::size_t w = 0; w < workers; ++w) vin[w] = vals[w].data();
    std::vector<float> sum(total_k);
    comm.allreduce_sum(vin, total_k, sum.data(), true, a.value_wire);
    {
      KernelTimer timer(comm, be, KernelId::kRandkScatter, {.n = n, .k = total_k});
      be.divide(sum.data(), total_k, comm.world_size());
      be.zero(a.agg, n);
      be.scatter(sum.data(), idx.data(), total_k, a.agg);
    }
    for (std::size_t w = 0; w < a.local_out.size(); ++w) {
      be.zero(a.local_out[w], n);
      be.scatter(vals[w].data(), idx.data(), total_k, a.local_out[w]);
    }
    if (a.selected) {
      a.selected->assign(n, 0);
      for (auto i : idx) (*a.selected)[i] = 1;
    }
    SparsifyResult r;
    r.k = total_k;
    r.values_per_rank = total_k;
    return r;
  }

 private:
  std::uint64_t seed_;
  bool unbiased_;
};
}  // namespace

std::unique_ptr<Sparsifier> make_randk(std::uint64_t seed, bool unbiased) {
  return std::make_unique<RandK>(seed, unbiased);
}

}  // namespace arcsim::kernels
