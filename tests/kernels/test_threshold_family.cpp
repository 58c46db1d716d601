// The threshold estimators DGC, GaussianK, RedSync and SIDCo (kernels/sparsifier_{dgc,gaussiank,
// redsync,sidco}.cpp): their primitives against brute force, the cpu backend against the
// reference bit for bit, each method's selection rule against a plain re-computation, the
// achieved k against each method's own tolerance on normal and heavy-tailed inputs (and, where
// a method misses, by how much: docs/compressors/threshold.md), error-feedback conservation,
// the plan against what each worker sent, determinism and option validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>

#include "kernels/compressor.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"
#include "kernels/primitives.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"
#include "kernels/threshold_fit.hpp"
#include "kernels/threshold_math.hpp"
#include "tests/kernels/compress_fixture.hpp"
#include "tests/kernels/kernel_inputs.hpp"
#include "tests/kernels/threshold_inputs.hpp"

namespace arcsim::kernels {
namespace {
using nlohmann::json;
using testing::bits_of;
using testing::kAllTails;
using testing::run_step;
using testing::Tail;
using testing::tail_input;
using testing::tail_name;

const char* const kMethods[] = {"dgc", "gaussiank", "redsync", "sidco"};

BucketLayout flat(std::size_t n) { return BucketLayout{{{static_cast<std::int64_t>(n)}}, {}}; }

std::vector<std::vector<float>> tail_grads(Tail t, std::size_t workers, std::size_t n, std::uint64_t seed) {
  std::vector<std::vector<float>> g;
  for (std::size_t w = 0; w < workers; ++w) g.push_back(tail_input(t, n, seed * 1000 + w));
  return g;
}

std::vector<PlanOp> collectives(const StepReport& r) {
  std::vector<PlanOp> c;
  for (const auto& op : r.ops)
    if (op.kind == PlanOp::Kind::kCollective) c.push_back(op);
  return c;
}
int kernel_count(const StepReport& r, const std::string& name) {
  int c = 0;
  for (const auto& op : r.ops) c += op.kind == PlanOp::Kind::kKernel && op.kernel.name == name;
  return c;
}

// ---- primitives ----------------------------------------------------------------------------

TEST(ThresholdPrimitives, MomentsMatchPlainSumsAndCpuMatchesReferenceBitForBit) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4097}, std::size_t{300000}}) {
    for (Tail t : kAllTails) {
      const auto x = tail_input(t, n, 7 + n);
      const ValueMoments r = reference_backend().value_moments(x.data(), n);
      const ValueMoments c = cpu_backend().value_moments(x.data(), n);
      EXPECT_EQ(r.sum, c.sum);
      EXPECT_EQ(r.sum_sq, c.sum_sq);
      EXPECT_EQ(r.sum_abs, c.sum_abs);
      EXPECT_EQ(bits_of(r.max_abs), bits_of(c.max_abs));
      long double s = 0, s2 = 0, sa = 0;
      float mx = 0;
      for (float v : x) {
        s += v;
        s2 += static_cast<long double>(v) * v;
        sa += std::fabs(v);
        mx = std::max(mx, std::fabs(v));
      }
      EXPECT_NEAR(r.sum, static_cast<double>(s), 1e-12 * static_cast<double>(sa) + 1e-300) << n;
      EXPECT_NEAR(r.sum_sq, static_cast<double>(s2), 1e-12 * static_cast<double>(s2) + 1e-300) << n;
      EXPECT_NEAR(r.sum_abs, static_cast<double>(sa), 1e-12 * static_cast<double>(sa) + 1e-300) << n;
      EXPECT_EQ(r.max_abs, mx);
      for (float thr : {-1.0f, 0.0f, 1e-3f, 3e-3f}) {
        for (bool logs : {false, true}) {
          const ExceedanceMoments er = reference_backend().exceedance_moments(x.data(), n, thr, logs);
          const ExceedanceMoments ec = cpu_backend().exceedance_moments(x.data(), n, thr, logs);
          EXPECT_EQ(er.count, ec.count);
          EXPECT_EQ(er.sum, ec.sum);
          EXPECT_EQ(er.sum_sq, ec.sum_sq);
          EXPECT_EQ(er.sum_log, ec.sum_log);
          std::uint64_t cnt = 0;
          long double es = 0, el = 0;
          for (float v : x)
            if (std::fabs(v) > thr) {
              ++cnt;
              const float e = std::fabs(v) - thr;
              es += e;
              el += std::log(static_cast<long double>(e));
            }
          EXPECT_EQ(er.count, cnt);
          EXPECT_NEAR(er.sum, static_cast<double>(es), 1e-12 * static_cast<double>(es) + 1e-300);
          if (logs) EXPECT_NEAR(er.sum_log, static_cast<double>(el), 1e-6 * std::fabs(static_cast<double>(el)) + 1e-9);
          else EXPECT_EQ(er.sum_log, 0.0);
          EXPECT_EQ(reference_backend().count_above(x.data(), n, thr), cnt);
          EXPECT_EQ(cpu_backend().count_above(x.data(), n, thr), cnt);
        }
      }
    }
  }
}

