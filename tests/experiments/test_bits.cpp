// The bit counters: the authors' global-traffic rules per collective, their published Top-K vs
// dense ratios, EF21's dense start as their hooks count it, unknown ops refused, and the
// cumulative sum over a step schedule (warm-up, ramp, steady, fractional steps).
#include <gtest/gtest.h>

#include "kernels/compressor_options.hpp"

#include <cmath>
#include <stdexcept>

#include "experiments/bits.hpp"
#include "experiments/tta.hpp"

namespace ex = arcsim::experiments;
namespace sim = arcsim::sim;

namespace {

sim::PlanOp collective(sim::CollectiveOp op, double bytes, std::vector<double> by_rank = {}) {
  sim::PlanOp o;
  o.kind = sim::OpKind::collective;
  o.op = op;
  o.bytes_per_rank = bytes;
  o.bytes_by_rank = std::move(by_rank);
  return o;
}

sim::Plan plan_of(std::vector<sim::PlanOp> ops, double elements = 1000) {
  sim::Plan p;
  p.world_size = 2;
  sim::PlanBucket b;
  b.elements = elements;
  sim::PlanOp k;  // kernels send nothing
  k.name = "topk";
  k.bytes_moved = 1e9;
  b.ops.push_back(k);
  for (auto& o : ops) b.ops.push_back(o);
  p.buckets.push_back(b);
  return p;
}

}  // namespace

TEST(Bits, AuthorsRulePerCollective) {
  const int N = 4;
  EXPECT_DOUBLE_EQ(ex::authors_bits(ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allreduce, 4000)}), "p"), N),
                   8.0 * 2 * (N - 1) * 4000);
  EXPECT_DOUBLE_EQ(ex::authors_bits(ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allgather, 4000)}), "p"), N),
                   8.0 * N * (N - 1) * 4000);
  EXPECT_DOUBLE_EQ(
      ex::authors_bits(ex::plan_traffic(plan_of({collective(sim::CollectiveOp::reduce_scatter, 4000)}), "p"), N),
      8.0 * (N - 1) * 4000);
  EXPECT_DOUBLE_EQ(ex::authors_bits(ex::plan_traffic(plan_of({collective(sim::CollectiveOp::broadcast, 4000)}), "p"), N),
                   8.0 * (N - 1) * 4000);
  // All-gather-v: the recorded parts cycle over the ranks (100, 300, 100 at N = 3).
  const auto v = ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allgatherv, 200, {100, 300})}), "p");
  EXPECT_DOUBLE_EQ(ex::authors_bits(v, 3), 8.0 * 2 * (100 + 300 + 100));
  // Equal parts: the same as an all-gather.
  const auto eq = ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allgatherv, 50, {50, 50})}), "p");
  EXPECT_DOUBLE_EQ(ex::authors_bits(eq, 5), 8.0 * 5 * 4 * 50);
  // A sum over buckets and calls; one rank sends nothing to anyone.
  const auto two = ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allreduce, 10),
                                             collective(sim::CollectiveOp::allgather, 3)}), "p");
  EXPECT_DOUBLE_EQ(ex::authors_bits(two, 8), 8.0 * (2 * 7 * 10 + 8 * 7 * 3));
  EXPECT_DOUBLE_EQ(ex::authors_bits(two, 1), 0.0);
  EXPECT_DOUBLE_EQ(two.elements, 1000);
  EXPECT_THROW(ex::authors_bits(two, 0), std::invalid_argument);
}

TEST(Bits, VariableSizesExtendToNAsTheSimulatorDoes) {
  // All-to-all-v: every byte counts once; at N = W the matrix itself, beyond it sim::alltoallv_matrix.
  sim::PlanOp a2a = collective(sim::CollectiveOp::alltoallv, 0);
  a2a.bytes_matrix = {{0, 10}, {20, 0}};
  const auto t = ex::plan_traffic(plan_of({a2a}), "p");
  EXPECT_DOUBLE_EQ(ex::authors_bits(t, 2), 8.0 * 30);
  EXPECT_DOUBLE_EQ(ex::authors_bits(t, 4), 8.0 * (4 * 10 * 0.5 + 4 * 20 * 0.5));  // per_rank: rows keep totals
  a2a.scaling = sim::SizeScaling::per_pair;
  EXPECT_DOUBLE_EQ(ex::authors_bits(ex::plan_traffic(plan_of({a2a}), "p"), 4), 8.0 * (4 * 10 + 4 * 20));
  // All-gather-v parts that are shares of a fixed total: rescaled by W/N, as the simulator does.
  sim::PlanOp agv = collective(sim::CollectiveOp::allgatherv, 0, {100, 300});
  agv.scaling = sim::SizeScaling::share;
  EXPECT_DOUBLE_EQ(ex::authors_bits(ex::plan_traffic(plan_of({agv}), "p"), 4), 8.0 * 3 * (50 + 150 + 50 + 150));
  EXPECT_DOUBLE_EQ(ex::authors_bits(ex::plan_traffic(plan_of({agv}), "p"), 2), 8.0 * 1 * (100 + 300));
  sim::PlanOp empty = collective(sim::CollectiveOp::alltoallv, 0);
  EXPECT_THROW(ex::plan_traffic(plan_of({empty}), "p"), std::runtime_error);
}

