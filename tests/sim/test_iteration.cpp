// The training-iteration model: bucket overlap follows end_k = max(ready_k, end_{k-1}) + T(bucket)
// exactly; blocking collectives stall the GPU stream; bad plans are refused before SimGrid starts.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "common/forked.hpp"
#include "sim/closed_form.hpp"
#include "sim/iteration.hpp"
#include "common/json_fields.hpp"

using namespace arcsim::sim;

namespace {

constexpr double kB = 12.5e9, kL = 5e-6;

// 12 layers of 3 ms backward, 1 ms forward each; buckets of 2 layers (reverse order).
ComputeProfile profile() {
  ComputeProfile c;
  c.forward_s = 0.012;
  c.optimizer_s = 0.002;
  for (int i = 0; i < 12; ++i)
    c.layers.push_back({"l" + std::to_string(i), {"l" + std::to_string(i) + ".w"}, 0.001, 0.003, std::nullopt});
  return c;
}

Plan plan(const std::vector<double>& bucket_bytes, bool blocking, double kernel_s = 0) {
  Plan p;
  p.world_size = 8;
  for (std::size_t b = 0; b < bucket_bytes.size(); ++b) {
    PlanBucket bk;
    bk.bucket = static_cast<int>(b);
    const int hi = 11 - 2 * static_cast<int>(b);
    bk.tensors = {"l" + std::to_string(hi) + ".w", "l" + std::to_string(hi - 1) + ".w"};
    if (kernel_s > 0) {
      PlanOp k;
      k.kind = OpKind::kernel;
      k.name = "encode";
      k.duration_s = kernel_s;
      bk.ops.push_back(k);
    }
    PlanOp op;
    op.kind = OpKind::collective;
    op.op = CollectiveOp::allreduce;
    op.bytes_per_rank = bucket_bytes[b];
    op.blocking = blocking;
    bk.ops.push_back(op);
    p.buckets.push_back(bk);
  }
  return p;
}

std::vector<double> simulate(const Plan& p, int nodes, IterationOptions o = {}, double fixed_s = 0) {
  return arcsim::testing::forked([=] {
    NetworkConfig net{"star", nodes, kB, kL, "ideal", "ring"};
    ComputeProfile c = profile();
    c.fixed_s = fixed_s;
    const auto b = simulate_iteration(net, p, c, o);
    return std::vector<double>{b.total_s, b.compute_s, b.compression_s, b.exposed_comm_s, b.comm_s,
                               b.bytes_per_node};
  });
}

}  // namespace

TEST(Iteration, BucketOverlapRecurrenceIsExact) {
  const std::vector<double> sizes = {1 << 20, 25 << 20, 25 << 20, 4 << 20, 60 << 20, 25 << 20};
  for (int n : {8, 64}) {
    const auto v = simulate(plan(sizes, false), n);
    const auto c = profile();
    double end = 0, comm = 0;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      const double ready = 0.006 * (k + 1);  // two 3 ms layers per bucket
      const double T = closed_form::ring_allreduce(kL, kB, n, sizes[k]);
      end = std::max(ready, end) + T;
      comm += T;
    }
    const double expected = c.forward_s + std::max(c.backward_s(), end) + c.optimizer_s;
    EXPECT_NEAR(v[0], expected, 1e-12 * expected) << "n=" << n;
    EXPECT_NEAR(v[4], comm, 1e-12) << "n=" << n;
    EXPECT_NEAR(v[1], 0.012 + 0.036 + 0.002, 1e-15);
    EXPECT_NEAR(v[3], v[0] - v[1], 1e-15);
    double bytes = 0;
    for (double s : sizes) bytes += 2.0 * (n - 1) / n * s;
    EXPECT_NEAR(v[5], bytes, 1e-6 * bytes);
  }
}

TEST(Iteration, BlockingCollectivesStallTheGpuStream) {
  const std::vector<double> sizes(6, 8 << 20);
  const double kernel = 0.0005;
  const auto v = simulate(plan(sizes, true, kernel), 16);
  // Blocking: every bucket's kernel and all-reduce sit on the GPU stream's critical path.
  const double T = closed_form::ring_allreduce(kL, kB, 16, 8 << 20);
  const double expected = 0.012 + 0.036 + 6 * (kernel + T) + 0.002;
  EXPECT_NEAR(v[0], expected, 1e-12);
  EXPECT_NEAR(v[2], 6 * kernel, 1e-15);
  EXPECT_NEAR(v[3], 6 * T, 1e-12);
  // The same plan forced asynchronous overlaps and is faster; no-overlap is slower.
  IterationOptions async;
  async.blocking = false;
  EXPECT_LT(simulate(plan(sizes, true, kernel), 16, async)[0], expected - 1e-4);
  IterationOptions serial;
  serial.overlap = false;
  const auto s = simulate(plan(sizes, false), 16, serial);
  EXPECT_NEAR(s[0], 0.012 + 0.036 + 6 * T + 0.002, 1e-12);
}

