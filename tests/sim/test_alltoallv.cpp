// The pairwise all-to-all-v under the `ideal` profile against its closed form (equal sizes:
// (p - 1)(alpha + m/B); unequal: the step recurrence of closed_form::pairwise_alltoallv), the
// bytes each rank sends, the matrix's extension to other rank counts, and the plan reader.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/forked.hpp"
#include "common/json_fields.hpp"
#include "sim/closed_form.hpp"
#include "sim/iteration.hpp"
#include "sim/collective.hpp"
#include "sim/plan.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;
using arcsim::testing::forked;

namespace {

constexpr double kB = 12.5e9, kL = 5e-6;

using Matrix = std::vector<std::vector<double>>;

// [simulated, closed form, max bytes sent by a rank] in a child process.
std::vector<double> run(const Matrix& m, const std::string& profile = "ideal") {
  return forked([=] {
    NetworkConfig net{"star", static_cast<int>(m.size()), kB, kL, profile, "auto"};
    const auto r = arcsim::sim::simulate_alltoallv(net, m);
    return std::vector<double>{r.simulated_s, r.closed_form_s ? *r.closed_form_s : NAN, r.bytes_per_rank_sent};
  });
}

Matrix uniform(int p, double bytes) {
  Matrix m(p, std::vector<double>(p, bytes));
  for (int i = 0; i < p; ++i) m[i][i] = 0;
  return m;
}

// Deterministic unequal sizes, including empty messages.
Matrix skewed(int p) {
  Matrix m(p, std::vector<double>(p, 0));
  for (int s = 0; s < p; ++s)
    for (int d = 0; d < p; ++d)
      if (s != d) m[s][d] = ((s * 7 + d * 13) % 5) * 65536.0 * (1 + s % 3);
  return m;
}

}  // namespace

TEST(Alltoallv, EqualSizesMatchTheClosedForm) {
  for (int p : {2, 8, 16, 64})
    for (double m : {0.0, 1024.0, 1048576.0}) {
      const auto v = run(uniform(p, m));
      const double want = (p - 1) * (kL + m / kB);  // kL: the end-to-end latency of a route
      ASSERT_TRUE(std::isfinite(v[1]));
      EXPECT_NEAR(v[0] / v[1], 1.0, 1e-9) << "p=" << p << " m=" << m;
      EXPECT_NEAR(v[1] / want, 1.0, 1e-9) << "p=" << p << " m=" << m;
      EXPECT_DOUBLE_EQ(v[2], (p - 1) * m);
    }
}

TEST(Alltoallv, UnequalSizesMatchTheStepRecurrence) {
  for (int p : {3, 8, 13, 32}) {
    const Matrix m = skewed(p);
    const auto v = run(m);
    EXPECT_NEAR(v[0] / v[1], 1.0, 1e-9) << "p=" << p;
    double most = 0;
    for (const auto& row : m) {
      double s = 0;
      for (double b : row) s += b;
      most = std::max(most, s);
    }
    EXPECT_DOUBLE_EQ(v[2], most);
    // Waiting on the slowest partner makes it at least the equal-size time of the mean message
    // and at most p - 1 steps of the largest.
    double biggest = 0;
    for (const auto& row : m)
      for (double b : row) biggest = std::max(biggest, b);
    EXPECT_LE(v[1], (p - 1) * (kL + biggest / kB) * (1 + 1e-12));
  }
}

TEST(Alltoallv, TheNcclProfileRunsItAsAPairwiseExchangeToo) {
  const auto ideal = run(uniform(8, 1 << 20)), nccl = run(uniform(8, 1 << 20), "nccl");
  EXPECT_GT(nccl[0], 0.0);
  EXPECT_GE(nccl[0], ideal[0]);  // software latency and wire overhead only add
  EXPECT_TRUE(std::isnan(nccl[1]));
}

TEST(Alltoallv, ARecordedMatrixExtendsToOtherRankCounts) {
  arcsim::sim::CollectiveCall c;
  c.op = CollectiveOp::alltoallv;
  c.matrix = {{5, 8}, {6, 7}};
  const auto same = arcsim::sim::alltoallv_matrix(c, 2);
  EXPECT_EQ(same, (Matrix{{0, 8}, {6, 0}}));  // exact at the recorded count; the diagonal stays local
  const auto four = arcsim::sim::alltoallv_matrix(c, 4);
  // rank r sends d: M[r % 2][d % 2] * 2 / 4, so each row's total (its data) is kept.
  EXPECT_EQ(four[0], (std::vector<double>{0, 4, 3, 4}));
  EXPECT_EQ(four[3], (std::vector<double>{3, 4, 3, 0}));
}