TEST(Bits, TopkOverDenseAsTheAuthorsCount) {
  // Top-K at ratio 0.2 sends fp32 values and int32 indices by two all-gathers, dense one fp32
  // all-reduce: N(N-1) 0.4 D / (2(N-1) D) = 0.2 N. The authors' global MB per iteration for
  // LLaMA-130M: 2574.8 / 3218.5 at N = 4, 865141 / 67589 at N = 64.
  const double D = 1e6;
  const auto dense = ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allreduce, 4 * D)}, D), "d");
  const auto topk = ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allgather, 4 * 0.2 * D),
                                              collective(sim::CollectiveOp::allgather, 4 * 0.2 * D)}, D), "t");
  EXPECT_NEAR(ex::authors_bits(topk, 4) / ex::authors_bits(dense, 4), 2574.8 / 3218.5, 1e-4);
  EXPECT_NEAR(ex::authors_bits(topk, 64) / ex::authors_bits(dense, 64), 865141.0 / 67589.0, 1e-4);
}

TEST(Bits, UnknownCollectiveIsALoudError) {
  // An op added to the plan format after this counter: stop, naming where it is and what it is.
  const auto p = plan_of({collective(static_cast<sim::CollectiveOp>(99), 4000)});
  try {
    ex::plan_traffic(p, "plans/x.json");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("plans/x.json: buckets[0].ops[1]"), std::string::npos) << m;
    EXPECT_NE(m.find("has no rule in the bits counter"), std::string::npos) << m;
  }
  EXPECT_THROW(ex::plan_traffic(plan_of({collective(sim::CollectiveOp::allgatherv, 10)}), "p"), std::runtime_error);
}

TEST(Bits, Ef21DenseStartAsTheAuthorsHooksCountIt) {
  ex::CompressorConfig arc;
  arc.name = "arctopk";
  arc.ratio = 0.2;
  arc.ef = "ef21";
  arc.warmup = 10;
  auto o = ex::ef21_init_authors_bits(arc, 1000, 8);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->step, 11);
  EXPECT_DOUBLE_EQ(o->value, 32.0 * 1000);  // 32 D, not 2(N-1) 32 D
  ex::CompressorConfig topk = arc;
  topk.name = "topk";
  topk.warmup = 0;
  o = ex::ef21_init_authors_bits(topk, 1000, 8);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->step, 1);
  EXPECT_DOUBLE_EQ(o->value, 0.0);
  topk.ef = "ef21m";
  EXPECT_TRUE(ex::ef21_init_authors_bits(topk, 1000, 8));
  topk.options.ef21_init = "zero";  // the state starts at 0: the first call is compressed
  EXPECT_FALSE(ex::ef21_init_authors_bits(topk, 1000, 8));
  topk.options.ef21_init = "dense";
  topk.ef = "ef14";
  EXPECT_FALSE(ex::ef21_init_authors_bits(topk, 1000, 8));
  ex::CompressorConfig other = arc;
  other.name = "powersgd";  // no authors' hook: a dense all-reduce counts as one
  EXPECT_DOUBLE_EQ(ex::ef21_init_authors_bits(other, 1000, 8)->value, 2.0 * 7 * 32 * 1000);
}

TEST(Bits, CumulativeOverTheScheduleMatchesAStepByStepSum) {
  ex::CompressorConfig c;
  c.name = "topk";
  c.ratio = 0.2;
  c.warmup = 5;
  c.ramp = true;  // 105 ramp steps after the 5 dense ones
  c.options = arcsim::kernels::build_config("topk", {{"ratio", 0.2}, {"warmup", 5}, {"ramp", true}});
  const ex::StepSchedule s = ex::step_schedule(c, 3);
  ASSERT_EQ(s.shapes.size(), 5u);
  const std::vector<double> per_shape = {100, 50, 40, 30, 7};
  auto per_step = [&](std::int64_t step) {
    for (const auto& seg : s.segments)
      if (step >= seg.first && (seg.last < 0 || step <= seg.last)) return per_shape[seg.shape];
    return -1.0;
  };
  double sum = 0;
  for (std::int64_t n = 1; n <= 300; ++n) {
    sum += per_step(n);
    EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, static_cast<double>(n)), sum) << n;
  }
  // Fractional steps: that fraction of the next step; and what the TTA does with times.
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 4.25), 4 * 100 + 0.25 * 100);
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 5.5), 5 * 100 + 0.5 * 50);
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 212.5), ex::time_for_fractional_steps(s, per_shape, 212.5));
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 0), 0.0);
  // One step replaced (EF21's start at step 6): before it nothing changes, from it on the difference.
  const ex::StepOverride o{6, 1000};
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 5, o), 500);
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 5.5, o), 500 + 0.5 * 1000);
  EXPECT_DOUBLE_EQ(ex::cumulative_for_steps(s, per_shape, 100, o),
                   ex::cumulative_for_steps(s, per_shape, 100) + 1000 - 50);
}
