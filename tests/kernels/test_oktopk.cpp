// Ok-Topk: the selection and reduction against a brute-force model written from the algorithm's
// description, the communication volume against the paper's bound on the default trace's real
// gradients, error-feedback conservation, plan consistency, determinism, achieved k, options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/npy.hpp"
#include "compress_fixture.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels {
namespace {

using testing::run_step;

std::vector<std::vector<float>> normal_grads(std::size_t P, std::size_t n, std::uint32_t seed, bool heavy = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::student_t_distribution<float> td(2.5f);
  std::vector<std::vector<float>> g(P, std::vector<float>(n));
  std::vector<float> shared(n);
  for (auto& x : shared) x = heavy ? td(rng) : nd(rng);
  for (auto& w : g)
    for (std::size_t i = 0; i < n; ++i) w[i] = 0.5f * shared[i] + (heavy ? td(rng) : nd(rng));
  return g;
}

// ---- Brute-force model ---------------------------------------------------------------------
// Written from the description (kernels/sparsifier_oktopk.cpp's header), with sorts instead of
// the backend's primitives: the k-th largest magnitude by sorting, regions by counting.
struct Model {
  std::size_t P, n, k;
  std::uint32_t tau, rtau, t = 0;
  std::vector<float> local_th;
  float global_th = 0;
  std::vector<std::size_t> bounds;
  std::vector<std::uint32_t> last;

  static float kth(std::vector<float> mags, std::size_t k) {
    std::sort(mags.begin(), mags.end(), std::greater<float>());
    return mags[k - 1];
  }
  // Magnitude >= threshold, where a threshold of 0 means "nonzero" (the smallest positive key).
  static bool keep(float x, float th) { return th > 0 ? std::fabs(x) >= th : x != 0.0f; }

  std::vector<float> step(const std::vector<std::vector<float>>& g, std::set<std::uint32_t>* chosen) {
    const bool re = t % tau == 0;
    if (t == 0) {
      bounds.assign(P + 1, 0);
      for (std::size_t j = 0; j <= P; ++j) bounds[j] = n * j / P;
    } else if (t == 1 || t % rtau == 0) {
      for (std::size_t j = 1; j < P; ++j)
        bounds[j] = last.size() < P ? n * j / P : std::max<std::size_t>(bounds[j - 1], last[last.size() * j / P]);
    }
    ++t;
    std::vector<std::vector<std::uint32_t>> sel(P);
    for (std::size_t w = 0; w < P; ++w) {
      if (re) {
        // exact top-k, ties to the lowest index
        std::vector<std::uint32_t> order(n);
        for (std::uint32_t i = 0; i < n; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::uint32_t a, std::uint32_t b) { return std::fabs(g[w][a]) > std::fabs(g[w][b]); });
        sel[w].assign(order.begin(), order.begin() + static_cast<long>(k));
        std::sort(sel[w].begin(), sel[w].end());
        std::vector<float> m;
        for (auto x : g[w]) m.push_back(std::fabs(x));
        local_th[w] = kth(m, k);
      } else {
        for (std::uint32_t i = 0; i < n; ++i)
          if (keep(g[w][i], local_th[w])) sel[w].push_back(i);
      }
    }
    // Owners sum in source order.
    std::vector<float> sum(n, 0.0f);
    for (std::size_t w = 0; w < P; ++w)
      for (auto i : sel[w]) sum[i] += g[w][i];
    if (re) {
      std::vector<float> cand;
      for (std::size_t d = 0; d < P; ++d) {
        std::vector<float> region;
        for (std::size_t i = bounds[d]; i < bounds[d + 1]; ++i)
          if (sum[i] != 0.0f) region.push_back(std::fabs(sum[i]));
        std::sort(region.begin(), region.end(), std::greater<float>());
        if (region.size() > k) region.resize(k);
        cand.insert(cand.end(), region.begin(), region.end());
      }
      global_th = cand.empty() ? 0.0f : kth(cand, std::min(k, cand.size()));
    }
    std::vector<float> agg(n, 0.0f);
    last.clear();
    for (std::uint32_t i = 0; i < n; ++i)
      if (keep(sum[i], global_th)) {
        agg[i] = sum[i] / static_cast<float>(P);
        last.push_back(i);
        if (chosen) chosen->insert(i);
      }
    return agg;
  }
};