TEST(ThresholdPrimitives, SelectAboveIsTheAscendingBruteForceSetOnBothBackends) {
  for (std::size_t n : {std::size_t{0}, std::size_t{10}, std::size_t{200000}}) {
    const auto x = tail_input(Tail::kStudentT3, n, 3);
    for (float thr : {-1.0f, 0.0f, 2e-3f}) {
      std::vector<std::uint32_t> want;
      for (std::size_t i = 0; i < n; ++i)
        if (std::fabs(x[i]) > thr) want.push_back(static_cast<std::uint32_t>(i));
      for (Backend* be : {&reference_backend(), &cpu_backend()}) {
        std::vector<std::uint32_t> got(want.size() + 1, 0xdeadbeefu);
        ASSERT_EQ(be->select_above(x.data(), n, thr, got.data()), want.size()) << be->name();
        EXPECT_EQ(got.back(), 0xdeadbeefu) << "wrote past the count";
        got.pop_back();
        EXPECT_EQ(got, want) << be->name();
      }
    }
  }
}

TEST(ThresholdPrimitives, SampleIsDeterministicInRangeAndDiffersPerWorker) {
  const auto x = tail_input(Tail::kNormal, 100003, 5);
  std::vector<float> a(50000), b(50000), c(50000), d(50000);
  reference_backend().sample_magnitudes(x.data(), x.size(), a.size(), 9, 3, 17, 0, a.data());
  cpu_backend().sample_magnitudes(x.data(), x.size(), b.size(), 9, 3, 17, 0, b.data());
  reference_backend().sample_magnitudes(x.data(), x.size(), c.size(), 9, 3, 17, 1, c.data());
  reference_backend().sample_magnitudes(x.data(), x.size(), d.size(), 9, 4, 17, 0, d.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  std::set<std::uint32_t> positions;
  for (std::uint64_t i = 0; i < a.size(); ++i) {
    const std::uint32_t p = thr::sample_position(i, static_cast<std::uint32_t>(x.size()), 9, 3, 17, 0);
    ASSERT_LT(p, x.size());
    EXPECT_EQ(bits_of(a[i]), bits_of(std::fabs(x[p])));
    positions.insert(p);
  }
  // With replacement, 50000 draws from 100003 positions hit about 1 - e^-0.5 = 39 % of them.
  EXPECT_NEAR(static_cast<double>(positions.size()) / 100003.0, 1.0 - std::exp(-0.5), 0.01);
  EXPECT_THROW(reference_backend().sample_magnitudes(x.data(), 0, 1, 1, 0, 0, 0, a.data()), std::invalid_argument);
}

TEST(ThresholdPrimitives, PortableLogIsWithinTwoUlpOfLibm) {
  for (float x : {1e-45f, 3e-40f, 1.17549435e-38f, 1e-20f, 1e-3f, 0.5f, 0.70710677f, 0.9999999f, 1.0f, 1.0000001f,
                  1.4142135f, 2.0f, 10.0f, 1e10f, 3.4e38f}) {
    const double want = std::log(static_cast<double>(x));
    const double got = thr::log_portable(x);
    EXPECT_NEAR(got, want, 2.5 * std::fabs(static_cast<double>(std::nextafter(static_cast<float>(want), 1e30f)) - want) + 1e-7)
        << x;
  }
}

TEST(ThresholdFits, QuantilesMatchClosedForms) {
  // Upper normal quantiles (scipy.stats.norm.isf).
  EXPECT_NEAR(threshold::normal_upper_quantile(0.005), 2.5758293035489004, 1e-12);
  EXPECT_NEAR(threshold::normal_upper_quantile(0.5), 0.0, 1e-14);
  EXPECT_NEAR(threshold::normal_upper_quantile(1e-10), 6.361340902404056, 1e-9);
  // Gamma(1) is the exponential: Q^-1(1, p) = -ln p. Gamma(1/2): Q(1/2, x) = erfc(sqrt x).
  for (double p : {0.5, 0.04, 1e-4}) {
    EXPECT_NEAR(threshold::gamma_upper_quantile(1.0, p), -std::log(p), 1e-9 * -std::log(p));
    const double x = threshold::gamma_upper_quantile(0.5, p);
    EXPECT_NEAR(std::erfc(std::sqrt(x)), p, 1e-10 * p + 1e-15);
    EXPECT_NEAR(threshold::gamma_q(3.7, threshold::gamma_upper_quantile(3.7, p)), p, 1e-10 * p);
  }
  // The fits on exact exponential moments: every fit gives the exponential's own quantile.
  threshold::Exceedances e;
  e.count = 1000000;
  e.sum = 1e6 * 2.0;          // mean 2
  e.sum_sq = 1e6 * 8.0;       // E[x^2] = 2 mean^2: xi = 0
  EXPECT_NEAR(threshold::exponential_excess(e, 0.01), 2.0 * std::log(100.0), 1e-12);
  EXPECT_NEAR(threshold::pareto_excess(e, 0.01), 2.0 * std::log(100.0), 1e-9);
  e.sum_log = 1e6 * (std::log(2.0) - 0.5772156649015329);  // E[ln x] = ln(mean) - Euler's gamma
  EXPECT_NEAR(threshold::gamma_excess(e, 0.01), 2.0 * std::log(100.0), 0.02 * 2.0 * std::log(100.0));
}

// ---- the selection rules against a plain re-computation ---------------------------------------

// Runs the sparsifier of `name` directly (ratio per call) on W workers; returns the per-worker
// sent messages (local_out) and the report.
struct Direct {
  std::vector<std::vector<float>> local;
  std::vector<float> agg;
  std::vector<std::uint8_t> selected;
  SparsifyResult result;
  std::vector<PlanOp> ops;
};
Direct run_direct(Sparsifier& s, const BucketLayout& layout, const std::vector<std::vector<float>>& in, double ratio,
                  std::uint32_t step = 0, Backend& be = reference_backend()) {
  const std::size_t W = in.size(), n = layout.numel();
  EmulatedCommunicator em(static_cast<int>(W));
  RecordingCommunicator comm(em);
  Direct d;
  d.local.assign(W, std::vector<float>(n, 1.0f));
  d.agg.assign(n, 7.0f);
  std::vector<const float*> ip;
  std::vector<float*> lp;
  for (std::size_t w = 0; w < W; ++w) {
    ip.push_back(in[w].data());
    lp.push_back(d.local[w].data());
  }
  SparsifyArgs a;
  a.step = step;
  a.ratio = ratio;
  a.in = ip;
  a.local_out = lp;
  a.agg = d.agg.data();
  a.selected = &d.selected;
  a.backend = &be;
  d.result = s.run(comm, layout, a);
  d.ops = comm.take_ops();
  return d;
}

std::unique_ptr<Sparsifier> make(const std::string& name, const json& opts = json::object(), std::uint64_t seed = 1) {
  CompressorConfig c = build_config(name, opts);
  c.seed = seed;
  return compressor_entry(name).make(c);
}

TEST(GaussianK, FirstEstimateIsMeanPlusStdTimesTheNormalQuantile) {
  const std::size_t n = 20000;
  const double rho = 0.01;
  auto in = tail_grads(Tail::kNormal, 2, n, 11);
  auto s = make("gaussiank", {{"max_adjust", 0}});
  const Direct d = run_direct(*s, flat(n), in, rho);
  for (std::size_t w = 0; w < 2; ++w) {
    double m = 0, q = 0;
    for (float v : in[w]) m += v;
    m /= n;
    for (float v : in[w]) q += (v - m) * (v - m);
    const double sd = std::sqrt(q / (n - 1));
    const float thr = static_cast<float>(m + sd * threshold::normal_upper_quantile(rho / 2));
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool keep = std::fabs(in[w][i]) > thr;
      k += keep;
      ASSERT_EQ(bits_of(d.local[w][i]), bits_of(keep ? in[w][i] : 0.0f)) << w << " " << i;
    }
    EXPECT_EQ(d.result.k_by_worker[w], k);
  }
}

