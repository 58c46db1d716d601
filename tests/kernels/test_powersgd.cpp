// PowerSGD (kernels/sparsifier_powersgd.cpp) and its primitives: the products share the sketch's
// summation order (bit for bit), Gram-Schmidt gives orthonormal columns, an exactly rank-r mean is
// reconstructed to float rounding, the warm start improves a full-rank approximation call after
// call, the plan's bytes are 4 r (n + m) per matrix, small and 1-D tensors are all-reduced densely,
// EF14 conserves the input to one rounding, determinism, backends agree, bad options are rejected.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/compressor.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/primitives.hpp"
#include "tests/kernels/compress_fixture.hpp"

namespace arcsim::kernels {
namespace {
using testing::run_step;

std::vector<float> normal(std::size_t n, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> nd;
  std::vector<float> x(n);
  for (auto& v : x) v = scale * nd(g);
  return x;
}

std::uint32_t bits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

CompressorConfig cfg(nlohmann::json more = nlohmann::json::object()) {
  if (!more.contains("ratio")) more["ratio"] = 1.0;
  return build_config("powersgd", more);
}

std::vector<PlanOp> collectives(const StepReport& r) {
  std::vector<PlanOp> c;
  for (const auto& op : r.ops)
    if (op.kind == PlanOp::Kind::kCollective) c.push_back(op);
  return c;
}

TEST(PowerSgd, MatmulRightWithTheSketchMatrixIsTheSketchBitForBit) {
  const std::size_t n = 70, m = 333;
  const auto G = normal(n * m, 1);
  for (int r : {1, 3, 4, 8}) {
    std::vector<float> V(m * r), P(n * r), Pm(n * r), Pf(n * r);
    sketch_matrix(m, r, 7, 3, 9, V.data());
    sketch(G.data(), n, m, r, 7, 3, 9, P.data());
    matmul_right(G.data(), n, m, V.data(), r, Pm.data());
    cpu_backend().matmul_right(G.data(), n, m, V.data(), r, Pf.data());
    for (std::size_t i = 0; i < n * r; ++i) {
      ASSERT_EQ(bits(P[i]), bits(Pm[i])) << "r " << r;
      ASSERT_EQ(bits(P[i]), bits(Pf[i])) << "r " << r;
    }
  }
}

TEST(PowerSgd, ProductsMatchADoublePrecisionProductAndTheFastBackendBitForBit) {
  const std::size_t n = 90, m = 61, c = 5;
  const auto A = normal(n * m, 2), B = normal(n * c, 3), Bk = normal(m * c, 4);
  std::vector<float> Q(m * c), Qf(m * c), P(n * c), Pf(n * c);
  matmul_left_t(A.data(), n, m, B.data(), c, Q.data());
  cpu_backend().matmul_left_t(A.data(), n, m, B.data(), c, Qf.data());
  matmul_right(A.data(), n, m, Bk.data(), c, P.data());
  cpu_backend().matmul_right(A.data(), n, m, Bk.data(), c, Pf.data());
  for (std::size_t j = 0; j < m; ++j)
    for (std::size_t q = 0; q < c; ++q) {
      double s = 0, mag = 0;
      for (std::size_t i = 0; i < n; ++i)
        s += double(A[i * m + j]) * B[i * c + q], mag += std::fabs(double(A[i * m + j]) * B[i * c + q]);
      ASSERT_NEAR(Q[j * c + q], s, 1e-6 * mag);
      ASSERT_EQ(bits(Q[j * c + q]), bits(Qf[j * c + q]));
    }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t q = 0; q < c; ++q) {
      double s = 0, mag = 0;
      for (std::size_t j = 0; j < m; ++j)
        s += double(A[i * m + j]) * Bk[j * c + q], mag += std::fabs(double(A[i * m + j]) * Bk[j * c + q]);
      ASSERT_NEAR(P[i * c + q], s, 1e-6 * mag);
      ASSERT_EQ(bits(P[i * c + q]), bits(Pf[i * c + q]));
    }
}

TEST(PowerSgd, OrthogonalizeGivesOrthonormalColumnsAndKeepsAZeroColumnZero) {
  for (std::size_t n : {5u, 300u, 2000u}) {
    const std::size_t c = 4;
    auto P = normal(n * c, 10 + n);
    orthogonalize(P.data(), n, c);
    for (std::size_t a = 0; a < c; ++a)
      for (std::size_t b = 0; b < c; ++b) {
        double d = 0;
        for (std::size_t i = 0; i < n; ++i) d += double(P[i * c + a]) * P[i * c + b];
        EXPECT_NEAR(d, a == b ? 1.0 : 0.0, 1e-5) << "n " << n << " columns " << a << ", " << b;
      }
  }
  std::vector<float> Z(30 * 2, 0.0f);
  for (std::size_t i = 0; i < 30; ++i) Z[i * 2 + 1] = 1.0f;
  orthogonalize(Z.data(), 30, 2);
  for (std::size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(Z[i * 2], 0.0f);
    EXPECT_NEAR(Z[i * 2 + 1], 1.0 / std::sqrt(30.0), 1e-6);
  }
}

TEST(PowerSgd, ReconstructsAnExactlyRankRMeanToFloatRounding) {
  // Worker w holds A_w B^T (rank 4, shared B): the mean (mean_w A_w) B^T has rank 4.
  const std::size_t W = 3, n = 64, m = 48, r = 4;
  const auto B = normal(m * r, 5);
  BucketLayout layout{{{std::int64_t(n), std::int64_t(m)}}, {}};
  Compressor c(static_cast<int>(W), cfg({{"rank", 4}}));
  for (int call = 0; call < 4; ++call) {
    std::vector<std::vector<float>> g(W, std::vector<float>(n * m));
    for (std::size_t w = 0; w < W; ++w) {
      const auto A = normal(n * r, 100 + 10 * call + w);
      matmul_right(
          A.data(), n, r,
          [&] {
            std::vector<float> bt(r * m);
            for (std::size_t j = 0; j < m; ++j)
              for (std::size_t q = 0; q < r; ++q) bt[q * m + j] = B[j * r + q];
            return bt;
          }()
              .data(),
          m, g[w].data());
    }
    const auto res = run_step(c, layout, g);
    EXPECT_LT(res.report.relative_error, 1e-10) << "call " << call;  // squared relative error
    EXPECT_EQ(res.report.k, 4u);
    EXPECT_EQ(res.report.k_unit, "rank");
  }
}

TEST(PowerSgd, WarmStartedQImprovesAFixedFullRankMatrixCallAfterCall) {
  // A fixed matrix with a decaying spectrum: each call is one more subspace iteration from the
  // previous Q, so the rank-2 approximation error falls towards the best rank-2 error.
  const std::size_t n = 80, m = 60;
  std::vector<float> M(n * m, 0.0f);
  for (int s = 0; s < 10; ++s) {
    const auto u = normal(n, 40 + s), v = normal(m, 60 + s);
    const float sigma = std::pow(0.6f, static_cast<float>(s));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < m; ++j) M[i * m + j] += sigma * u[i] * v[j];
  }
  BucketLayout layout{{{std::int64_t(n), std::int64_t(m)}}, {}};
  Compressor c(2, cfg({{"rank", 2}}));
  std::vector<double> err;
  for (int call = 0; call < 8; ++call) err.push_back(run_step(c, layout, {M, M}).report.relative_error);
  EXPECT_LT(err.back(), 0.7 * err.front());
  for (std::size_t i = 1; i < err.size(); ++i) EXPECT_LE(err[i], err[i - 1] * (1 + 1e-4)) << "call " << i;
}