std::unique_ptr<Sparsifier> make(std::int64_t tau = 32, std::int64_t rtau = 32) {
  return compressor_entry("oktopk").make(build_config("oktopk", {{"tau", tau}, {"repartition_tau", rtau}}));
}

struct Direct {
  std::vector<float> agg;
  std::vector<std::vector<float>> local;
  std::vector<std::uint8_t> selected;
  SparsifyResult r;
  std::vector<PlanOp> ops;
};

Direct run_direct(Sparsifier& s, std::size_t n, const std::vector<std::vector<float>>& g, double ratio,
                  std::uint32_t step) {
  const std::size_t P = g.size();
  EmulatedCommunicator em(static_cast<int>(P));
  RecordingCommunicator rec(em);
  Direct d;
  d.agg.assign(n, 0.0f);
  d.local.assign(P, std::vector<float>(n));
  std::vector<const float*> in;
  std::vector<float*> out;
  for (std::size_t w = 0; w < P; ++w) {
    in.push_back(g[w].data());
    out.push_back(d.local[w].data());
  }
  SparsifyArgs a;
  a.step = step;
  a.ratio = ratio;
  a.in = in;
  a.local_out = out;
  a.agg = d.agg.data();
  a.selected = &d.selected;
  d.r = s.run(rec, BucketLayout{{{static_cast<std::int64_t>(n)}}, {}}, a);
  d.ops = rec.take_ops();
  return d;
}

TEST(OkTopk, MatchesTheBruteForceModelOverReusedAndReevaluatedCalls) {
  for (bool heavy : {false, true})
    for (std::size_t P : {3u, 8u}) {
      const std::size_t n = 4099;
      const double ratio = 0.01;
      auto s = make(4, 6);
      Model m{P, n, k_of(ratio, n), 4, 6, 0, std::vector<float>(P, 0.0f), 0, {}, {}};
      for (std::uint32_t call = 0; call < 13; ++call) {
        const auto g = normal_grads(P, n, 100 + call, heavy);
        std::set<std::uint32_t> chosen;
        const auto want = m.step(g, &chosen);
        const auto got = run_direct(*s, n, g, ratio, call);
        ASSERT_EQ(got.agg, want) << "P=" << P << " call " << call << (heavy ? " student-t" : " normal");
        std::size_t sel = 0;
        for (std::size_t i = 0; i < n; ++i) {
          sel += got.selected[i];
          ASSERT_EQ(got.selected[i] != 0, chosen.count(static_cast<std::uint32_t>(i)) == 1) << i;
        }
        EXPECT_EQ(got.r.k, sel);
        // Each worker's message is its input on (its selection) and (the global selection), and
        // with fp32 values the aggregate is their mean summed in worker order.
        std::vector<float> mean(n, 0.0f);
        for (std::size_t w = 0; w < P; ++w)
          for (std::size_t i = 0; i < n; ++i) {
            ASSERT_TRUE(got.local[w][i] == 0.0f || got.local[w][i] == g[w][i]);
            if (got.local[w][i] != 0.0f) { ASSERT_TRUE(got.selected[i]); }
            mean[i] += got.local[w][i];
          }
        for (auto& x : mean) x /= static_cast<float>(P);
        ASSERT_EQ(mean, got.agg);
      }
    }
}

TEST(OkTopk, ExactCallsSelectExactlyKLocallyAndReusedCallsStayNearK) {
  // Re-evaluation calls select exactly k per worker; reused thresholds on freshly drawn inputs
  // of the same distribution land near k (binomial spread), on normal and heavy-tailed data.
  for (bool heavy : {false, true}) {
    const std::size_t P = 8, n = 100000;
    const double ratio = 0.01;
    const std::size_t k = k_of(ratio, n);
    auto s = make(8, 8);
    for (std::uint32_t call = 0; call < 8; ++call) {
      const auto d = run_direct(*s, n, normal_grads(P, n, 7 + call, heavy), ratio, call);
      ASSERT_EQ(d.r.k_by_worker.size(), P);
      for (auto c : d.r.k_by_worker) {
        if (call == 0) EXPECT_EQ(c, k);
        else EXPECT_NEAR(static_cast<double>(c) / k, 1.0, 0.15) << "call " << call << (heavy ? " student-t" : "");
      }
      EXPECT_NEAR(static_cast<double>(d.r.k) / k, 1.0, call == 0 ? 0.0 : 0.15) << "global, call " << call;
    }
  }
}

