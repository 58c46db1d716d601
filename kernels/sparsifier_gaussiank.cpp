// GaussianK (Shi et al., arXiv 1911.08772): each worker models its tensor's values as normal,
// thr = mu + sigma * Phi^-1(1 - rho/2) from one moments pass (mu = mean, sigma = the unbiased
// standard deviation, as torch.std), keeps |x| > thr, and re-adjusts up to max_adjust times by the
// rule of the GaussianK authors' own code (as ADTopk and Ok-Topk ship it): thr *= 0.5 while the
// count is below 2k/3, thr *= 1.5 while above 4k/3. The values and indices are all-gathered with
// each worker's real count (sparsifier_threshold.hpp). Gradients have heavier tails than a
// normal: the first estimate misses k on them (docs/compressors/threshold.md measures how far).
#include <algorithm>
#include <cmath>

#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/sparsifier_threshold.hpp"
#include "kernels/threshold_fit.hpp"

namespace arcsim::kernels {

namespace {
class GaussianK final : public Sparsifier {
 public:
  explicit GaussianK(const CompressorConfig& c)
      : max_adjust_(static_cast<int>(c.param_integer("max_adjust"))) {}
  const char* name() const override { return "gaussiank"; }
  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t W = a.in.size(), T = layout.shapes.size();
    Backend& be = a.be();
    const std::vector<std::size_t> k = threshold::tensor_targets(layout, a.ratio);
    threshold::Grid<float> thr(W, std::vector<float>(T, 0.0f));
    {
      KernelTimer timer(comm, be, KernelId::kThrStats, {.n = layout.numel()}, W);
      // rho = 1 keeps every nonzero: the quantile is -inf.
      const double z = a.ratio < 1.0 ? threshold::normal_upper_quantile(a.ratio / 2.0) : -INFINITY;
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t) {
          const std::size_t n = layout.numel(t);
          if (n == 0) continue;
          const ValueMoments m = be.value_moments(a.in[w] + layout.offset(t), n);
          const double mean = m.sum / static_cast<double>(n);
          const double var = n > 1 ? std::max(0.0, (m.sum_sq - m.sum * mean) / static_cast<double>(n - 1)) : 0.0;
          // Never below 0: a negative threshold would only add zeros to the message.
          const double x = z == -INFINITY ? 0.0 : std::max(0.0, mean + std::sqrt(var) * z);
          thr[w][t] = static_cast<float>(x);
        }
    }
    threshold::Grid<std::uint64_t> count;
    threshold::count_rounds(comm, be, layout, a.in, thr, count, max_adjust_,
                            [&](std::size_t, std::size_t t, std::uint64_t c, float& x) {
                              const double kt = static_cast<double>(k[t]);
                              if (static_cast<double>(c) < 2.0 * kt / 3.0) x *= 0.5f;
                              else if (static_cast<double>(c) > 4.0 * kt / 3.0) x *= 1.5f;
                              else return false;
                              return true;
                            });
    threshold::Selection sel = threshold::select(comm, be, layout, a.in, thr, count);
    return threshold::exchange(comm, be, layout, a, sel);
  }

 private:
  int max_adjust_;
};
}  // namespace

std::unique_ptr<Sparsifier> make_gaussiank(const CompressorConfig& c) { return std::make_unique<GaussianK>(c); }

}  // namespace arcsim::kernels
