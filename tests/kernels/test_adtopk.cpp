// ADTopk (kernels/sparsifier_adtopk.cpp): the per-row rule against a brute-force reference, every
// row contributing, 1-D tensors sent whole, the plan's collectives and bytes, interleaving,
// threshold reuse (achieved k on normal and heavy-tailed inputs, the tau schedule), FGBuff's
// buffers, EF14 conservation, determinism, backends agreeing and bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "kernels/compressor.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/primitives.hpp"
#include "tests/kernels/compress_fixture.hpp"
#include "tests/kernels/kernel_inputs.hpp"

namespace arcsim::kernels {
namespace {
using testing::run_step;

enum class Tail { kNormal, kStudentT2, kLogNormal, kLaplace };

std::vector<std::vector<float>> draws(std::size_t W, std::size_t n, std::uint64_t seed, Tail tail, float scale = 1.0f) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> nd;
  std::student_t_distribution<float> st(2.0f);
  std::lognormal_distribution<float> ln(0.0f, 2.0f);
  std::exponential_distribution<float> ex(1.0f);
  std::vector<std::vector<float>> out(W, std::vector<float>(n));
  for (auto& w : out)
    for (auto& v : w) {
      switch (tail) {
        case Tail::kNormal:
          v = nd(g);
          break;
        case Tail::kStudentT2:
          v = st(g);
          break;
        case Tail::kLogNormal:
          v = (g() & 1 ? 1.0f : -1.0f) * ln(g);
          break;
        case Tail::kLaplace:
          v = (g() & 1 ? 1.0f : -1.0f) * ex(g);
          break;
      }
      v *= scale;
    }
  return out;
}

// Brute force: the k largest |x| (lowest index on ties) of a row, ascending.
std::vector<std::uint32_t> brute_row(const float* row, std::size_t m, std::size_t k) {
  std::vector<std::uint32_t> idx(m);
  std::iota(idx.begin(), idx.end(), 0u);
  std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return std::fabs(row[a]) > std::fabs(row[b]); });
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

CompressorConfig cfg(double ratio, nlohmann::json more = nlohmann::json::object()) {
  more["ratio"] = ratio;
  return build_config("adtopk", more);
}

std::vector<PlanOp> collectives(const StepReport& r) {
  std::vector<PlanOp> c;
  for (const auto& op : r.ops)
    if (op.kind == PlanOp::Kind::kCollective) c.push_back(op);
  return c;
}

std::uint32_t bits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

TEST(AdTopK, PerRowPrimitiveMatchesBruteForceOnEveryBackend) {
  for (auto d : testing::kAllDists) {
    const std::size_t rows = 37, m = 300;
    const auto x = testing::make_input(d, rows * m, 11);
    for (std::size_t k : {1u, 3u, 30u, 300u}) {
      std::vector<std::uint32_t> ref(rows * k), fast(rows * k);
      topk_per_row(x.data(), rows, m, k, ref.data());
      cpu_backend().topk_per_row(x.data(), rows, m, k, fast.data());
      EXPECT_EQ(ref, fast) << testing::dist_name(d) << " k " << k;
      for (std::size_t i = 0; i < rows; ++i) {
        const auto want = brute_row(x.data() + i * m, m, k);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), ref.begin() + i * k)) << testing::dist_name(d) << " row " << i;
      }
    }
  }
  std::vector<std::uint32_t> out(4);
  std::vector<float> x(4, 1.0f);
  EXPECT_THROW(topk_per_row(x.data(), 1, 4, 5, out.data()), std::invalid_argument);
}