TEST(RedSync, ThresholdIsMeanPlusTTimesMaxMinusMeanWithTheBinarySearch) {
  const std::size_t n = 30000;
  for (Tail t : kAllTails)
    for (bool trim : {false, true})
      for (double rho : {0.01, 0.001}) {
        auto in = tail_grads(t, 2, n, 12);
        auto s = make("redsync", {{"trim", trim}});
        const Direct d = run_direct(*s, flat(n), in, rho);
        const std::size_t k = k_of(rho, n);
        for (std::size_t w = 0; w < 2; ++w) {
          double mean = 0, mx = 0;
          for (float v : in[w]) {
            mean += std::fabs(v);
            mx = std::max(mx, static_cast<double>(std::fabs(v)));
          }
          mean /= n;
          auto count = [&](float thr) {
            std::size_t c = 0;
            for (float v : in[w]) c += std::fabs(v) > thr;
            return c;
          };
          double l = 0, r = 1, tt = trim ? 0.8 : 0.5;
          float thr = static_cast<float>(mean + tt * (mx - mean));
          std::size_t c = count(thr);
          while (!trim && !(c > k && c < 2 * k)) {
            (c <= k ? r : l) = tt;
            if (r - l <= 0.2) break;
            tt = l + (r - l) / 2;
            thr = static_cast<float>(mean + tt * (mx - mean));
            c = count(thr);
          }
          EXPECT_EQ(d.result.k_by_worker[w], c) << tail_name(t) << " trim " << trim << " rho " << rho;
          for (std::size_t i = 0; i < n; ++i)
            ASSERT_EQ(bits_of(d.local[w][i]), bits_of(std::fabs(in[w][i]) > thr ? in[w][i] : 0.0f));
        }
      }
}

TEST(Sidco, SingleExponentialStageIsMeanMagnitudeTimesMinusLnRho) {
  const std::size_t n = 20000;
  auto in = tail_grads(Tail::kLaplace, 2, n, 13);
  auto s = make("sidco", {{"stages", 1}});
  const Direct d = run_direct(*s, flat(n), in, 0.01);
  for (std::size_t w = 0; w < 2; ++w) {
    double mean = 0;
    for (float v : in[w]) mean += std::fabs(v);
    mean /= n;
    const float thr = static_cast<float>(mean * -std::log(0.01));
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(bits_of(d.local[w][i]), bits_of(std::fabs(in[w][i]) > thr ? in[w][i] : 0.0f));
  }
}

TEST(Sidco, SecondStageRefitsTheExceedancesOfTheFirst) {
  const std::size_t n = 20000;
  auto in = tail_grads(Tail::kStudentT3, 1, n, 14);
  auto s = make("sidco", {{"stages", 2}});
  const Direct d = run_direct(*s, flat(n), in, 0.01);
  double mean = 0;
  for (float v : in[0]) mean += std::fabs(v);
  mean /= n;
  const float t1 = static_cast<float>(mean * -std::log(0.25));
  double ex = 0;
  std::size_t c = 0;
  for (float v : in[0])
    if (std::fabs(v) > t1) {
      ex += std::fabs(v) - t1;
      ++c;
    }
  const float t2 = static_cast<float>(t1 + ex / c * -std::log(0.01 / 0.25));
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    k += std::fabs(in[0][i]) > t2;
    ASSERT_EQ(bits_of(d.local[0][i]), bits_of(std::fabs(in[0][i]) > t2 ? in[0][i] : 0.0f));
  }
  EXPECT_EQ(d.result.k_by_worker[0], k);
}