TEST(PowerSgd, PlanIsOneDenseThenTwoFactorAllreducesWithBytesFourRTimesNPlusM) {
  const std::size_t W = 4;
  // (64, 48): compressed; (4, 4): 16 <= 2 r (4 + 4), dense; (10): 1-D, dense; (8, 3, 5, 5): 8 x 75 compressed.
  BucketLayout layout{{{64, 48}, {4, 4}, {10}, {8, 3, 5, 5}}, {}};
  std::vector<std::vector<float>> g(W);
  for (std::size_t w = 0; w < W; ++w) g[w] = normal(layout.numel(), 70 + w);
  for (const char* vt : {"fp32", "bf16"}) {
    Compressor c(static_cast<int>(W), cfg({{"rank", 3}, {"value_dtype", vt}}));
    const auto res = run_step(c, layout, g);
    const std::size_t b = std::string(vt) == "fp32" ? 4 : 2;
    const auto ops = collectives(res.report);
    ASSERT_EQ(ops.size(), 3u);
    for (const auto& op : ops) EXPECT_EQ(op.op, "allreduce");
    EXPECT_EQ(ops[0].bytes_per_rank, b * (16 + 10));
    EXPECT_EQ(ops[1].bytes_per_rank, b * 3 * (64 + 8));   // P: r n per matrix
    EXPECT_EQ(ops[2].bytes_per_rank, b * 3 * (48 + 75));  // Q: r m per matrix
    EXPECT_EQ(res.report.values_per_rank, 26u + 3 * (64 + 48) + 3 * (8 + 75));
    // The dense tensors are averaged exactly (fp32) or to the wire's rounding.
    for (std::size_t i = 64 * 48; i < 64 * 48 + 26; ++i) {
      double mean = 0;
      for (std::size_t w = 0; w < W; ++w) mean += g[w][i];
      mean /= W;
      EXPECT_NEAR(res.agg[i], mean, b == 4 ? 1e-6 : 2e-2 * (std::fabs(mean) + 0.5)) << vt;
    }
  }
}

