// The `ideal` profile reproduces the closed forms on a star:
// within 0.5 % (in practice to rounding) for p in {8, 16, 32, 64} and sizes 1 KiB .. 1 GiB.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/forked.hpp"
#include "sim/closed_form.hpp"
#include "sim/collective.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;
using arcsim::testing::forked;

namespace {

constexpr double kB = 12.5e9, kL = 5e-6;
const int kRanks[] = {8, 16, 32, 64};
const double kSizes[] = {1024.0, 65536.0, 1048576.0, 33554432.0, 1073741824.0};

// [simulated, closed form] of one collective in a child process.
std::vector<double> run(CollectiveOp op, const std::string& alg, int p, double bytes,
                        const std::string& topology = "star", double latency = kL) {
  return forked([=] {
    NetworkConfig net{topology, p, kB, latency, "ideal", alg};
    const auto r = arcsim::sim::simulate_collective(net, op, bytes);
    return std::vector<double>{r.simulated_s, r.closed_form_s ? *r.closed_form_s : NAN};
  });
}

void sweep(CollectiveOp op, const std::string& alg) {
  for (int p : kRanks)
    for (double s : kSizes) {
      const auto v = run(op, alg, p, s);
      ASSERT_EQ(v.size(), 2u) << "p=" << p << " S=" << s;
      ASSERT_TRUE(std::isfinite(v[1])) << "no closed form";
      EXPECT_NEAR(v[0] / v[1], 1.0, 0.005) << alg << " p=" << p << " S=" << s;
      // In fact exact up to floating-point rounding.
      EXPECT_NEAR(v[0] / v[1], 1.0, 1e-9) << alg << " p=" << p << " S=" << s;
    }
}

}  // namespace

TEST(IdealClosedForm, RingAllreduce) { sweep(CollectiveOp::allreduce, "ring"); }
TEST(IdealClosedForm, RingAllgather) { sweep(CollectiveOp::allgather, "ring"); }
TEST(IdealClosedForm, RabenseifnerPowerOfTwo) { sweep(CollectiveOp::allreduce, "rabenseifner"); }
TEST(IdealClosedForm, BruckAllgather) { sweep(CollectiveOp::allgather, "bruck"); }

TEST(IdealClosedForm, RabenseifnerNonPowerOfTwoFolds) {
  for (int p : {6, 12, 24, 48}) {
    const auto v = run(CollectiveOp::allreduce, "rabenseifner", p, 1 << 24);
    EXPECT_NEAR(v[0] / v[1], 1.0, 1e-9) << "p=" << p;
  }
}

TEST(IdealClosedForm, ReduceScatterAndBroadcasts) {
  for (int p : {8, 13, 64}) {
    auto v = run(CollectiveOp::reduce_scatter, "ring", p, 1 << 24);
    EXPECT_NEAR(v[0] / v[1], 1.0, 1e-6) << "reduce_scatter p=" << p;
    v = run(CollectiveOp::broadcast, "binomial", p, 1 << 20);
    EXPECT_NEAR(v[0] / v[1], 1.0, 1e-9) << "binomial p=" << p;
    v = run(CollectiveOp::broadcast, "ring", p, 1 << 26);
    EXPECT_NEAR(v[0] / v[1], 1.0, 1e-5) << "chain p=" << p;  // chunk sizes rounded to bytes
  }
}

TEST(IdealClosedForm, NonDivisibleSizesStayWithinRounding) {
  // 1e8 + 7 bytes over 48 ranks: blocks differ by a byte; the closed form uses exact S/p.
  const auto v = run(CollectiveOp::allreduce, "ring", 48, 1e8 + 7);
  EXPECT_NEAR(v[0] / v[1], 1.0, 1e-6);
}

TEST(IdealClosedForm, TreeIsPipelinedAndNearTwoNBeta) {
  // Double binary tree, 64 MiB on 64 ranks: no exact closed form. Each rank is interior in one tree
  // (sends n/2 up and n/2 to each of two children) and a leaf in the other (n/2 up): 2n leave its
  // uplink, so t >= 2n/B (NCCL: tree algBw = busBw / 2); pipelining keeps it close to that.
  const double S = 64.0 * 1048576;
  const auto v = run(CollectiveOp::allreduce, "tree", 64, S);
  EXPECT_TRUE(std::isnan(v[1]));
  EXPECT_GT(v[0], 2 * S / kB);
  EXPECT_LT(v[0], 2.5 * S / kB);
}

TEST(Hierarchical, AllreduceComposesIntraRailIntra) {
  // dgx-8gpu at 4 nodes: ring reduce-scatter over NVLink (1 us, 450 GB/s), ring all-reduce of 1/8
  // of the data on each rail (GPU -> NIC -> leaf -> NIC -> GPU: 2 us, one 25 GB/s NIC per rail, the
  // 200 GB/s node port shared by 8 rails), ring all-gather over NVLink.
  const double S = 256.0 * 1048576, intra = 3600e9 / 8, nic = 200e9 / 8;
  const auto v = arcsim::testing::forked([=] {
    NetworkConfig net{"dgx-8gpu", 4, 0, -1, "ideal", "ring"};
    const auto r = arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, S);
    return std::vector<double>{r.simulated_s, r.closed_form_s ? 1.0 : 0.0};
  });
  const double intra_rs = 7 * (1e-6 + S / 8 / intra);
  const double rail = 2 * 3 * (2e-6 + S / 8 / 4 / nic);
  EXPECT_NEAR(v[0], 2 * intra_rs + rail, 1e-9 * v[0]);
  EXPECT_EQ(v[1], 0.0);  // no closed form for a composition
}