TEST(Dgc, ThresholdIsTheSampledQuantileThenAdjustedAsGrace) {
  const std::size_t n = 50000;
  const double rho = 0.01;
  auto in = tail_grads(Tail::kNormal, 2, n, 15);
  for (int max_adjust : {0, 10}) {
    auto s = make("dgc", {{"momentum_correction", 0.0}, {"max_adjust", max_adjust}}, 4);
    const Direct d = run_direct(*s, flat(n), in, rho, 6);
    const std::size_t k = k_of(rho, n), m = 500, ks = 5;
    for (std::size_t w = 0; w < 2; ++w) {
      std::vector<float> smp(m);
      for (std::size_t i = 0; i < m; ++i)
        smp[i] = std::fabs(in[w][thr::sample_position(i, n, 4, 6, tensor_id(0, 0), static_cast<std::uint32_t>(w))]);
      std::sort(smp.begin(), smp.end(), std::greater<float>());
      float thr = smp[ks - 1];
      auto count = [&](float x) {
        std::size_t c = 0;
        for (float v : in[w]) c += std::fabs(v) >= x;
        return c;
      };
      std::size_t c = count(thr);
      for (int a = 0; a < max_adjust; ++a) {
        if (c > 1.3 * k) thr *= 1.3f;
        else if (c < 0.7 * k) thr *= 0.7f;
        else break;
        c = count(thr);
      }
      EXPECT_EQ(d.result.k_by_worker[w], c) << "max_adjust " << max_adjust;
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(bits_of(d.local[w][i]), bits_of(std::fabs(in[w][i]) >= thr ? in[w][i] : 0.0f));
    }
  }
}

TEST(Dgc, MomentumCorrectionAccumulatesAndMasksWhatWasSent) {
  // Step 1 sends part of v = u = g1 and clears it; step 2 with g = 0 sends only positions not
  // sent at step 1, with value v = g1 + m g1 (u = m u + 0, v += u).
  const std::size_t n = 4000;
  for (double m : {0.0, 0.9}) {
    auto g1 = tail_grads(Tail::kLaplace, 2, n, 16);
    const std::vector<std::vector<float>> zero(2, std::vector<float>(n, 0.0f));
    auto s = make("dgc", {{"momentum_correction", m}});
    const Direct d1 = run_direct(*s, flat(n), g1, 0.05, 0);
    const Direct d2 = run_direct(*s, flat(n), zero, 0.05, 1);
    for (std::size_t w = 0; w < 2; ++w) {
      std::size_t sent2 = 0;
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(d1.local[w][i] == 0.0f || bits_of(d1.local[w][i]) == bits_of(g1[w][i]));
        if (d2.local[w][i] == 0.0f) continue;
        ++sent2;
        ASSERT_EQ(d1.local[w][i], 0.0f) << "sent twice: masking failed at " << i;
        const float u = std::fma(static_cast<float>(m), g1[w][i], 0.0f);
        const float want = m > 0 ? g1[w][i] + u : g1[w][i];
        ASSERT_EQ(bits_of(d2.local[w][i]), bits_of(want)) << "m " << m << " i " << i;
      }
      EXPECT_GT(sent2, 0u);
    }
  }
}

TEST(Dgc, LocalClippingScalesByClipNormOverSqrtN) {
  const std::size_t n = 5000;
  auto g = tail_grads(Tail::kNormal, 4, n, 17);
  auto plain = make("dgc", {{"momentum_correction", 0.0}});
  auto clip = make("dgc", {{"momentum_correction", 0.0}, {"clip_norm", 1e-3}});
  const Direct a = run_direct(*plain, flat(n), g, 0.01);
  const Direct b = run_direct(*clip, flat(n), g, 0.01);
  for (std::size_t w = 0; w < 4; ++w) {
    const double norm = std::sqrt(reference_backend().value_moments(g[w].data(), n).sum_sq);
    ASSERT_GT(norm, 1e-3 / 2);  // so the clip (to 1e-3 / sqrt(4)) is active
    const float coef = static_cast<float>(1e-3 / 2 / (norm + 1e-6));
    // Scaling all of v by one factor keeps the same sampled order statistics, so the same
    // positions are chosen; the values are the scaled gradient.
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(a.local[w][i] == 0.0f, b.local[w][i] == 0.0f) << i;
      if (a.local[w][i] != 0.0f) { ASSERT_EQ(bits_of(b.local[w][i]), bits_of(coef * g[w][i])); }
    }
  }
}