TEST(PowerSgd, Ef14MemoryIsInputMinusTheOwnMessageAndTheAggregateIsTheMeanMessage) {
  // EF14 (the paper's error memory): e_i = u_i - P Q_i^T, so the sent message is u_i - e_i and the
  // aggregate must be the mean of those messages; 1-D tensors are sent whole (e = 0 there).
  const std::size_t W = 3;
  BucketLayout layout{{{40, 30}, {7}}, {}};
  Compressor c(static_cast<int>(W), cfg({{"rank", 2}, {"ef", "ef14"}}));
  std::vector<std::vector<float>> e_old(W, std::vector<float>(layout.numel(), 0.0f));
  for (int step = 0; step < 6; ++step) {
    std::vector<std::vector<float>> g(W);
    for (std::size_t w = 0; w < W; ++w) g[w] = normal(layout.numel(), 500 + 10 * step + w);
    const auto res = run_step(c, layout, g);
    std::vector<double> mean_c(layout.numel(), 0.0);
    double e_energy = 0, u_energy = 0;
    for (std::size_t w = 0; w < W; ++w) {
      const auto& e = c.error(0, static_cast<int>(w));
      for (std::size_t i = 0; i < layout.numel(); ++i) {
        const float u = g[w][i] + e_old[w][i];
        if (i >= 1200) { EXPECT_EQ(e[i], 0.0f) << "1-D tensors are sent whole"; }
        mean_c[i] += (double(u) - double(e[i])) / W;
        e_energy += double(e[i]) * e[i];
        u_energy += double(u) * u;
      }
      e_old[w] = e;
    }
    EXPECT_GT(e_energy, 0.0);
    EXPECT_LT(e_energy, u_energy) << "a rank-2 message carries part of the input";
    for (std::size_t i = 0; i < layout.numel(); ++i)
      ASSERT_NEAR(res.agg[i], mean_c[i], 1e-5 * (1 + std::fabs(mean_c[i]))) << "step " << step << " element " << i;
  }
}

TEST(PowerSgd, DeterministicAndTheFastBackendGivesTheReferenceBits) {
  BucketLayout layout{{{33, 40}, {9}, {16, 4, 3, 3}}, {}};
  Compressor a(3, cfg({{"ef", "ef14"}})), b(3, cfg({{"ef", "ef14"}})), f(3, cfg({{"ef", "ef14"}}), cpu_backend());
  for (int step = 0; step < 5; ++step) {
    std::vector<std::vector<float>> g(3);
    for (std::size_t w = 0; w < 3; ++w) g[w] = normal(layout.numel(), 800 + 10 * step + w);
    const auto ra = run_step(a, layout, g), rb = run_step(b, layout, g), rf = run_step(f, layout, g);
    for (std::size_t i = 0; i < layout.numel(); ++i) {
      ASSERT_EQ(bits(ra.agg[i]), bits(rb.agg[i]));
      ASSERT_EQ(bits(ra.agg[i]), bits(rf.agg[i]));
    }
  }
  // Another seed: another first Q, another approximation.
  CompressorConfig seeded = cfg();
  seeded.seed = 2;
  Compressor s(3, seeded);
  std::vector<std::vector<float>> g(3);
  for (std::size_t w = 0; w < 3; ++w) g[w] = normal(layout.numel(), 7 + w);
  const auto r1 = run_step(s, layout, g);
  Compressor s1(3, cfg());
  const auto r0 = run_step(s1, layout, g);
  EXPECT_NE(r0.agg, r1.agg);
}