TEST(AdTopK, ThresholdFilterKeepsEntriesAtOrAboveTheRowThresholdAndAtLeastTheRowMax) {
  const std::size_t rows = 20, m = 50;
  const auto x = testing::make_input(testing::Dist::kNormal, rows * m, 5);
  std::vector<float> thr(rows);
  for (std::size_t i = 0; i < rows; ++i) thr[i] = i == 3 ? 1e9f : 0.1f * static_cast<float>(i);  // row 3: none pass
  std::vector<std::uint32_t> counts(rows), fast_counts(rows), offsets(rows);
  threshold_rows_count(x.data(), rows, m, thr.data(), counts.data());
  cpu_backend().threshold_rows_count(x.data(), rows, m, thr.data(), fast_counts.data());
  EXPECT_EQ(counts, fast_counts);
  std::uint32_t total = 0;
  for (std::size_t i = 0; i < rows; ++i) offsets[i] = std::exchange(total, total + counts[i]);
  std::vector<std::uint32_t> idx(total), fast(total);
  threshold_rows_select(x.data(), rows, m, thr.data(), offsets.data(), idx.data());
  cpu_backend().threshold_rows_select(x.data(), rows, m, thr.data(), offsets.data(), fast.data());
  EXPECT_EQ(idx, fast);
  for (std::size_t i = 0; i < rows; ++i) {
    std::vector<std::uint32_t> want;
    for (std::size_t j = 0; j < m; ++j)
      if (std::fabs(x[i * m + j]) >= thr[i]) want.push_back(static_cast<std::uint32_t>(i * m + j));
    if (want.empty()) want.push_back(static_cast<std::uint32_t>(i * m + brute_row(x.data() + i * m, m, 1)[0]) - 0u);
    if (i == 3) {  // the fallback: the row's largest entry
      const auto best = std::max_element(x.begin() + i * m, x.begin() + (i + 1) * m,
                                         [](float a, float b) { return std::fabs(a) < std::fabs(b); });
      ASSERT_EQ(want.size(), 1u);
      EXPECT_EQ(want[0], static_cast<std::uint32_t>(best - x.begin()));
    }
    ASSERT_EQ(counts[i], want.size()) << "row " << i;
    EXPECT_TRUE(std::equal(want.begin(), want.end(), idx.begin() + offsets[i])) << "row " << i;
  }
}

TEST(AdTopK, AggregateIsTheMeanOfEveryWorkersPerRowTopKAndEveryRowContributes) {
  const std::size_t W = 3, n = 24, m = 200;
  const double ratio = 0.02;  // k_row = 4
  BucketLayout layout{{{std::int64_t(n), std::int64_t(m)}}, {}};
  // Rows with wildly different scales: a global top-k would never touch the small ones.
  auto g = draws(W, n * m, 3, Tail::kNormal);
  for (auto& w : g)
    for (std::size_t i = 0; i < n * m; ++i) w[i] *= std::pow(10.0f, -static_cast<float>(i / m) / 4.0f);
  Compressor c(static_cast<int>(W), cfg(ratio));
  const auto r = run_step(c, layout, g);
  std::vector<float> want(n * m, 0.0f);
  for (std::size_t w = 0; w < W; ++w)
    for (std::size_t i = 0; i < n; ++i)
      for (auto j : brute_row(g[w].data() + i * m, m, 4)) want[i * m + j] += g[w][i * m + j];
  for (auto& v : want) v /= static_cast<float>(W);
  for (std::size_t i = 0; i < n * m; ++i) ASSERT_EQ(bits(r.agg[i]), bits(want[i])) << i;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t nz = 0;
    for (std::size_t j = 0; j < m; ++j) nz += r.agg[i * m + j] != 0.0f;
    EXPECT_GE(nz, 4u) << "row " << i << " contributes";
  }
  EXPECT_EQ(r.report.k, n * 4);
  EXPECT_EQ(r.report.k_unit, "elements");
  EXPECT_TRUE(r.report.k_by_worker.empty());
}

TEST(AdTopK, OneDimensionalTensorsAreSentWholeAndThePlanIsOneAllgatherPairPerMatrix) {
  const std::size_t W = 4;
  BucketLayout layout{{{64}, {8, 32}, {6, 2, 3, 5}}, {}};
  const double ratio = 0.1;  // 32 cols -> k_row 3; (6, 30) -> k_row 3
  auto g = draws(W, layout.numel(), 9, Tail::kLaplace);
  Compressor c(static_cast<int>(W), cfg(ratio));
  const auto r = run_step(c, layout, g);
  for (std::size_t i = 0; i < 64; ++i) {
    float s = 0.0f;
    for (std::size_t w = 0; w < W; ++w) s += g[w][i];
    ASSERT_EQ(bits(r.agg[i]), bits(s / 4.0f)) << "1-D tensor averaged whole, element " << i;
  }
  const auto ops = collectives(r.report);
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(ops[0].op, "allgather");
  EXPECT_EQ(ops[0].bytes_per_rank, 64u * 4);  // values only
  EXPECT_EQ(ops[0].dtype, DType::kFloat32);
  EXPECT_EQ(ops[1].bytes_per_rank, 8u * 3 * 4);  // values of 8 rows x 3
  EXPECT_EQ(ops[2].bytes_per_rank, 8u * 3 * 4);  // their row-local int32 columns
  EXPECT_EQ(ops[2].dtype, DType::kInt32);
  EXPECT_EQ(ops[3].bytes_per_rank, 6u * 3 * 4);
  EXPECT_EQ(ops[4].bytes_per_rank, 6u * 3 * 4);
  for (const auto& op : ops) EXPECT_FALSE(op.blocking);
  EXPECT_EQ(r.report.values_per_rank, 64u + 24u + 18u);
  // Wire types: fp16 values, int64 indices.
  Compressor h(static_cast<int>(W), cfg(ratio, {{"value_dtype", "fp16"}, {"index_dtype", "int64"}}));
  const auto rh = run_step(h, layout, g);
  const auto oh = collectives(rh.report);
  EXPECT_EQ(oh[0].bytes_per_rank, 64u * 2);
  EXPECT_EQ(oh[1].bytes_per_rank, 24u * 2);
  EXPECT_EQ(oh[2].bytes_per_rank, 24u * 8);
  EXPECT_EQ(oh[2].dtype, DType::kInt64);
}