// ---- Plan: volume per rank ----------------------------------------------------------------
struct Volume {
  double payload = 0, counts = 0, threshold = 0;  // bytes one rank sends, max over ranks
};

// Bytes rank r sends: alltoallv its off-diagonal row, ring all-gather(v) everything but the
// block of its right neighbour, all-gather (P - 1) blocks. Classified by position in the plan.
Volume volume(const std::vector<PlanOp>& ops, std::size_t P, bool reevaluated) {
  std::vector<const PlanOp*> coll;
  for (const auto& o : ops)
    if (o.kind == PlanOp::Kind::kCollective) coll.push_back(&o);
  std::vector<double> payload(P, 0), counts(P, 0), thr(P, 0);
  const bool balanced = coll.size() == (reevaluated ? 12u : 10u);
  EXPECT_TRUE(balanced || coll.size() == (reevaluated ? 10u : 8u)) << coll.size() << " collectives";
  for (std::size_t c = 0; c < coll.size(); ++c) {
    const PlanOp& o = *coll[c];
    std::vector<double> sent(P, 0);
    if (o.op == "alltoallv") {
      EXPECT_EQ(o.bytes_matrix.size(), P);
      for (std::size_t r = 0; r < P; ++r)
        for (std::size_t d = 0; d < P; ++d)
          if (d != r) sent[r] += static_cast<double>(o.bytes_matrix[r][d]);
    } else if (o.op == "allgatherv") {
      double total = 0;
      for (auto b : o.bytes_by_rank) total += static_cast<double>(b);
      for (std::size_t r = 0; r < P; ++r) sent[r] = total - static_cast<double>(o.bytes_by_rank[(r + 1) % P]);
    } else if (o.op == "allgather") {
      for (std::size_t r = 0; r < P; ++r) sent[r] = static_cast<double>((P - 1) * o.bytes_per_rank);
    } else {
      ADD_FAILURE() << "unexpected collective " << o.op;
    }
    // Order: counts a2a, values a2a, indices a2a, [threshold: counts ag, candidates agv],
    // owned counts ag, [balance: values a2a, indices a2a], values agv, indices agv.
    const std::size_t thr_at = 3, owned_at = reevaluated ? 5 : 3;
    const bool is_count = c == 0 || (reevaluated && c == thr_at) || c == owned_at;
    const bool is_thr = reevaluated && c == thr_at + 1;
    for (std::size_t r = 0; r < P; ++r) (is_count ? counts : is_thr ? thr : payload)[r] += sent[r];
  }
  Volume v;
  v.payload = *std::max_element(payload.begin(), payload.end());
  v.counts = *std::max_element(counts.begin(), counts.end());
  v.threshold = *std::max_element(thr.begin(), thr.end());
  return v;
}

// Real worker gradients over time from the default trace: for every recorded (run, worker) its
// gradient at step 0 and at step 100 (float16 on disk), runs in file-name order.
struct TracePair {
  std::vector<float> s0, s100;
};
std::vector<TracePair> trace_pairs() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(std::string(ARCSIM_SOURCE_DIR) + "/traces/default/samples")) {
    const std::string f = e.path().string();
    if (e.path().extension() == ".npy" && f.find("-agg") == std::string::npos && f.find("-s000000-") != std::string::npos)
      files.push_back(f);
  }
  std::sort(files.begin(), files.end());
  auto load = [](const std::string& f) {
    const auto a = io::read_npy(f);
    return std::make_pair(io::to_float32(a, f), static_cast<std::size_t>(a.shape.at(1)));
  };
  std::vector<TracePair> out;
  for (const auto& f0 : files) {
    std::string f1 = f0;
    f1.replace(f1.find("-s000000-"), 9, "-s000100-");
    const auto [v0, n] = load(f0);
    const auto [v1, n1] = load(f1);
    EXPECT_EQ(n, n1) << f1;
    for (std::size_t w = 0; w * n < v0.size(); ++w)
      out.push_back({std::vector<float>(v0.begin() + static_cast<long>(w * n), v0.begin() + static_cast<long>((w + 1) * n)),
                     std::vector<float>(v1.begin() + static_cast<long>(w * n), v1.begin() + static_cast<long>((w + 1) * n))});
  }
  return out;
}