TEST(Dgc, Ef14OnTopOfDgcsOwnAccumulationDoubleBooksTheResidual) {
  // 50 steps of one constant gradient (2 workers, 1 %): the sum of the aggregates projected on the
  // expected sum (T mean g without momentum; sum_t (1 - m^(t+1)) / (1 - m) mean g with it). With
  // ef none DGC has sent part of it and holds the rest in v (0 < p < 1). With ef14 on top, e = x - c
  // at a sent position is minus what v had accumulated beyond x, fed back next step: with m = 0 the
  // aggregates point against the gradient (measured p = -1.75; 0.31 / 0.36 / 0.92 for the others).
  const std::size_t n = 20000;
  auto projection = [&](const char* ef, double m) {
    Compressor c(2, build_config("dgc", {{"ratio", 0.01}, {"ef", ef}, {"momentum_correction", m}}));
    const std::vector<std::vector<float>> g = {tail_input(Tail::kNormal, n, 1), tail_input(Tail::kNormal, n, 2)};
    std::vector<double> sum(n, 0.0);
    const int T = 50;
    double f = 0;
    for (int t = 0; t < T; ++t) {
      const auto r = run_step(c, flat(n), g);
      for (std::size_t i = 0; i < n; ++i) sum[i] += r.agg[i];
      f += m > 0 ? (1 - std::pow(m, t + 1)) / (1 - m) : 1.0;
    }
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double want = 0.5 * (static_cast<double>(g[0][i]) + g[1][i]) * f;
      num += sum[i] * want;
      den += want * want;
    }
    return num / den;
  };
  for (double m : {0.0, 0.9}) {
    const double p = projection("none", m);
    EXPECT_GT(p, 0.2) << m;
    EXPECT_LT(p, 1.0) << m;
  }
  EXPECT_LT(projection("ef14", 0.0), 0.0);
}

// ---- achieved k against each method's own tolerance -----------------------------------------

struct Achieved {
  double min = 1e300, max = 0;
  int max_rounds = 0;  // adjustment rounds of the busiest call (thr_count kernels - 1)
};
Achieved achieved(const std::string& name, const json& opts, Tail t, double rho, std::size_t n = 1 << 16,
                  int calls = 4, std::size_t W = 4) {
  Achieved a;
  json o = opts;
  o["ratio"] = rho;
  for (int call = 0; call < calls; ++call) {
    Compressor c(static_cast<int>(W), build_config(name, o));
    const auto r = run_step(c, flat(n), tail_grads(t, W, n, 100 + call));
    for (auto k : r.report.k_by_worker) {
      a.min = std::min(a.min, static_cast<double>(k) / k_of(rho, n));
      a.max = std::max(a.max, static_cast<double>(k) / k_of(rho, n));
    }
    a.max_rounds = std::max(a.max_rounds, kernel_count(r.report, "thr_count") - 1);
  }
  return a;
}

TEST(Dgc, AchievedKIsWithinSeventyAndHundredThirtyPercentWhenTheLoopConverges) {
  // rho = 1 %, 1 % sample (655 of 2^16): the loop stops in range before its 10 re-adjustments.
  for (Tail t : kAllTails) {
    const Achieved a = achieved("dgc", json::object(), t, 0.01);
    EXPECT_LT(a.max_rounds, 10) << tail_name(t);
    EXPECT_GE(a.min, 0.7) << tail_name(t);
    EXPECT_LE(a.max, 1.3) << tail_name(t);
  }
  // rho = 0.1 % on a normal: k_s = 1 sampled element sets the first threshold and the x1.3 / x0.7
  // steps overshoot the steep tail (a 30 % threshold step changes the count ~5x at 3 sigma), so
  // the loop can run out of re-adjustments far from k (documented, not hidden).
  const Achieved a = achieved("dgc", json::object(), Tail::kNormal, 0.001);
  EXPECT_EQ(a.max_rounds, 10);
  EXPECT_LT(a.min, 0.7);
}

TEST(GaussianK, AchievedKOnNormalInputsIsWithinTwoThirdsAndFourThirds) {
  for (double rho : {0.01, 0.001}) {
    const Achieved a = achieved("gaussiank", json::object(), Tail::kNormal, rho);
    EXPECT_LT(a.max_rounds, 5);
    EXPECT_GE(a.min, 2.0 / 3.0) << rho;
    EXPECT_LE(a.max, 4.0 / 3.0) << rho;
  }
}

TEST(GaussianK, HeavyTailsInflateSigmaSoTheFirstEstimateOverSelects) {
  // Laplace and Student-t(3) magnitudes: sigma is dominated by the tails, so mean + sigma z sits
  // below the true quantile: the first estimate keeps 1.6-12x k (measured), never fewer.
  for (Tail t : {Tail::kLaplace, Tail::kStudentT3})
    for (double rho : {0.01, 0.001}) {
      const Achieved a = achieved("gaussiank", {{"max_adjust", 0}}, t, rho);
      EXPECT_GT(a.min, 1.5) << tail_name(t) << " " << rho;
    }
  // The authors' x0.5 / x1.5 steps: at rho = 0.1 % the five re-adjustments bring it back into
  // [2k/3, 4k/3]; on Laplace at rho = 1 % they alternate around k (0.5 x 1.5 = 0.75) and end at
  // about 4.6 k after all five (measured; documented as a limitation of the rule).
  for (Tail t : {Tail::kLaplace, Tail::kStudentT3}) {
    const Achieved a = achieved("gaussiank", json::object(), t, 0.001);
    EXPECT_GE(a.min, 2.0 / 3.0) << tail_name(t);
    EXPECT_LE(a.max, 4.0 / 3.0) << tail_name(t);
  }
  const Achieved a = achieved("gaussiank", json::object(), Tail::kLaplace, 0.01);
  EXPECT_EQ(a.max_rounds, 5);
  EXPECT_GT(a.min, 4.0 / 3.0);
}