TEST(AdTopK, InterleavingAlternatesPerRowAndGlobalTopK) {
  const std::size_t W = 2, n = 10, m = 100;
  BucketLayout layout{{{std::int64_t(n), std::int64_t(m)}}, {}};
  Compressor c(static_cast<int>(W), cfg(0.05, {{"interleave", true}}));
  for (int call = 0; call < 4; ++call) {
    auto g = draws(W, n * m, 20 + call, Tail::kNormal);
    for (auto& w : g)
      for (std::size_t j = 0; j < m; ++j) w[j] *= 1000.0f;  // row 0 dominates
    const auto r = run_step(c, layout, g);
    std::size_t outside_row0 = 0;
    for (std::size_t i = m; i < n * m; ++i) outside_row0 += r.agg[i] != 0.0f;
    const auto ops = collectives(r.report);
    ASSERT_EQ(ops.size(), 2u);
    EXPECT_EQ(r.report.k, 50u);  // 10 rows x 5, and global k = floor(0.05 * 1000) = 50
    if (call % 2 == 0) {
      EXPECT_GT(outside_row0, 0u) << "per-row call " << call;
    } else {
      EXPECT_EQ(outside_row0, 0u) << "global call " << call;
      std::vector<std::uint32_t> top(50);
      for (std::size_t w = 0; w < W; ++w) {
        topk_magnitude(g[w].data(), n * m, 50, top.data());
        for (auto i : top) EXPECT_NE(r.agg[i], 0.0f);
      }
    }
  }
}

// Runs `calls` compressed calls of fresh draws; returns each call's k_by_worker.
std::vector<std::vector<std::size_t>> reuse_run(Tail tail, std::size_t W, std::size_t n, std::size_t m, double ratio,
                                                int calls, float decay, bool fgbuff = false) {
  BucketLayout layout{{{std::int64_t(n), std::int64_t(m)}}, {}};
  nlohmann::json o = {{"threshold_reuse", true}};
  if (fgbuff) o.update({{"fgbuff", true}, {"fgbuff_elements", 1000}});
  Compressor c(static_cast<int>(W), cfg(ratio, o), cpu_backend());
  std::vector<std::vector<std::size_t>> ks;
  float scale = 1.0f;
  for (int call = 0; call < calls; ++call, scale *= decay) {
    const auto g = draws(W, n * m, 100 + static_cast<std::uint64_t>(call), tail, scale);
    const auto r = run_step(c, layout, g);
    EXPECT_EQ(r.report.k_by_worker.size(), W);
    ks.push_back(r.report.k_by_worker);
    // The plan sends exactly those counts: all-gather when they agree, else all-gather-v.
    const auto ops = collectives(r.report);
    for (const auto& op : ops) {
      if (op.op == "allgatherv") {
        EXPECT_EQ(op.bytes_by_rank.size(), W);
        if (!fgbuff && op.bytes_by_rank.size() == W) {
          for (std::size_t w = 0; w < W; ++w) EXPECT_EQ(op.bytes_by_rank[w], 4 * r.report.k_by_worker[w]);
        }
      } else {
        EXPECT_EQ(op.op, "allgather");
      }
    }
  }
  return ks;
}

