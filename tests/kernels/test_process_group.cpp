// ProcessGroupCommunicator: P ranks with one worker each (threads over ThreadTransport) give the
// aggregates of the EmulatedCommunicator with P workers bit for bit, for every compressor of the
// registry and every error feedback, and each rank's plan and bytes are the emulated plan's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/compressor.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"
#include "kernels/process_group_communicator.hpp"
#include "tests/kernels/thread_transport.hpp"

namespace arcsim::kernels {
namespace {

using testing::ThreadGroup;
using testing::ThreadTransport;

constexpr int kSteps = 4;

BucketLayout test_layout() {
  BucketLayout l;
  l.shapes = {{48, 16}, {16}, {8, 3, 3, 2}};
  l.names = {"fc.weight", "fc.bias", "conv.weight"};
  return l;
}

// grads[step][worker]: heavy-tailed values, distinct per worker and step.
std::vector<std::vector<std::vector<float>>> gradients(int P, std::size_t n) {
  std::mt19937 rng(7);
  std::student_t_distribution<float> dist(3.0f);
  std::vector<std::vector<std::vector<float>>> g(kSteps, std::vector<std::vector<float>>(P, std::vector<float>(n)));
  for (auto& step : g)
    for (auto& w : step)
      for (auto& x : w) x = dist(rng);
  return g;
}

struct Outcome {
  std::vector<std::vector<float>> agg;        // per step
  std::vector<std::vector<PlanOp>> ops;       // per step, collectives only
  std::vector<std::vector<CollectiveCall>> calls;  // per step (process-group runs)
};

std::vector<PlanOp> collectives(const std::vector<PlanOp>& ops) {
  std::vector<PlanOp> out;
  for (const auto& op : ops)
    if (op.kind == PlanOp::Kind::kCollective) out.push_back(op);
  return out;
}

Outcome run_emulated(const CompressorConfig& cfg, const std::vector<std::vector<std::vector<float>>>& g) {
  const BucketLayout layout = test_layout();
  const int P = static_cast<int>(g[0].size());
  Compressor c(P, cfg);
  Outcome o;
  for (const auto& step : g) {
    std::vector<const float*> p;
    for (const auto& w : step) p.push_back(w.data());
    std::vector<float> agg(layout.numel());
    o.ops.push_back(collectives(c.step(0, layout, p, agg.data()).ops));
    o.agg.push_back(std::move(agg));
  }
  return o;
}

std::vector<Outcome> run_ranks(const CompressorConfig& cfg, const std::vector<std::vector<std::vector<float>>>& g,
                               Reduction reduction) {
  const BucketLayout layout = test_layout();
  const int P = static_cast<int>(g[0].size());
  ThreadGroup group(P);
  std::vector<Outcome> out(static_cast<std::size_t>(P));
  std::vector<std::thread> threads;
  for (int r = 0; r < P; ++r)
    threads.emplace_back([&, r] {
      ThreadTransport t(group, r);
      ProcessGroupCommunicator comm(t, reduction);
      Compressor c(cfg, comm);
      Outcome& o = out[static_cast<std::size_t>(r)];
      for (const auto& step : g) {
        const float* mine[] = {step[static_cast<std::size_t>(r)].data()};
        std::vector<float> agg(layout.numel());
        o.ops.push_back(collectives(c.step(0, layout, mine, agg.data()).ops));
        o.agg.push_back(std::move(agg));
        o.calls.push_back(comm.take_calls());
      }
    });
  for (auto& th : threads) th.join();
  return out;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Bytes rank r hands to the process group for one plan op, as the plan counts them.
std::size_t plan_bytes_of_rank(const PlanOp& op, int r) {
  if (op.op == "allgatherv") return op.bytes_by_rank.at(static_cast<std::size_t>(r));
  if (op.op == "alltoallv") {
    std::size_t sent = 0;
    const auto& row = op.bytes_matrix.at(static_cast<std::size_t>(r));
    for (std::size_t d = 0; d < row.size(); ++d)
      if (d != static_cast<std::size_t>(r)) sent += row[d];
    return sent;
  }
  return op.bytes_per_rank;
}

struct Case {
  std::string compressor, ef;
  int ranks;
  std::string value_dtype = "fp32";
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& name : compressor_names()) {
    const CompressorEntry& e = compressor_entry(name);
    for (const char* ef : {"none", "ef14", "ef21", "ef21m"}) {
      if (!e.takes("ef") && std::string(ef) != "none") continue;
      for (int P : {2, 3, 4}) out.push_back({name, ef, P});
    }
    // Values on the wire in 16 bits: the ordered sum rounds as the emulated one does.
    if (e.takes("value_dtype"))
      for (const char* t : {"fp16", "bf16"}) out.push_back({name, "ef14", 3, t});
  }
  return out;
}

class ProcessGroupEquivalence : public ::testing::TestWithParam<Case> {};

TEST_P(ProcessGroupEquivalence, AggregatesPlansAndBytesMatchTheEmulatedRun) {
  const Case& c = GetParam();
  const CompressorEntry& entry = compressor_entry(c.compressor);
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [option, value] : {std::pair<const char*, nlohmann::json>{"ef", c.ef},
                                     {"warmup", 1},
                                     {"ratio", 0.1},
                                     {"value_dtype", c.value_dtype}})
    if (entry.takes(option)) given[option] = value;
  CompressorConfig cfg;
  try {
    cfg = build_config(c.compressor, given);
    cfg.validate();
  } catch (const std::invalid_argument& e) {
    GTEST_SKIP() << c.compressor << " with " << c.ef << " is refused by the option table: " << e.what();
  }
  const auto g = gradients(c.ranks, test_layout().numel());
  const Outcome emulated = run_emulated(cfg, g);
  const std::vector<Outcome> ranks = run_ranks(cfg, g, Reduction::ordered);
  for (int r = 0; r < c.ranks; ++r) {
    const Outcome& o = ranks[static_cast<std::size_t>(r)];
    for (int s = 0; s < kSteps; ++s) {
      SCOPED_TRACE("rank " + std::to_string(r) + ", step " + std::to_string(s));
      EXPECT_TRUE(bitwise_equal(o.agg[s], emulated.agg[s]));
      ASSERT_EQ(o.ops[s].size(), emulated.ops[s].size());
      ASSERT_EQ(o.calls[s].size(), o.ops[s].size());
      for (std::size_t i = 0; i < o.ops[s].size(); ++i) {
        const PlanOp &mine = o.ops[s][i], &want = emulated.ops[s][i];
        EXPECT_EQ(mine.op, want.op);
        EXPECT_EQ(mine.bytes_per_rank, want.bytes_per_rank);
        EXPECT_EQ(mine.bytes_by_rank, want.bytes_by_rank);
        EXPECT_EQ(mine.bytes_matrix, want.bytes_matrix);
        EXPECT_EQ(o.calls[s][i].op, want.op);
        EXPECT_EQ(o.calls[s][i].bytes, plan_bytes_of_rank(want, r)) << want.op;
      }
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.compressor + "_" + info.param.ef + "_P" + std::to_string(info.param.ranks) + "_" +
                  info.param.value_dtype;
  for (auto& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Registry, ProcessGroupEquivalence, ::testing::ValuesIn(cases()), case_name);

TEST(ProcessGroup, NativeReductionIsTheLibrarysSum) {
  CompressorConfig cfg = build_config("dense", nlohmann::json::object());
  const auto g = gradients(3, test_layout().numel());
  const Outcome emulated = run_emulated(cfg, g);
  const std::vector<Outcome> ranks = run_ranks(cfg, g, Reduction::native);
  bool all_equal = true;
  for (int s = 0; s < kSteps; ++s)
    for (std::size_t i = 0; i < emulated.agg[s].size(); ++i) {
      const float want = emulated.agg[s][i], got = ranks[0].agg[s][i];
      EXPECT_NEAR(got, want, 1e-5f * (1.0f + std::fabs(want)));
      all_equal = all_equal && got == want;
      EXPECT_EQ(got, ranks[2].agg[s][i]);  // every rank holds the same sum
    }
  // The thread transport sums in reverse rank order: with 3 ranks some element must round differently.
  EXPECT_FALSE(all_equal);
}

TEST(ProcessGroup, OneLocalWorkerOnly) {
  ThreadGroup group(1);
  ThreadTransport t(group, 0);
  ProcessGroupCommunicator comm(t);
  const float a[] = {1}, b[] = {2};
  const float* in[] = {a, b};
  float out[1];
  EXPECT_THROW(comm.allreduce_sum(in, 1, out, true), std::invalid_argument);
  EXPECT_THROW(parse_reduction("ring"), std::invalid_argument);
}

TEST(ProcessGroup, NonFiniteGradientNamesTheRank) {
  ThreadGroup group(2);
  ThreadTransport t(group, 1);
  ProcessGroupCommunicator comm(t);
  Compressor c(build_config("topk", {{"ratio", 0.1}}), comm);
  BucketLayout l;
  l.shapes = {{4}};
  std::vector<float> g = {1, NAN, 2, 3}, agg(4);
  const float* in[] = {g.data()};
  try {
    c.step(0, l, in, agg.data());
    FAIL() << "a NaN gradient was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("worker 1, element 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace arcsim::kernels