TEST(OkTopk, VolumePerRankStaysBelowThePaperBoundOnTheDefaultTrace) {
  // The paper counts words: a (value, index) pair is 2, so its bound 6k(P-1)/P words is
  // 3k(P-1)/P pairs = 24k(P-1)/P bytes with fp32 values and int32 indices, and its lower bound
  // 2k(P-1)/P words is 8k(P-1)/P bytes. Worker w is the trace's (run, worker) pair w (wrapping
  // round for P = 64 > 56 pairs), at step 0 and at step 100, each an exact call (tau = 1).
  // Payload = the value and index collectives; the size exchanges and the threshold all-gather
  // are checked separately. (Reusing step 0's thresholds at step 100 is measured in
  // docs/compressors/oktopk.md: 100 steps is far beyond the tau - 1 calls reuse is meant for.)
  const auto pairs = trace_pairs();
  ASSERT_EQ(pairs.size(), 56u) << "the default trace's samples changed";
  const std::size_t n = pairs[0].s0.size();
  for (std::size_t P : {8u, 16u, 32u, 64u})
    for (double ratio : {0.01, 0.05}) {
      const std::size_t k = k_of(ratio, n);
      const double bound = 3.0 * k * (P - 1) / P * 8.0, lower = 1.0 * k * (P - 1) / P * 8.0;
      Compressor c(static_cast<int>(P), build_config("oktopk", {{"ratio", ratio}, {"tau", 1}}));
      BucketLayout layout{{{static_cast<std::int64_t>(n)}}, {}};
      for (std::uint32_t t = 0; t < 2; ++t) {
        std::vector<std::vector<float>> g(P);
        for (std::size_t w = 0; w < P; ++w) g[w] = t == 0 ? pairs[w % pairs.size()].s0 : pairs[w % pairs.size()].s100;
        const auto r = run_step(c, layout, g);
        const Volume v = volume(r.report.ops, P, true);
        std::printf("P=%zu ratio=%.2f step %s: payload %.0f B = %.3f of the bound %.0f B; global k %zu (k %zu)\n", P,
                    ratio, t == 0 ? "0" : "100", v.payload, v.payload / bound, bound, r.report.k, k);
        EXPECT_LT(v.payload, bound) << "P=" << P << " ratio " << ratio << " step " << t * 100;
        EXPECT_GT(v.payload, lower) << "P=" << P << " ratio " << ratio << " step " << t * 100;
        // Size exchanges, int32: each rank's row of pair counts to every rank (the whole matrix is
        // known everywhere, as the next all-to-all-v and the plan need), candidate and owner counts.
        EXPECT_LE(v.counts, 4.0 * (P + 2) * (P - 1)) << "size exchanges: int32 counts";
        EXPECT_LE(v.threshold, 4.0 * k * (P - 1)) << "threshold candidates: at most k floats per owner";
        for (auto c_w : r.report.k_by_worker) EXPECT_EQ(c_w, k);
        // Global k: k plus the sums tied with the k-th (float16-recorded gradients tie often).
        EXPECT_GE(r.report.k, k);
        EXPECT_LE(r.report.k, k + k / 100 + 2);
      }
    }
}