TEST(AdTopK, ThresholdReuseKeepsAchievedKWithinTwentyPercentOnNormalAndHeavyTailedInputs) {
  // Stationary inputs: a stored per-row threshold is an order statistic of the previous draw, so
  // the next draw's count per row is distribution-free with mean ~ k_row and relative spread
  // ~ sqrt(2 / k_row); over 128 rows the bucket's k stays within 20% of n k_row (5 sigma).
  const std::size_t W = 3, n = 128, m = 256;
  const double ratio = 0.04;  // k_row = 10
  const std::size_t nominal = n * 10;
  for (Tail tail : {Tail::kNormal, Tail::kStudentT2, Tail::kLogNormal, Tail::kLaplace}) {
    const auto ks = reuse_run(tail, W, n, m, ratio, 35, 1.0f);
    for (std::size_t call = 0; call < ks.size(); ++call)
      for (std::size_t w = 0; w < W; ++w) {
        if (call < 15) { EXPECT_EQ(ks[call][w], nominal) << "exact warm call " << call; }
        EXPECT_GE(ks[call][w], 0.8 * nominal) << "tail " << int(tail) << " call " << call << " worker " << w;
        EXPECT_LE(ks[call][w], 1.2 * nominal) << "tail " << int(tail) << " call " << call << " worker " << w;
      }
  }
}

// The calls at which every worker's k is exactly nominal (the exact recomputations).
std::vector<std::size_t> exact_calls(const std::vector<std::vector<std::size_t>>& ks, std::size_t nominal) {
  std::vector<std::size_t> e;
  for (std::size_t c = 0; c < ks.size(); ++c)
    if (std::all_of(ks[c].begin(), ks[c].end(), [&](std::size_t k) { return k == nominal; })) e.push_back(c);
  return e;
}

TEST(AdTopK, ThresholdReuseTauGrowsWhenThresholdsAreStableAndStaysAtFiveWhenTheyDrift) {
  const std::size_t W = 3, n = 128, m = 256, nominal = n * 10;
  std::vector<std::size_t> want_stable, want_drift;
  for (std::size_t c = 0; c < 15; ++c) want_stable.push_back(c), want_drift.push_back(c);
  for (std::size_t c : {19u, 25u, 32u, 40u}) want_stable.push_back(c);  // tau 5, 6, 7, 8
  for (std::size_t c : {19u, 24u, 29u, 34u, 39u, 44u}) want_drift.push_back(c);
  EXPECT_EQ(exact_calls(reuse_run(Tail::kNormal, W, n, m, 0.04, 45, 1.0f), nominal), want_stable);
  // Halving the scale every call moves the mean threshold far beyond eps = thr / 10: tau stays
  // at its floor, and in between the stale (too high) thresholds keep only each row's maximum.
  const auto drift = reuse_run(Tail::kNormal, W, n, m, 0.04, 45, 0.8f);
  EXPECT_EQ(exact_calls(drift, nominal), want_drift);
  for (std::size_t c = 16; c < 19; ++c)
    for (auto k : drift[c]) EXPECT_GE(k, n) << "every row still contributes at call " << c;
}

