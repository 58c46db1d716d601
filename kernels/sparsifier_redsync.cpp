// RedSync (Fang et al., 2019) as the GRACE/FGBuff code does it: per tensor, one pass for the mean
// and the max of |x|, thr = mean + t (max - mean), and a binary search on t in [0, 1] (first
// t = 0.5): a count in (k, 2k) stops it; at most k moves the upper end down, more moves the
// lower end up; it also stops once the interval is no wider than 0.2, keeping the last t tried
// (so at most 3 counts: the achieved count is whatever the last t gives, not guaranteed in (k, 2k)).
// With trim (RedSyncTrim): a single t = 0.8, no search. Selection |x| > thr; values and indices
// all-gathered with each worker's real count (sparsifier_threshold.hpp).
#include <cmath>

#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/sparsifier_threshold.hpp"

namespace arcsim::kernels {

namespace {
constexpr double kEps = 0.2;      // the search stops when r - l <= kEps
constexpr double kTrimT = 0.8;    // RedSyncTrim: t = 1 - kEps

class RedSync final : public Sparsifier {
 public:
  explicit RedSync(const CompressorConfig& c)
      : trim_(c.param_bool("trim")) {}
  const char* name() const override { return "redsync"; }
  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t W = a.in.size(), T = layout.shapes.size();
    Backend& be = a.be();
    const std::vector<std::size_t> k = threshold::tensor_targets(layout, a.ratio);
    struct Search {
      double mean = 0, max = 0, l = 0, r = 1, t = 0.5;
    };
    threshold::Grid<Search> s(W, std::vector<Search>(T));
    threshold::Grid<float> thr(W, std::vector<float>(T, 0.0f));
    auto at = [](const Search& q) { return static_cast<float>(q.mean + q.t * (q.max - q.mean)); };
    {
      KernelTimer timer(comm, be, KernelId::kThrStats, {.n = layout.numel()}, W);
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t) {
          const std::size_t n = layout.numel(t);
          if (n == 0) continue;
          const ValueMoments m = be.value_moments(a.in[w] + layout.offset(t), n);
          Search& q = s[w][t];
          q.mean = m.sum_abs / static_cast<double>(n);
          q.max = m.max_abs;
          q.t = trim_ ? kTrimT : 0.5;
          thr[w][t] = at(q);
        }
    }
    threshold::Grid<std::uint64_t> count;
    threshold::count_rounds(comm, be, layout, a.in, thr, count, trim_ ? 0 : 8,
                            [&](std::size_t w, std::size_t t, std::uint64_t c, float& x) {
                              Search& q = s[w][t];
                              if (c > k[t] && c < 2 * k[t]) return false;
                              (c <= k[t] ? q.r : q.l) = q.t;  // too few (or exactly k): lower t
                              if (q.r - q.l <= kEps) return false;  // keep the last t tried
                              q.t = q.l + (q.r - q.l) / 2;
                              x = at(q);
                              return true;
                            });
    threshold::Selection sel = threshold::select(comm, be, layout, a.in, thr, count);
    return threshold::exchange(comm, be, layout, a, sel);
  }

 private:
  bool trim_;
};
}  // namespace

std::unique_ptr<Sparsifier> make_redsync(const CompressorConfig& c) { return std::make_unique<RedSync>(c); }

}  // namespace arcsim::kernels