TEST(OkTopk, EveryWorkersPlanIsConsistentAndTheRunIsDeterministic) {
  const std::size_t P = 8, n = 20000;
  auto g = normal_grads(P, n, 5, true);
  auto cfg = build_config("oktopk", {{"ratio", 0.02}, {"ef", "ef14"}, {"tau", 3}});
  Compressor a(static_cast<int>(P), cfg), b(static_cast<int>(P), cfg);
  BucketLayout layout{{{static_cast<std::int64_t>(n)}}, {}};
  for (int t = 0; t < 7; ++t) {
    const auto ra = run_step(a, layout, g), rb = run_step(b, layout, g);
    ASSERT_EQ(ra.agg, rb.agg) << "call " << t;
    auto plan = [](const StepReport& r) {  // the plan without measured durations
      auto j = ops_to_json(r.ops);
      for (auto& o : j) o.erase("duration_s");
      return j.dump();
    };
    ASSERT_EQ(plan(ra.report), plan(rb.report));
    for (int w = 0; w < static_cast<int>(P); ++w) ASSERT_EQ(a.error(0, w), b.error(0, w));
    for (const auto& o : ra.report.ops) {
      if (o.kind != PlanOp::Kind::kCollective) continue;
      EXPECT_TRUE(o.blocking);
      if (o.op == "alltoallv") {
        ASSERT_EQ(o.bytes_matrix.size(), P);
        std::size_t row0 = 0;
        for (std::size_t d = 1; d < P; ++d) row0 += o.bytes_matrix[0][d];
        EXPECT_EQ(o.bytes_per_rank, row0);
        for (const auto& row : o.bytes_matrix) ASSERT_EQ(row.size(), P);
      }
      if (o.op == "allgatherv") {
        ASSERT_EQ(o.bytes_by_rank.size(), P);
        EXPECT_EQ(o.bytes_per_rank, o.bytes_by_rank[0]);
      }
      // How a simulation at another rank count reads the sizes: the size exchange is per pair,
      // the final all-gather-v (and the balance moves) are shares of the global top-k.
      if (o.op == "alltoallv" && o.dtype == DType::kInt32 && o.bytes_matrix[0][0] == 4 && o.bytes_matrix[0][1] == 4) {
        EXPECT_EQ(o.scaling, SizeScaling::kPerPair);
      }
    }
    {
      std::vector<const PlanOp*> coll;
      for (const auto& o : ra.report.ops)
        if (o.kind == PlanOp::Kind::kCollective) coll.push_back(&o);
      ASSERT_GE(coll.size(), 8u);
      EXPECT_EQ(coll[0]->scaling, SizeScaling::kPerPair);
      EXPECT_EQ(coll[1]->scaling, SizeScaling::kPerRank);  // each worker's local selection
      EXPECT_EQ(coll[coll.size() - 1]->scaling, SizeScaling::kShare);
      EXPECT_EQ(coll[coll.size() - 2]->scaling, SizeScaling::kShare);
      EXPECT_EQ(to_json(*coll.back())["scaling"], "share");
      EXPECT_FALSE(to_json(*coll[1]).contains("scaling"));
    }
  }
}

TEST(OkTopk, Ef14ConservesEveryEntryExactly) {
  const std::size_t P = 4, n = 5000;
  auto cfg = build_config("oktopk", {{"ratio", 0.05}, {"ef", "ef14"}, {"tau", 2}});
  Compressor c(static_cast<int>(P), cfg);
  BucketLayout layout{{{static_cast<std::int64_t>(n)}}, {}};
  std::vector<std::vector<float>> e_prev(P, std::vector<float>(n, 0.0f));
  for (std::uint32_t t = 0; t < 5; ++t) {
    const auto g = normal_grads(P, n, 40 + t);
    // Reproduce the worker messages: u = g + e, e_new = u - c with c = u on the sent entries.
    const auto r = run_step(c, layout, g);
    std::vector<float> mean(n, 0.0f);
    for (std::size_t w = 0; w < P; ++w) {
      const auto& e = c.error(0, static_cast<int>(w));
      for (std::size_t i = 0; i < n; ++i) {
        const float u = g[w][i] + e_prev[w][i];
        const float sent = u - e[i];
        ASSERT_TRUE(e[i] == u || e[i] == 0.0f) << "w " << w << " i " << i;  // residual keeps u or nothing
        ASSERT_EQ(sent + e[i], u);                                          // c + e == u exactly
        mean[i] += sent;
      }
      e_prev[w] = e;
    }
    for (auto& x : mean) x /= static_cast<float>(P);
    ASSERT_EQ(mean, r.agg) << "call " << t;
  }
}

TEST(OkTopk, WireTypesChangeTheBytesNotThePattern) {
  const std::size_t P = 4, n = 3000;
  const auto g = normal_grads(P, n, 9);
  auto plain = build_config("oktopk", {{"ratio", 0.05}});
  auto narrow = build_config("oktopk", {{"ratio", 0.05}, {"value_dtype", "bf16"}, {"index_dtype", "int64"}});
  Compressor a(static_cast<int>(P), plain), b(static_cast<int>(P), narrow);
  BucketLayout layout{{{static_cast<std::int64_t>(n)}}, {}};
  const auto ra = run_step(a, layout, g), rb = run_step(b, layout, g);
  std::vector<std::string> da, db;
  for (const auto& o : ra.report.ops)
    if (o.kind == PlanOp::Kind::kCollective) da.push_back(o.op + ":" + dtype_name(o.dtype));
  for (const auto& o : rb.report.ops)
    if (o.kind == PlanOp::Kind::kCollective) db.push_back(o.op + ":" + dtype_name(o.dtype));
  ASSERT_EQ(da.size(), db.size());
  EXPECT_EQ(da[1], "alltoallv:float32");
  EXPECT_EQ(db[1], "alltoallv:bfloat16");
  EXPECT_EQ(db[2], "alltoallv:int64");
  // bf16 values: the aggregate is the mean of bf16-rounded contributions, rounded again.
  double err = 0, den = 0;
  for (std::size_t i = 0; i < n; ++i) {
    err += std::pow(ra.agg[i] - rb.agg[i], 2);
    den += std::pow(ra.agg[i], 2);
  }
  EXPECT_GT(err, 0.0);
  EXPECT_LT(err / den, 1e-4);
}