TEST(AdTopK, FgbuffMergesTheCollectivesIntoBuffersOfEqualCountWithTheSameAggregate) {
  const std::size_t W = 3;
  BucketLayout layout{{{40, 50}, {30}, {20, 100}, {16}, {10, 10, 3, 3}}, {}};
  const double ratio = 0.1;  // (40,50)->5/row: 200; (20,100)->10/row: 200; (10,90)->9/row: 90
  const auto g = draws(W, layout.numel(), 77, Tail::kStudentT2);
  Compressor plain(static_cast<int>(W), cfg(ratio));
  Compressor buffered(static_cast<int>(W), cfg(ratio, {{"fgbuff", true}, {"fgbuff_elements", 128}}));
  const auto a = run_step(plain, layout, g), b = run_step(buffered, layout, g);
  for (std::size_t i = 0; i < layout.numel(); ++i) ASSERT_EQ(bits(a.agg[i]), bits(b.agg[i])) << i;
  EXPECT_EQ(collectives(a.report).size(), 2u * 3 + 2);  // per tensor: 3 matrices x 2 + two 1-D
  // Buffered: 490 sparse entries -> 128, 128, 128, 106 (values + indices each); 46 dense -> one.
  const auto ops = collectives(b.report);
  ASSERT_EQ(ops.size(), 4u * 2 + 1);
  const std::size_t sizes[] = {128, 128, 128, 106};
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(ops[2 * j].op, "allgather");
    EXPECT_EQ(ops[2 * j].bytes_per_rank, 4 * sizes[j]);
    EXPECT_EQ(ops[2 * j + 1].dtype, DType::kInt32);
    EXPECT_EQ(ops[2 * j + 1].bytes_per_rank, 4 * sizes[j]);
  }
  EXPECT_EQ(ops[8].bytes_per_rank, 46u * 4);
  // With threshold reuse the counts differ per worker: buffers every worker fills stay equal-size
  // all-gathers, the others are all-gather-v with each worker's real count (0 allowed).
  BucketLayout one{{{64, 256}}, {}};
  const std::size_t B = 100;
  Compressor reuse(static_cast<int>(W),
                   cfg(0.02, {{"threshold_reuse", true}, {"fgbuff", true}, {"fgbuff_elements", B}}));
  std::size_t varied = 0;
  for (int call = 0; call < 25; ++call) {
    const auto r = run_step(reuse, one, draws(W, 64 * 256, 500 + call, Tail::kLogNormal));
    const auto& k = r.report.k_by_worker;
    ASSERT_EQ(k.size(), W);
    auto ops = collectives(r.report);
    // After the 15 exact warm calls the counts depend on the data: one all-gather of each rank's
    // int32 count (one compressed tensor) comes first.
    if (call >= 15) {
      ASSERT_FALSE(ops.empty());
      EXPECT_EQ(ops[0].op, "allgather");
      EXPECT_EQ(ops[0].dtype, DType::kInt32);
      EXPECT_EQ(ops[0].bytes_per_rank, 4u);
      ops.erase(ops.begin());
    }
    const std::size_t longest = *std::max_element(k.begin(), k.end());
    ASSERT_EQ(ops.size(), 2 * ((longest + B - 1) / B)) << "call " << call;
    for (std::size_t j = 0; j < ops.size() / 2; ++j)
      for (std::size_t part = 0; part < 2; ++part) {
        const PlanOp& op = ops[2 * j + part];
        std::vector<std::size_t> want(W);
        for (std::size_t w = 0; w < W; ++w) want[w] = 4 * (k[w] > j * B ? std::min(B, k[w] - j * B) : 0);
        if (std::all_of(want.begin(), want.end(), [&](std::size_t b) { return b == want[0]; })) {
          EXPECT_EQ(op.op, "allgather");
          EXPECT_EQ(op.bytes_per_rank, want[0]);
        } else {
          EXPECT_EQ(op.op, "allgatherv");
          EXPECT_EQ(op.bytes_by_rank, want);
          ++varied;
        }
      }
  }
  EXPECT_GT(varied, 0u);
}

TEST(AdTopK, Ef14ConservesEveryWorkersInputBitForBit) {
  for (nlohmann::json o : {nlohmann::json::object(), nlohmann::json{{"interleave", true}},
                           nlohmann::json{{"threshold_reuse", true}}, nlohmann::json{{"fgbuff", true}}}) {
    o["ef"] = "ef14";
    const std::size_t W = 3;
    BucketLayout layout{{{12}, {20, 30}}, {}};
    Compressor c(static_cast<int>(W), cfg(0.1, o));
    std::vector<std::vector<float>> e_old(W, std::vector<float>(layout.numel(), 0.0f));
    for (int step = 0; step < 20; ++step) {
      const auto g = draws(W, layout.numel(), 300 + step, Tail::kNormal);
      run_step(c, layout, g);
      for (std::size_t w = 0; w < W; ++w) {
        const auto& e = c.error(0, static_cast<int>(w));
        for (std::size_t i = 0; i < layout.numel(); ++i) {
          const float u = g[w][i] + e_old[w][i], sent = u - e[i];
          ASSERT_TRUE(sent == 0.0f || bits(sent) == bits(u)) << o.dump() << " step " << step;
          ASSERT_EQ(bits(sent + e[i]), bits(u));
          if (i < 12) { ASSERT_EQ(e[i], 0.0f) << "1-D tensors are sent whole"; }
        }
        e_old[w] = e;
      }
    }
  }
}