TEST(Alltoallv, ThePlanReaderWantsASquareWorldSizedMatrix) {
  auto plan = [](const nlohmann::json& op) {
    return nlohmann::json{{"format", "arcsim-plan/1"},
                          {"world_size", 2},
                          {"buckets", {{{"bucket", 0}, {"ops", {op}}}}}};
  };
  const nlohmann::json good = {{"kind", "collective"}, {"op", "alltoallv"}, {"bytes_per_rank", 8},
                               {"bytes_matrix", {{0, 8}, {6, 0}}}, {"dtype", "float32"}};
  const auto p = arcsim::sim::parse_plan(plan(good), "p.json");
  EXPECT_EQ(p.buckets[0].ops[0].op, CollectiveOp::alltoallv);
  EXPECT_EQ(p.buckets[0].ops[0].bytes_matrix[1][0], 6);
  auto refused = [&](nlohmann::json op, const std::string& what) {
    try {
      arcsim::sim::parse_plan(plan(op), "p.json");
      ADD_FAILURE() << op.dump();
    } catch (const arcsim::json::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("p.json"), std::string::npos) << e.what();
    }
  };
  auto missing = good;
  missing.erase("bytes_matrix");
  refused(missing, "bytes_matrix");
  auto ragged = good;
  ragged["bytes_matrix"] = {{0, 8}, {6}};
  refused(ragged, "bytes_matrix");
  auto big = good;
  big["bytes_matrix"] = {{0, 1, 2}, {0, 1, 2}, {0, 1, 2}};
  refused(big, "world_size");
  auto negative = good;
  negative["bytes_matrix"] = {{0, -8}, {6, 0}};
  refused(negative, "bytes_matrix");
  auto stray = good;
  stray["op"] = "allgather";
  refused(stray, "bytes_matrix");
  auto share = good;
  share["scaling"] = "share";
  EXPECT_EQ(arcsim::sim::parse_plan(plan(share), "p.json").buckets[0].ops[0].scaling, arcsim::sim::SizeScaling::share);
  auto odd = good;
  odd["scaling"] = "sometimes";
  refused(odd, "scaling");
  nlohmann::json reduce = {{"kind", "collective"}, {"op", "allreduce"}, {"bytes_per_rank", 8}, {"scaling", "share"}};
  refused(reduce, "scaling");
}

TEST(Alltoallv, ScalingPerPairAndShareExtendTheMatrixAsDocumented) {
  arcsim::sim::CollectiveCall c;
  c.op = CollectiveOp::alltoallv;
  c.matrix = {{5, 8}, {6, 7}};
  c.scaling = arcsim::sim::SizeScaling::per_pair;
  EXPECT_EQ(arcsim::sim::alltoallv_matrix(c, 4)[0], (std::vector<double>{0, 8, 5, 8}));
  c.scaling = arcsim::sim::SizeScaling::share;  // the whole matrix's total is kept
  c.matrix = {{16, 8}, {4, 12}};
  EXPECT_EQ(arcsim::sim::alltoallv_matrix(c, 4)[1], (std::vector<double>{1, 0, 1, 3}));
}

TEST(Alltoallv, AShareAllgathervKeepsItsTotalAtOtherRankCounts) {
  // One bucket: an allgatherv recorded by 2 workers (blocks 800 + 400 bytes). As per_rank blocks
  // each of 8 ranks contributes its cycled block; as shares the 8 blocks add up to 1200.
  auto sent = [](const char* scaling) {
    return forked([=] {
      using namespace arcsim::sim;
      Plan p;
      p.world_size = 2;
      PlanBucket b;
      b.tensors = {"l0.w"};
      PlanOp op;
      op.kind = OpKind::collective;
      op.op = CollectiveOp::allgatherv;
      op.bytes_per_rank = 800;
      op.bytes_by_rank = {800, 400};
      op.scaling = std::string(scaling) == "share" ? SizeScaling::share : SizeScaling::per_rank;
      b.ops.push_back(op);
      p.buckets.push_back(b);
      ComputeProfile c;
      c.forward_s = 0.001;
      c.layers.push_back({"l0", {"l0.w"}, 0.001, 0.001, std::nullopt});
      const auto r = simulate_iteration({"star", 8, kB, kL, "ideal", "auto"}, p, c, {});
      return std::vector<double>{r.bytes_per_node * 8};
    });
  };
  // Ring all-gather-v: every rank forwards all blocks but one: total sent = (p - 1) x total.
  EXPECT_DOUBLE_EQ(sent("per_rank")[0], 7 * (4 * 800.0 + 4 * 400.0));
  EXPECT_DOUBLE_EQ(sent("share")[0], 7 * (4 * 200.0 + 4 * 100.0));
}