TEST(OkTopk, OptionsHaveThePaperDefaultsAndBadValuesAreRejectedByName) {
  const auto& e = compressor_entry("oktopk");
  const auto c = build_config("oktopk", {{"ratio", 0.01}});
  EXPECT_EQ(c.param_integer("tau"), 32);
  EXPECT_EQ(c.param_integer("repartition_tau"), 32);
  EXPECT_TRUE(e.takes("index_dtype"));
  EXPECT_TRUE(e.takes("value_dtype"));
  auto rejects = [](const nlohmann::json& given, const std::string& name) {
    try {
      build_config("oktopk", given);
      ADD_FAILURE() << given.dump() << " accepted";
    } catch (const std::invalid_argument& err) {
      EXPECT_EQ(std::string(err.what()).rfind(name + ":", 0), 0u) << err.what();
    }
  };
  rejects({{"tau", 0}}, "tau");
  rejects({{"tau", 2.5}}, "tau");
  rejects({{"tau", "x"}}, "tau");
  rejects({{"repartition_tau", -1}}, "repartition_tau");
  rejects({{"ratio", 0}}, "ratio");
  rejects({{"index_dtype", "int16"}}, "index_dtype");
  rejects({{"rank", 4}}, "rank");  // an ARC-Top-K option
}

TEST(OkTopk, SelectAtLeastCpuMatchesTheReference) {
  for (std::size_t n : {0u, 1u, 33u, 1025u, (1u << 20) + 7u}) {
    std::vector<float> x(n);
    std::mt19937 rng(static_cast<std::uint32_t>(n));
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    if (n > 3) x[1] = -0.0f, x[2] = 1e-40f;
    for (std::uint32_t key : {0u, 1u, magnitude_key(0.5f), magnitude_key(2.5f), 0x7f800000u}) {
      std::vector<std::uint32_t> a(n), b(n);
      const std::size_t ca = select_at_least(x.data(), n, key, a.data());
      const std::size_t cb = cpu_backend().select_at_least(x.data(), n, key, b.data());
      ASSERT_EQ(ca, cb) << n << " " << key;
      a.resize(ca);
      b.resize(cb);
      ASSERT_EQ(a, b);
      std::size_t brute = 0;
      for (float v : x) brute += magnitude_key(v) >= key;
      ASSERT_EQ(ca, brute);
      ASSERT_TRUE(std::is_sorted(a.begin(), a.end()));
    }
  }
}

