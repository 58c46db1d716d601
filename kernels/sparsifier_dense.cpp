// Dense: one all-reduce of the bucket, averaged (the DDP default, asynchronous).
#include <algorithm>
#include <cstring>

#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"

namespace arcsim::kernels {

void divide_by(float* x, std::size_t n, int workers) {
  const auto w = static_cast<float>(workers);
  for (std::size_t i = 0; i < n; ++i) x[i] /= w;
}

std::uint32_t tensor_id(std::uint32_t bucket, std::size_t t) {
  if (t >= 65536) throw std::invalid_argument("a bucket holds more than 65536 tensors");
  return (bucket << 16) | static_cast<std::uint32_t>(t);
}

namespace {
class Dense final : public Sparsifier {
 public:
  const char* name() const override { return "dense"; }
  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t n = layout.numel();
    comm.allreduce_sum(a.in, n, a.agg, /*blocking=*/false);
    {
      Backend& be = a.be();
      KernelTimer t(comm, be, KernelId::kAverage, {.n = n});
      be.divide(a.agg, n, comm.world_size());
    }
    for (std::size_t w = 0; w < a.local_out.size(); ++w)
      if (n) std::memcpy(a.local_out[w], a.in[w], n * sizeof(float));
    if (a.selected) a.selected->assign(n, 1);
    SparsifyResult r;
    r.k = n;
    r.values_per_rank = n;
    return r;
  }
};
}  // namespace

std::unique_ptr<Sparsifier> make_dense() { return std::make_unique<Dense>(); }

}  // namespace arcsim::kernels