TEST(AdTopK, DeterministicAndTheFastBackendGivesTheReferenceBits) {
  for (nlohmann::json o : {nlohmann::json::object(), nlohmann::json{{"interleave", true}},
                           nlohmann::json{{"threshold_reuse", true}, {"fgbuff", true}}}) {
    BucketLayout layout{{{7}, {33, 40}, {4, 3, 5, 5}}, {}};
    Compressor a(3, cfg(0.05, o)), b(3, cfg(0.05, o)), fast(3, cfg(0.05, o), cpu_backend());
    for (int step = 0; step < 20; ++step) {
      const auto g = draws(3, layout.numel(), 900 + step, Tail::kLogNormal);
      const auto ra = run_step(a, layout, g), rb = run_step(b, layout, g), rf = run_step(fast, layout, g);
      for (std::size_t i = 0; i < layout.numel(); ++i) {
        ASSERT_EQ(bits(ra.agg[i]), bits(rb.agg[i]));
        ASSERT_EQ(bits(ra.agg[i]), bits(rf.agg[i]));
      }
      EXPECT_EQ(ra.report.k_by_worker, rf.report.k_by_worker);
      EXPECT_EQ(ra.report.to_json(layout)["plan"], rb.report.to_json(layout)["plan"]);
    }
  }
}

TEST(AdTopK, CudaBackendGivesTheReferenceIndicesAndAggregate) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  Backend& gpu = cuda_backend();
  for (auto d : testing::kAllDists) {
    const std::size_t rows = 19, m = 3000;
    const auto x = testing::make_input(d, rows * m, 21);
    for (std::size_t k : {1u, 7u, 300u, 3000u}) {
      std::vector<std::uint32_t> ref(rows * k), dev(rows * k);
      topk_per_row(x.data(), rows, m, k, ref.data());
      gpu.topk_per_row(x.data(), rows, m, k, dev.data());
      EXPECT_EQ(ref, dev) << testing::dist_name(d) << " k " << k;
    }
    std::vector<float> thr(rows);
    for (std::size_t i = 0; i < rows; ++i) thr[i] = std::fabs(x[i * m + i]);
    std::vector<std::uint32_t> counts(rows), dev_counts(rows), offsets(rows);
    threshold_rows_count(x.data(), rows, m, thr.data(), counts.data());
    gpu.threshold_rows_count(x.data(), rows, m, thr.data(), dev_counts.data());
    EXPECT_EQ(counts, dev_counts) << testing::dist_name(d);
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < rows; ++i) offsets[i] = std::exchange(total, total + counts[i]);
    std::vector<std::uint32_t> idx(total), dev_idx(total);
    threshold_rows_select(x.data(), rows, m, thr.data(), offsets.data(), idx.data());
    gpu.threshold_rows_select(x.data(), rows, m, thr.data(), offsets.data(), dev_idx.data());
    EXPECT_EQ(idx, dev_idx) << testing::dist_name(d);
  }
  BucketLayout layout{{{9}, {40, 64}}, {}};
  Compressor ref(3, cfg(0.05, {{"threshold_reuse", true}})), dev(3, cfg(0.05, {{"threshold_reuse", true}}), gpu);
  for (int step = 0; step < 20; ++step) {
    const auto g = draws(3, layout.numel(), 40 + step, Tail::kLaplace);
    const auto a = run_step(ref, layout, g), b = run_step(dev, layout, g);
    for (std::size_t i = 0; i < layout.numel(); ++i) ASSERT_EQ(bits(a.agg[i]), bits(b.agg[i]));
  }
}

TEST(AdTopK, ABucketMayNotChangeItsTensorShapes) {
  Compressor c(2, cfg(0.1, {{"threshold_reuse", true}}));
  const auto g = draws(2, 1200, 1, Tail::kNormal);
  run_step(c, BucketLayout{{{40, 30}}, {}}, g);
  EXPECT_THROW(run_step(c, BucketLayout{{{30, 40}}, {}}, g), std::invalid_argument);
}

TEST(AdTopK, BadOptionsAreRejectedByName) {
  auto message = [](const nlohmann::json& o) {
    try {
      Compressor(2, cfg(0.1, o));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"interleave", "yes"}}).find("interleave"), std::string::npos);
  EXPECT_NE(message({{"fgbuff_elements", 0}}).find("fgbuff_elements"), std::string::npos);
  EXPECT_NE(message({{"threshold_reuse", 1}}).find("threshold_reuse"), std::string::npos);
  EXPECT_NE(message({{"interleave", true}, {"threshold_reuse", true}}).find("threshold_reuse"), std::string::npos);
  EXPECT_NE(message({{"rank", 4}}).find("rank"), std::string::npos);
  EXPECT_NE(message({{"index_dtype", "int16"}}).find("index_dtype"), std::string::npos);
}

}  // namespace
}  // namespace arcsim::kernels