TEST(Iteration, AFixedHostCostPrecedesTheForwardPassAndCountsAsCompute) {
  const std::vector<double> sizes = {1 << 20, 25 << 20, 4 << 20};
  const auto base = simulate(plan(sizes, false), 8), fixed = simulate(plan(sizes, false), 8, {}, 0.021);
  EXPECT_NEAR(fixed[0] - base[0], 0.021, 1e-12);  // the whole iteration shifts: nothing overlaps it
  EXPECT_NEAR(fixed[1] - base[1], 0.021, 1e-12);
  EXPECT_NEAR(fixed[3], base[3], 1e-12);
}

TEST(Iteration, UnknownTensorIsOneClearError) {
  auto p = plan({1 << 20}, false);
  p.buckets[0].tensors.push_back("nope.weight");
  try {
    simulate_iteration({"star", 8, kB, kL, "ideal", "ring"}, p, profile(), {});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nope.weight"), std::string::npos);
  }
}

TEST(Iteration, PlanParserRefusesBadPlans) {
  auto good = R"({"format":"arcsim-plan/1","world_size":2,"buckets":[{"bucket":0,"ops":[
      {"kind":"collective","op":"allreduce","bytes_per_rank":64}]}]})"_json;
  EXPECT_NO_THROW(parse_plan(good, "p.json"));
  auto bad = good;
  bad["buckets"][0]["bucket"] = 3;
  EXPECT_THROW(parse_plan(bad, "p.json"), arcsim::json::ConfigError);
  bad = good;
  bad["buckets"][0]["ops"][0]["op"] = "alltoall";
  EXPECT_THROW(parse_plan(bad, "p.json"), arcsim::json::ConfigError);
  bad = good;
  bad["buckets"][0]["ops"][0]["op"] = "allgatherv";
  EXPECT_THROW(parse_plan(bad, "p.json"), arcsim::json::ConfigError);  // needs bytes_by_rank
  bad = good;
  bad["buckets"][0]["ops"][0]["bytes_per_rank"] = -1;
  EXPECT_THROW(parse_plan(bad, "p.json"), arcsim::json::ConfigError);
  bad = good;
  bad["buckets"][0]["ops"][0]["colour"] = "red";
  EXPECT_THROW(parse_plan(bad, "p.json"), arcsim::json::ConfigError);
}

TEST(Iteration, AllgathervCyclesRecordedSizesOverNodes) {
  // Recorded with W = 3 workers, simulated on 7 nodes: rank i contributes by_rank[i % 3].
  Plan p;
  p.world_size = 3;
  PlanBucket b;
  b.bucket = 0;
  b.tensors = {"l11.w"};
  PlanOp op;
  op.kind = OpKind::collective;
  op.op = CollectiveOp::allgatherv;
  op.bytes_per_rank = 1000;
  op.bytes_by_rank = {1000, 2000, 3000};
  b.ops.push_back(op);
  p.buckets.push_back(b);
  const auto v = simulate(p, 7);
  // Ring all-gather-v: each rank forwards every block but its right neighbour's own: 6 blocks.
  double total = 0;
  for (int i = 0; i < 7; ++i) total += op.bytes_by_rank[i % 3];
  double sent = 0;
  for (int i = 0; i < 7; ++i) sent += total - op.bytes_by_rank[((i + 1) % 7) % 3];
  EXPECT_NEAR(v[5], sent / 7, 1e-9);
}

TEST(Iteration, Deterministic) {
  const std::vector<double> sizes = {3 << 20, 25 << 20, 7 << 20};
  const auto a = simulate(plan(sizes, false, 0.001), 16), b = simulate(plan(sizes, false, 0.001), 16);
  EXPECT_EQ(a, b);
}

TEST(Iteration, ReportsWhichAlgorithmAndProtocolRan) {
  // 1 MiB + 5 x 25 MiB on 32 DGX-like nodes, nccl profile: every call counted under what ran.
  const std::vector<double> sizes = {1 << 20, 25 << 20, 25 << 20, 25 << 20, 25 << 20, 25 << 20};
  const auto v = arcsim::testing::forked([&] {
    NetworkConfig net{"dgx-a100", 32, 0, -1, "nccl", "auto"};
    const auto b = simulate_iteration(net, plan(sizes, false), profile(), {});
    int calls = 0;
    std::stringstream ss(b.algorithms_used);
    for (std::string item; std::getline(ss, item, ';');) calls += std::stoi(item.substr(item.rfind(':') + 1));
    const bool named = b.algorithms_used.find("tree/") != std::string::npos ||
                       b.algorithms_used.find("ring/") != std::string::npos;
    return std::vector<double>{static_cast<double>(calls), named ? 1.0 : 0.0};
  });
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], 6);
  EXPECT_EQ(v[1], 1);
}