TEST(RedSync, TheSearchStopsInKTo2KOrAfterThreeProbes) {
  // No tolerance is guaranteed: the search stops in (k, 2k) or once the interval is <= 0.2
  // (3 probes); the measured spread is documented. The trim variant (t = 0.8) keeps far fewer
  // than k on all three inputs.
  for (Tail t : kAllTails) {
    const Achieved a = achieved("redsync", json::object(), t, 0.01);
    EXPECT_LE(a.max_rounds, 2) << tail_name(t);
    const Achieved trim = achieved("redsync", {{"trim", true}}, t, 0.01);
    EXPECT_EQ(trim.max_rounds, 0);
    EXPECT_LT(trim.max, 0.2) << tail_name(t);
  }
}

TEST(Sidco, AchievedKPerFitOnNormalAndHeavyTails) {
  // The tolerances the fits keep at rho = 1 %, 2 stages, 2^16 elements (measured ranges with a
  // margin; docs/compressors/threshold.md has the table). Laplace magnitudes are exponential, so
  // every fit is close to k; the exponential fit under-selects on normal inputs and over-selects
  // on Student-t(3).
  struct Band {
    const char* fit;
    Tail tail;
    double lo, hi;
  };
  const Band bands[] = {
      {"exponential", Tail::kNormal, 0.5, 0.8},    {"exponential", Tail::kLaplace, 0.85, 1.15},
      {"exponential", Tail::kStudentT3, 1.0, 1.4}, {"gamma", Tail::kNormal, 0.7, 0.95},
      {"gamma", Tail::kLaplace, 0.85, 1.15},       {"gamma", Tail::kStudentT3, 0.85, 1.15},
      {"pareto", Tail::kNormal, 0.8, 1.05},        {"pareto", Tail::kLaplace, 0.85, 1.15},
      {"pareto", Tail::kStudentT3, 0.8, 1.05},
  };
  for (const Band& b : bands) {
    const Achieved a = achieved("sidco", {{"fit", b.fit}}, b.tail, 0.01);
    EXPECT_GE(a.min, b.lo) << b.fit << " " << tail_name(b.tail);
    EXPECT_LE(a.max, b.hi) << b.fit << " " << tail_name(b.tail);
  }
  // One exponential stage on a normal input keeps a few percent of k: why SIDCo has stages.
  EXPECT_LT(achieved("sidco", {{"stages", 1}}, Tail::kNormal, 0.01).max, 0.1);
}

// ---- error feedback, plan, determinism, options ---------------------------------------------

TEST(ThresholdFamily, Ef14ConservesEveryWorkersInputBitForBit) {
  // (DGC sends from its own accumulator v, not from u: its conservation is
  // Dgc.MomentumCorrectionAccumulatesAndMasksWhatWasSent.)
  for (const char* name : {"gaussiank", "redsync", "sidco"}) {
    for (const char* vt : {"fp32", "fp16"}) {
      json o = {{"ratio", 0.02}, {"ef", "ef14"}, {"value_dtype", vt}};
      Compressor c(3, build_config(name, o));
      const std::size_t n = 3000;
      std::vector<std::vector<float>> e_old(3, std::vector<float>(n, 0.0f));
      for (std::uint64_t step = 0; step < 3; ++step) {
        auto g = tail_grads(Tail::kStudentT3, 3, n, 40 + step);
        run_step(c, flat(n), g);
        for (int w = 0; w < 3; ++w) {
          const auto& e_new = c.error(0, w);
          for (std::size_t i = 0; i < n; ++i) {
            const float u = g[w][i] + e_old[w][i];
            const float sent = u - e_new[i];
            ASSERT_EQ(bits_of(sent + e_new[i]), bits_of(u)) << name << " " << vt << " u == C(u) + e";
          }
          e_old[w] = e_new;
        }
      }
    }
  }
}

TEST(ThresholdFamily, PlanIsSizesThenAllgathervOfEachWorkersRealCount) {
  for (const char* name : kMethods)
    for (const char* vt : {"fp32", "fp16", "bf16"})
      for (const char* it : {"int32", "int64"}) {
        const std::size_t W = 4, n = 20000;
        Compressor c(static_cast<int>(W),
                     build_config(name, {{"ratio", 0.01}, {"ef", "ef14"}, {"value_dtype", vt}, {"index_dtype", it}}));
        const auto g = tail_grads(Tail::kLaplace, W, n, 21);
        const auto r = run_step(c, flat(n), g);
        const auto ops = collectives(r.report);
        ASSERT_EQ(ops.size(), 3u) << name;
        EXPECT_EQ(ops[0].op, "allgather");
        EXPECT_EQ(ops[0].bytes_per_rank, 4u);
        EXPECT_EQ(ops[0].dtype, DType::kInt32);
        const std::size_t vb = std::string(vt) == "fp32" ? 4 : 2, ib = std::string(it) == "int32" ? 4 : 8;
        EXPECT_EQ(ops[1].op, "allgatherv");
        EXPECT_EQ(ops[2].op, "allgatherv");
        EXPECT_EQ(dtype_size(ops[1].dtype), vb);
        EXPECT_EQ(dtype_size(ops[2].dtype), ib);
        ASSERT_EQ(r.report.k_by_worker.size(), W);
        ASSERT_EQ(ops[1].bytes_by_rank.size(), W);
        ASSERT_EQ(ops[2].bytes_by_rank.size(), W);
        std::size_t total = 0;
        for (std::size_t w = 0; w < W; ++w) {
          // What worker w sent: its EF14 message C(u) = u - e has k_w nonzeros.
          std::size_t nz = 0;
          const auto& e = c.error(0, static_cast<int>(w));
          for (std::size_t i = 0; i < n; ++i) nz += (g[w][i] - e[i]) != 0.0f;
          EXPECT_EQ(nz, r.report.k_by_worker[w]) << name << " worker " << w;
          EXPECT_EQ(ops[1].bytes_by_rank[w], vb * r.report.k_by_worker[w]);
          EXPECT_EQ(ops[2].bytes_by_rank[w], ib * r.report.k_by_worker[w]);
          if (vb == 4 && ib == 4) {
            EXPECT_EQ(ops[1].bytes_by_rank[w] + ops[2].bytes_by_rank[w], 8 * r.report.k_by_worker[w]);
          }
          total += r.report.k_by_worker[w];
        }
        EXPECT_EQ(ops[1].bytes_per_rank, ops[1].bytes_by_rank[0]);
        EXPECT_EQ(r.report.values_per_rank, r.report.k_by_worker[0]);
        EXPECT_EQ(r.report.k, static_cast<std::size_t>(std::llround(static_cast<double>(total) / W)));
      }
}

