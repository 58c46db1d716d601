// DGC, Deep Gradient Compression (Lin et al., ICLR'18, arXiv 1712.01887), per worker and tensor:
//  1. local gradient clipping (clip_norm > 0): g *= c / (||g|| + 1e-6) when that is < 1, with
//     c = clip_norm * N^-1/2 (the paper scales the global clipping threshold by N^-1/2); the norm
//     is the bucket's (a per-bucket compressor never sees the whole model's norm);
//  2. momentum correction (m = momentum_correction): u = m u + g, v = v + u; with m = 0 this is
//     plain local accumulation v = v + g. u and v are this sparsifier's own per (bucket, worker)
//     state, zero at the start;
//  3. threshold from a random sample of |v| (sample_ratio of the tensor, at least 1 element,
//     positions from the counter-based RNG keyed by seed, bucket/tensor, step and worker, drawn
//     with replacement as GRACE's uniform_ indices): thr = the k_s-th largest sampled magnitude,
//     k_s = max(1, floor(samples * rho)); keep |v| >= thr (GRACE's mask);
//  4. the adjustment loop of GRACE: while the count is above 1.3 k, thr *= 1.3; below 0.7 k,
//     thr *= 0.7; at most max_adjust recounts (10 as GRACE);
//  5. momentum factor masking: u and v are cleared where values were sent.
// Values (value_dtype) and indices (index_dtype) are all-gathered with each worker's real count,
// scatter-added and divided by N (sparsifier_threshold.hpp). local_out = what each worker sent.
// Error feedback: DGC's v already carries every unsent value to the next step, so ef none is the
// method as published; ef14 on top adds a second residual e = x - C (x = g + e is what DGC gets),
// which re-feeds values DGC still holds in v (docs/compressors/threshold.md).
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "kernels/primitives.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/sparsifier_threshold.hpp"
#include "kernels/threshold_math.hpp"
#include "kernels/worker_buffers.hpp"

namespace arcsim::kernels {

namespace {
class Dgc final : public Sparsifier {
 public:
  explicit Dgc(const CompressorConfig& c)
      : seed_(c.seed),
        sample_ratio_(c.param_number("sample_ratio")),
        max_adjust_(static_cast<int>(c.param_integer("max_adjust"))),
        momentum_(static_cast<float>(c.param_number("momentum_correction"))),
        clip_norm_(c.param_number("clip_norm")) {}
  const char* name() const override { return "dgc"; }

  SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) override {
    const std::size_t W = a.in.size(), T = layout.shapes.size(), n = layout.numel();
    const auto first = static_cast<std::size_t>(comm.first_rank());  // local worker w is rank first + w
    if (static_cast<std::size_t>(comm.world_size()) > thr::kMaxSampleWorkers)
      throw std::invalid_argument("dgc: at most 65536 workers (the sample's RNG stream), got " +
                                  std::to_string(comm.world_size()));
    Backend& be = a.be();
    State& st = state_[a.bucket];
    if (st.v.size() != W || (W && st.v[0].size() != n)) {
      st.v = worker_buffers(W, n);
      st.u = worker_buffers(momentum_ > 0.0f ? W : 0, n);
    }
    // 1. Local clipping.
    std::vector<const float*> g(a.in.begin(), a.in.end());
    std::vector<std::vector<float>> clipped;
    if (clip_norm_ > 0.0) {
      KernelTimer timer(comm, be, KernelId::kThrStats, {.n = n}, W);
      const double local = clip_norm_ / std::sqrt(static_cast<double>(comm.world_size()));
      clipped.resize(W);
      for (std::size_t w = 0; w < W; ++w) {
        const double coef = local / (std::sqrt(be.value_moments(a.in[w], n).sum_sq) + 1e-6);
        if (coef >= 1.0) continue;
        clipped[w].resize(n);
        be.scale(a.in[w], n, static_cast<float>(coef), clipped[w].data());
        g[w] = clipped[w].data();
      }
    }
    // 2. Momentum correction / accumulation.
    {
      KernelTimer timer(comm, be, KernelId::kDgcAccumulate, {.n = n}, W);
      for (std::size_t w = 0; w < W; ++w) {
        if (momentum_ > 0.0f) {
          be.heavy_ball_update(st.u[w].data(), g[w], n, momentum_);  // u = m u + g
          be.ef_accumulate(st.v[w].data(), st.u[w].data(), n);        // v += u
        } else {
          be.ef_accumulate(st.v[w].data(), g[w], n);                  // v += g
        }
      }
    }
    std::vector<const float*> v(W);
    for (std::size_t w = 0; w < W; ++w) v[w] = st.v[w].data();
    // 3. Sampled threshold.
    const std::vector<std::size_t> k = threshold::tensor_targets(layout, a.ratio);
    std::vector<std::size_t> samples(T, 0);
    std::size_t total_samples = 0;
    for (std::size_t t = 0; t < T; ++t) {
      const std::size_t numel = layout.numel(t);
      samples[t] = numel ? std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(numel * sample_ratio_))) : 0;
      total_samples += samples[t];
    }
    threshold::Grid<float> keep(W, std::vector<float>(T, 0.0f)), thr(W, std::vector<float>(T, -1.0f));
    {
      KernelTimer timer(comm, be, KernelId::kThrSample, {.k = total_samples}, W);
      std::vector<float> buf;
      std::vector<std::uint32_t> top;
      for (std::size_t w = 0; w < W; ++w)
        for (std::size_t t = 0; t < T; ++t) {
          const std::size_t m = samples[t];
          if (m == 0) continue;
          buf.resize(m);
          be.sample_magnitudes(v[w] + layout.offset(t), layout.numel(t), m, seed_, a.step, tensor_id(a.bucket, t),
                               static_cast<std::uint32_t>(first + w), buf.data());
          const std::size_t ks = std::min(m, std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(m * a.ratio))));
          top.resize(ks);
          be.topk_magnitude(buf.data(), m, ks, top.data());
          float mn = buf[top[0]];
          for (std::size_t i = 1; i < ks; ++i) mn = std::min(mn, buf[top[i]]);
          keep[w][t] = mn;
          thr[w][t] = threshold::below(mn);
        }
    }
    // 4. Adjustment.
    threshold::Grid<std::uint64_t> count;
    threshold::count_rounds(comm, be, layout, v, thr, count, max_adjust_,
                            [&](std::size_t w, std::size_t t, std::uint64_t c, float& x) {
                              const double kt = static_cast<double>(k[t]);
                              if (static_cast<double>(c) > 1.3 * kt) keep[w][t] *= 1.3f;
                              else if (static_cast<double>(c) < 0.7 * kt) keep[w][t] *= 0.7f;
                              else return false;
                              x = threshold::below(keep[w][t]);
                              return true;
                            });
    threshold::Selection sel = threshold::select(comm, be, layout, v, thr, count);
    SparsifyResult r = threshold::exchange(comm, be, layout, a, sel);
    // 5. Momentum factor masking.
    std::size_t widest = 0;
    for (const auto& i : sel.idx) widest = std::max(widest, i.size());
    {
      KernelTimer timer(comm, be, KernelId::kDgcMask, {.k = widest}, W);
      const std::vector<float> zeros(widest, 0.0f);
      for (std::size_t w = 0; w < W; ++w) {
        be.scatter(zeros.data(), sel.idx[w].data(), sel.idx[w].size(), st.v[w].data());
        if (momentum_ > 0.0f) be.scatter(zeros.data(), sel.idx[w].data(), sel.idx[w].size(), st.u[w].data());
      }
    }
    return r;
  }

 private:
  struct State {
    std::vector<std::vector<float>> u, v;  // per worker: momentum and accumulated velocity
  };
  std::uint64_t seed_;
  double sample_ratio_;
  int max_adjust_;
  float momentum_;
  double clip_norm_;
  std::map<std::uint32_t, State> state_;
};
}  // namespace

std::unique_ptr<Sparsifier> make_dgc(const CompressorConfig& c) { return std::make_unique<Dgc>(c); }

}  // namespace arcsim::kernels
