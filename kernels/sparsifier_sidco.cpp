// SIDCo (Abdelmoniem et al., MLSys'21, arXiv 2101.10761): each worker fits a sparsity-inducing
// distribution to the magnitudes of each tensor and takes the threshold at which the fitted tail
// holds the target fraction, in stages: stage 1 fits all nonzero magnitudes at tail probability
// rho_1 = first_ratio (SIDCo's FIRST_RATIO, 0.25); each further stage refits the exceedances over
// the previous threshold t (their excess |x| - t) at rho_i = (rho / rho_1)^(1 / (stages - 1)), so
// the stages multiply to rho; t_i = t_{i-1} + excess quantile. One stage when stages = 1 or
// rho >= rho_1. Fits (kernels/threshold_fit.hpp): exponential (SIDCo-E: excess mean * -ln p),
// gamma (SIDCo-GA: Minka's shape estimate, the exact gamma quantile), pareto (SIDCo-GP:
// generalized Pareto by the method of moments). Zeros are left out of stage 1 (the tail
// probability is rescaled to the nonzeros: rho_1 n / nnz), which is the paper's fit when there
// are none. Selection |x| > t_last; values and indices all-gathered with each worker's real
// count (sparsifier_threshold.hpp). No count adjustment: the achieved k is what the fit gives.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/sparsifier_threshold.hpp"
#include "kernels/threshold_fit.hpp"

namespace arcsim::kernels {

namespace {
enum class Fit { kExponential, kGamma, kPareto };

Fit parse_fit(const std::string& s) {
  if (s == "gamma") return Fit::kGamma;
  if (s == "pareto") return Fit::kPareto;
  return Fit::kExponential;
}

class Sidco final : public Sparsifier {
 public:
  explicit Sidco(const CompressorConfig& c)
      : stages_(static_cast<int>(c.param_integer("stages"))),
        first_ratio_(c.param_number("first_ratio")),
        fit_(parse_fit(c.param_choice("fit"))) {}
  const char* name() const override { return "sidco"; }

  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t W = a.in.size(), T = layout.shapes.size();
    Backend& be = a.be();
    // The stages' tail probabilities.
    std::vector<double> p;
    if (stages_ <= 1 || a.ratio >= first_ratio_) {
      p = {a.ratio};
    } else {
      p.assign(static_cast<std::size_t>(stages_), std::pow(a.ratio / first_ratio_, 1.0 / (stages_ - 1)));
      p[0] = first_ratio_;
    }
    threshold::Grid<float> thr(W, std::vector<float>(T, 0.0f));
    threshold::Grid<std::uint8_t> live(W, std::vector<std::uint8_t>(T, 1));  // exceedances left to fit
    const bool logs = fit_ == Fit::kGamma;
    for (std::size_t stage = 0; stage < p.size(); ++stage) {
      KernelTimer timer(comm, be, KernelId::kThrStats, {.n = layout.numel()}, W);
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t) {
          const std::size_t n = layout.numel(t);
          if (n == 0 || !live[w][t]) continue;
          const float base = stage == 0 ? 0.0f : thr[w][t];
          const ExceedanceMoments m = be.exceedance_moments(a.in[w] + layout.offset(t), n, base, logs);
          if (m.count == 0) {  // nothing above: the threshold stays (and keeps nothing more)
            live[w][t] = 0;
            continue;
          }
          double q = p[stage];
          if (stage == 0) q = std::min(1.0, q * static_cast<double>(n) / static_cast<double>(m.count));
          const threshold::Exceedances e{m.count, m.sum, m.sum_sq, m.sum_log};
          double excess = 0;
          switch (fit_) {
            case Fit::kExponential: excess = threshold::exponential_excess(e, q); break;
            case Fit::kGamma: excess = threshold::gamma_excess(e, q); break;
            case Fit::kPareto: excess = threshold::pareto_excess(e, q); break;
          }
          thr[w][t] = static_cast<float>(static_cast<double>(base) + std::max(0.0, excess));
        }
    }
    threshold::Grid<std::uint64_t> count;
    threshold::count_rounds(comm, be, layout, a.in, thr, count, 0,
                            [](std::size_t, std::size_t, std::uint64_t, float&) { return false; });
    threshold::Selection sel = threshold::select(comm, be, layout, a.in, thr, count);
    return threshold::exchange(comm, be, layout, a, sel);
  }

 private:
  int stages_;
  double first_ratio_;
  Fit fit_;
};
}  // namespace

std::unique_ptr<Sparsifier> make_sidco(const CompressorConfig& c) { return std::make_unique<Sidco>(c); }

}  // namespace arcsim::kernels