TEST(ThresholdFamily, AggregateIsTheMeanOfEveryWorkersMessage) {
  for (const char* name : kMethods) {
    const std::size_t W = 3;
    BucketLayout layout{{{40, 50}, {7}, {3, 4, 5}}, {}};
    const std::size_t n = layout.numel();
    auto s = make(name, json::object(), 3);
    const auto in = tail_grads(Tail::kNormal, W, n, 22);
    const Direct d = run_direct(*s, layout, in, 0.05);
    for (std::size_t i = 0; i < n; ++i) {
      float sum = 0.0f;
      bool any = false;
      for (std::size_t w = 0; w < W; ++w) {
        sum += d.local[w][i];
        any = any || d.local[w][i] != 0.0f;
      }
      ASSERT_EQ(bits_of(d.agg[i]), bits_of(sum / 3.0f)) << name << " " << i;
      ASSERT_EQ(d.selected[i] != 0, any) << name << " " << i;
    }
  }
}

TEST(ThresholdFamily, CpuBackendGivesTheReferenceBits) {
  for (const char* name : kMethods) {
    for (const json& extra : {json::object(), json{{"fit", "gamma"}}, json{{"clip_norm", 1e-3}}}) {
      if (extra.contains("fit") && std::string(name) != "sidco") continue;
      if (extra.contains("clip_norm") && std::string(name) != "dgc") continue;
      json o = extra;
      o["ratio"] = 0.01;
      o["ef"] = "ef14";
      Compressor ref(4, build_config(name, o), reference_backend());
      Compressor cpu(4, build_config(name, o), cpu_backend());
      for (int step = 0; step < 2; ++step) {
        const auto g = tail_grads(Tail::kStudentT3, 4, 60000, 30 + step);
        const auto a = run_step(ref, flat(60000), g), b = run_step(cpu, flat(60000), g);
        ASSERT_EQ(a.report.k_by_worker, b.report.k_by_worker) << name;
        for (std::size_t i = 0; i < a.agg.size(); ++i) ASSERT_EQ(bits_of(a.agg[i]), bits_of(b.agg[i])) << name;
      }
    }
  }
}

TEST(ThresholdFamily, CudaBackendGivesTheReferenceBits) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA backend or no device on this machine";
  Backend& gpu = cuda_backend();
  for (std::size_t n : {std::size_t{1}, std::size_t{4097}, std::size_t{5000000}}) {
    const auto x = tail_input(Tail::kStudentT3, n, 60 + n);
    const ValueMoments r = reference_backend().value_moments(x.data(), n), c = gpu.value_moments(x.data(), n);
    EXPECT_EQ(r.sum, c.sum);
    EXPECT_EQ(r.sum_sq, c.sum_sq);
    EXPECT_EQ(r.sum_abs, c.sum_abs);
    EXPECT_EQ(bits_of(r.max_abs), bits_of(c.max_abs));
    for (float t : {0.0f, 2e-3f}) {
      const ExceedanceMoments er = reference_backend().exceedance_moments(x.data(), n, t, true);
      const ExceedanceMoments ec = gpu.exceedance_moments(x.data(), n, t, true);
      EXPECT_EQ(er.count, ec.count);
      EXPECT_EQ(er.sum, ec.sum);
      EXPECT_EQ(er.sum_sq, ec.sum_sq);
      EXPECT_EQ(er.sum_log, ec.sum_log);
      EXPECT_EQ(reference_backend().count_above(x.data(), n, t), gpu.count_above(x.data(), n, t));
      std::vector<std::uint32_t> a(n), b(n);
      const std::size_t ka = reference_backend().select_above(x.data(), n, t, a.data());
      ASSERT_EQ(gpu.select_above(x.data(), n, t, b.data()), ka);
      a.resize(ka);
      b.resize(ka);
      EXPECT_EQ(a, b);
    }
    std::vector<float> sa(1000), sb(1000), ya(n), yb(n);
    reference_backend().sample_magnitudes(x.data(), n, 1000, 5, 2, 9, 3, sa.data());
    gpu.sample_magnitudes(x.data(), n, 1000, 5, 2, 9, 3, sb.data());
    EXPECT_EQ(sa, sb);
    reference_backend().scale(x.data(), n, 0.37f, ya.data());
    gpu.scale(x.data(), n, 0.37f, yb.data());
    EXPECT_EQ(ya, yb);
  }
  for (const char* name : kMethods) {
    Compressor ref(4, build_config(name, {{"ratio", 0.01}, {"ef", "ef14"}}), reference_backend());
    Compressor dev(4, build_config(name, {{"ratio", 0.01}, {"ef", "ef14"}}), gpu);
    for (int step = 0; step < 2; ++step) {
      const auto g = tail_grads(Tail::kLaplace, 4, 60000, 70 + step);
      const auto a = run_step(ref, flat(60000), g), b = run_step(dev, flat(60000), g);
      ASSERT_EQ(a.report.k_by_worker, b.report.k_by_worker) << name;
      for (std::size_t i = 0; i < a.agg.size(); ++i) ASSERT_EQ(bits_of(a.agg[i]), bits_of(b.agg[i])) << name;
    }
  }
}