TEST(OkTopk, AlltoallvDeliversEachRowEntryToItsDestinationAndRecordsTheMatrix) {
  const std::size_t W = 3;
  EmulatedCommunicator em(static_cast<int>(W));
  RecordingCommunicator rec(em);
  // counts[s][d] = s + 2 d; element values encode (s, d, j).
  std::vector<std::size_t> counts(W * W);
  std::vector<std::vector<std::int32_t>> in(W), out(W);
  for (std::size_t s = 0; s < W; ++s)
    for (std::size_t d = 0; d < W; ++d) {
      counts[s * W + d] = s + 2 * d;
      for (std::size_t j = 0; j < s + 2 * d; ++j) in[s].push_back(static_cast<std::int32_t>(100 * s + 10 * d + j));
    }
  for (std::size_t d = 0; d < W; ++d) out[d].resize(3 + 3 * 2 * d);
  std::vector<const void*> ip;
  std::vector<void*> op;
  for (std::size_t w = 0; w < W; ++w) {
    ip.push_back(in[w].data());
    op.push_back(out[w].data());
  }
  rec.alltoallv(ip, counts, DType::kInt32, op, true);
  for (std::size_t d = 0; d < W; ++d) {
    std::vector<std::int32_t> want;
    for (std::size_t s = 0; s < W; ++s)
      for (std::size_t j = 0; j < s + 2 * d; ++j) want.push_back(static_cast<std::int32_t>(100 * s + 10 * d + j));
    EXPECT_EQ(out[d], want) << "destination " << d;
  }
  const auto ops = rec.take_ops();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].op, "alltoallv");
  EXPECT_EQ(ops[0].bytes_per_rank, 4u * (2 + 4));
  EXPECT_EQ(ops[0].bytes_matrix[2][1], 4u * 4);
  const auto j = to_json(ops[0]);
  EXPECT_EQ(j["bytes_matrix"][1][2], 4 * 5);
  std::vector<std::size_t> bad(W * W - 1, 1);
  EXPECT_THROW(em.alltoallv(ip, bad, DType::kInt32, op, true), std::invalid_argument);
}

}  // namespace
}  // namespace arcsim::kernels

namespace arcsim::kernels {
namespace {

TEST(OkTopk, CudaBackendMatchesTheReferenceBitForBit) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA build or no CUDA device on this machine";
  Backend& gpu = cuda_backend();
  for (std::size_t n : {1u, 1025u, (1u << 20) + 7u}) {
    std::vector<float> x(n);
    std::mt19937 rng(static_cast<std::uint32_t>(n));
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    for (std::uint32_t key : {0u, 1u, magnitude_key(1.5f)}) {
      std::vector<std::uint32_t> a(n), b(n);
      a.resize(select_at_least(x.data(), n, key, a.data()));
      b.resize(gpu.select_at_least(x.data(), n, key, b.data()));
      ASSERT_EQ(a, b) << n << " " << key;
    }
  }
  // A whole compressor run, EF14, over reused and re-evaluated calls.
  const std::size_t P = 8, n = 30000;
  auto cfg = build_config("oktopk", {{"ratio", 0.01}, {"ef", "ef14"}, {"tau", 3}});
  Compressor ref(static_cast<int>(P), cfg), dev(static_cast<int>(P), cfg, gpu);
  BucketLayout layout{{{static_cast<std::int64_t>(n)}}, {}};
  for (std::uint32_t t = 0; t < 5; ++t) {
    const auto g = normal_grads(P, n, 70 + t, t % 2 == 1);
    ASSERT_EQ(run_step(ref, layout, g).agg, run_step(dev, layout, g).agg) << "call " << t;
  }
}

// A measurement, not a check (run with --gtest_also_run_disabled_tests): step 0's exact
// thresholds reused on the same workers' step-100 gradients of the default trace.
TEST(OkTopk, DISABLED_MeasureThresholdsReusedOneHundredStepsLater) {
  const auto pairs = trace_pairs();
  const std::size_t n = pairs.at(0).s0.size();
  for (std::size_t P : {8u, 16u, 32u, 64u})
    for (double ratio : {0.01, 0.05}) {
      const std::size_t k = k_of(ratio, n);
      const double bound = 3.0 * k * (P - 1) / P * 8.0;
      Compressor c(static_cast<int>(P), build_config("oktopk", {{"ratio", ratio}}));
      BucketLayout layout{{{static_cast<std::int64_t>(n)}}, {}};
      for (std::uint32_t t = 0; t < 2; ++t) {
        std::vector<std::vector<float>> g(P);
        for (std::size_t w = 0; w < P; ++w) g[w] = t == 0 ? pairs[w % pairs.size()].s0 : pairs[w % pairs.size()].s100;
        const auto r = run_step(c, layout, g);
        const Volume v = volume(r.report.ops, P, t == 0);
        std::size_t lo = ~std::size_t{0}, hi = 0;
        for (auto x : r.report.k_by_worker) lo = std::min(lo, x), hi = std::max(hi, x);
        std::printf("P=%zu ratio=%.2f step %s: payload/bound %.2f, local k %.2f..%.2f k, global %.2f k\n", P, ratio,
                    t == 0 ? "0 (exact)" : "100 (reused)", v.payload / bound, double(lo) / k, double(hi) / k,
                    double(r.report.k) / k);
      }
    }
}

}  // namespace
}  // namespace arcsim::kernels