TEST(PowerSgd, WarmupCallsAreDenseThenCompressed) {
  BucketLayout layout{{{40, 30}}, {}};
  Compressor c(2, cfg({{"warmup", 2}}));
  std::vector<std::vector<float>> g = {normal(1200, 1), normal(1200, 2)};
  EXPECT_EQ(run_step(c, layout, g).report.phase, "warmup-dense");
  EXPECT_EQ(run_step(c, layout, g).report.phase, "warmup-dense");
  const auto r = run_step(c, layout, g);
  EXPECT_EQ(r.report.phase, "compressed");
  EXPECT_EQ(collectives(r.report).size(), 2u);
}

TEST(PowerSgd, CudaBackendGivesTheReferenceBits) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  Backend& gpu = cuda_backend();
  const std::size_t n = 700, m = 333, c = 4;
  const auto A = normal(n * m, 31), Bk = normal(m * c, 32), Bn = normal(n * c, 33);
  std::vector<float> P(n * c), Pd(n * c), Q(m * c), Qd(m * c);
  matmul_right(A.data(), n, m, Bk.data(), c, P.data());
  gpu.matmul_right(A.data(), n, m, Bk.data(), c, Pd.data());
  matmul_left_t(A.data(), n, m, Bn.data(), c, Q.data());
  gpu.matmul_left_t(A.data(), n, m, Bn.data(), c, Qd.data());
  for (std::size_t i = 0; i < n * c; ++i) ASSERT_EQ(bits(P[i]), bits(Pd[i]));
  for (std::size_t i = 0; i < m * c; ++i) ASSERT_EQ(bits(Q[i]), bits(Qd[i]));
  auto O = P, Od = P;
  orthogonalize(O.data(), n, c);
  gpu.orthogonalize(Od.data(), n, c);
  for (std::size_t i = 0; i < n * c; ++i) ASSERT_EQ(bits(O[i]), bits(Od[i]));
  BucketLayout layout{{{33, 40}, {9}}, {}};
  Compressor ref(3, cfg({{"ef", "ef14"}})), dev(3, cfg({{"ef", "ef14"}}), gpu);
  for (int step = 0; step < 4; ++step) {
    std::vector<std::vector<float>> g(3);
    for (std::size_t w = 0; w < 3; ++w) g[w] = normal(layout.numel(), 90 + 10 * step + w);
    const auto a = run_step(ref, layout, g), b = run_step(dev, layout, g);
    for (std::size_t i = 0; i < layout.numel(); ++i) ASSERT_EQ(bits(a.agg[i]), bits(b.agg[i]));
  }
}

TEST(PowerSgd, ABucketMayNotChangeItsTensorShapes) {
  Compressor c(2, cfg());
  std::vector<std::vector<float>> g = {normal(1200, 1), normal(1200, 2)};
  run_step(c, BucketLayout{{{40, 30}}, {}}, g);
  EXPECT_THROW(run_step(c, BucketLayout{{{30, 40}}, {}}, g), std::invalid_argument);
}

TEST(PowerSgd, BadOptionsAreRejectedByName) {
  auto message = [](const nlohmann::json& o) {
    try {
      Compressor(2, cfg(o));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"rank", 0}}).find("rank"), std::string::npos);
  EXPECT_NE(message({{"rank", 2.5}}).find("rank"), std::string::npos);
  EXPECT_NE(message({{"interleave", true}}).find("interleave"), std::string::npos);
  EXPECT_NE(message({{"index_dtype", "int64"}}).find("index_dtype"), std::string::npos);
  EXPECT_NE(message({{"value_dtype", "fp8"}}).find("value_dtype"), std::string::npos);
}

}  // namespace
}  // namespace arcsim::kernels