TEST(ThresholdFamily, SameInputsAndSeedGiveTheSameBitsAndDgcDependsOnTheSeed) {
  for (const char* name : kMethods) {
    auto once = [&](std::uint64_t seed) {
      CompressorConfig cfg = build_config(name, {{"ratio", 0.01}});
      cfg.seed = seed;
      Compressor c(4, cfg);
      std::vector<float> all;
      std::vector<std::size_t> ks;
      for (int step = 0; step < 3; ++step) {
        const auto r = run_step(c, flat(30000), tail_grads(Tail::kLaplace, 4, 30000, 50 + step));
        all.insert(all.end(), r.agg.begin(), r.agg.end());
        ks.insert(ks.end(), r.report.k_by_worker.begin(), r.report.k_by_worker.end());
      }
      return std::make_pair(all, ks);
    };
    const auto a = once(1), b = once(1);
    ASSERT_EQ(a.second, b.second) << name;
    for (std::size_t i = 0; i < a.first.size(); ++i) ASSERT_EQ(bits_of(a.first[i]), bits_of(b.first[i])) << name;
    if (std::string(name) == "dgc") { EXPECT_NE(once(2).second, a.second) << "the sample ignores the seed"; }
  }
}

TEST(ThresholdFamily, BadOptionsAreRejectedByName) {
  struct Bad {
    const char* compressor;
    json opts;
    const char* option;
  };
  const Bad bad[] = {
      {"dgc", {{"sample_ratio", 0}}, "sample_ratio"},          {"dgc", {{"sample_ratio", 1.5}}, "sample_ratio"},
      {"dgc", {{"max_adjust", -1}}, "max_adjust"},             {"dgc", {{"max_adjust", 2.5}}, "max_adjust"},
      {"dgc", {{"momentum_correction", 1.0}}, "momentum_correction"},
      {"dgc", {{"clip_norm", -1}}, "clip_norm"},               {"gaussiank", {{"max_adjust", 101}}, "max_adjust"},
      {"redsync", {{"trim", "yes"}}, "trim"},                  {"sidco", {{"stages", 0}}, "stages"},
      {"sidco", {{"fit", "weibull"}}, "fit"},                  {"sidco", {{"first_ratio", 0}}, "first_ratio"},
      {"redsync", {{"stages", 2}}, "stages"},                  {"gaussiank", {{"sample_ratio", 0.1}}, "sample_ratio"},
      {"dgc", {{"value_dtype", "fp8"}}, "value_dtype"},        {"sidco", {{"index_dtype", "int16"}}, "index_dtype"},
  };
  for (const Bad& b : bad) {
    try {
      build_config(b.compressor, b.opts);
      ADD_FAILURE() << b.compressor << " accepted " << b.opts.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string(b.option) + ":", 0), 0u) << e.what();
    }
  }
}

TEST(ThresholdFamily, OwnOptionDefaultsAreEachMethodsOwn) {
  // max_adjust is an option of both DGC (default 10) and GaussianK (default 5).
  EXPECT_EQ(build_config("dgc", json::object()).param_integer("max_adjust"), 10);
  EXPECT_EQ(build_config("gaussiank", json::object()).param_integer("max_adjust"), 5);
  EXPECT_EQ(get_option(build_config("gaussiank", json::object()), "max_adjust"), 5);
  EXPECT_EQ(build_config("dgc", json::object()).to_json()["max_adjust"], 10);
  EXPECT_EQ(build_config("gaussiank", json::object()).to_json()["max_adjust"], 5);
  EXPECT_EQ(build_config("dgc", json::object()).param_number("sample_ratio"), 0.01);
  EXPECT_EQ(build_config("dgc", json::object()).param_number("momentum_correction"), 0.9);
  EXPECT_EQ(build_config("sidco", json::object()).param_integer("stages"), 2);
  EXPECT_EQ(build_config("sidco", json::object()).param_number("first_ratio"), 0.25);
  EXPECT_EQ(build_config("sidco", json::object()).param_choice("fit"), "exponential");
  EXPECT_FALSE(build_config("redsync", json::object()).param_bool("trim"));
}

TEST(ThresholdFamily, EmptyTensorsAndAllZeroInputsSendNothing) {
  for (const char* name : kMethods) {
    BucketLayout layout{{{0}, {100}, {0, 3}}, {}};
    auto s = make(name);
    const std::vector<std::vector<float>> z(2, std::vector<float>(100, 0.0f));
    const Direct d = run_direct(*s, layout, z, 0.1);
    for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(d.agg[i], 0.0f) << name;
    for (auto k : d.result.k_by_worker) EXPECT_EQ(k, 0u) << name << ": zeros are never sent";
  }
}

}  // namespace
}  // namespace arcsim::kernels
