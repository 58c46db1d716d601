// Several configurations replayed together (experiments/replay.hpp replay_shapes: each bucket's
// gradients made once for all) give, for each, exactly what its replay alone gives: the plan
// (less the measured durations) and the quality doubles, with and without worker streaming, on
// recorded and synthetic gradients; a configuration that fails is named by its index.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "experiments/replay.hpp"
#include "kernels/backend.hpp"
#include "traces/buckets.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {
namespace {

namespace k = arcsim::kernels;
using nlohmann::json;

json plan_without_durations(const ShapePlan& sp) {
  json j = plan::to_json(sp.plan);
  for (auto& bucket : j["buckets"])
    for (auto& op : bucket["ops"]) op.erase("duration_s");
  return j;
}

k::CompressorConfig config(const std::string& name, double ratio, const std::string& ef) {
  k::CompressorConfig c;
  c.compressor = name;
  c.ratio = ratio;
  c.ef = ef;
  if (name == "arctopk") c.rank = 1;
  return c;
}

std::vector<k::CompressorConfig> mixed_configs() {
  // Dense, the classic three at several ratios (a ramp's shapes), EF21 (takes the previous
  // sample too) and a family member the streamed step does not cover.
  return {config("dense", 1.0, "none"),  config("topk", 0.8, "ef14"),   config("topk", 0.05, "ef14"),
          config("randk", 0.3, "ef14"),  config("arctopk", 0.1, "ef14"), config("topk", 0.1, "ef21"),
          config("dgc", 0.05, "ef14")};
}

void expect_group_equals_singles(const traces::Trace& trace, int workers, std::size_t stream_above) {
  traces::BucketOptions opt;
  opt.first_cap_bytes = 16 << 10;
  opt.cap_bytes = 64 << 10;
  GradientSource src(trace, traces::ddp_buckets(trace.layout, opt), workers, "");
  const auto configs = mixed_configs();
  const std::vector<ShapePlan> group =
      replay_shapes(src, configs, 0, nullptr, k::cpu_backend(), nullptr, stream_above);
  ASSERT_EQ(group.size(), configs.size());
  for (std::size_t c = 0; c < configs.size(); ++c) {
    const ShapePlan alone = replay_shape(src, configs[c], 0, nullptr, k::cpu_backend(), nullptr, stream_above);
    const std::string what = trace.dir + " " + configs[c].to_json().dump();
    EXPECT_EQ(plan_without_durations(group[c]), plan_without_durations(alone)) << what;
    EXPECT_EQ(group[c].relative_error, alone.relative_error) << what;
    EXPECT_EQ(group[c].retained_energy, alone.retained_energy) << what;
    EXPECT_EQ(group[c].kernels, alone.kernels) << what;
    EXPECT_EQ(group[c].collectives, alone.collectives) << what;
    EXPECT_EQ(group[c].bytes_per_rank, alone.bytes_per_rank) << what;
    EXPECT_EQ(group[c].backend, alone.backend) << what;
  }
}

traces::Trace synthetic_trace() {
  traces::Trace t;
  t.dir = "synthetic-test";
  t.layout.parameters = {{"emb.weight", {500, 64}, "float32", "emb"},
                         {"l1.weight", {128, 64}, "float32", "l1"},
                         {"l1.bias", {128}, "float32", "l1"},
                         {"head.weight", {10, 128}, "float32", "head"}};
  return t;
}

TEST(ReplayShapes, EachConfigurationGetsWhatItsOwnReplayGives) {
  const traces::Trace recorded = traces::read_trace(std::string(ARCSIM_SOURCE_DIR) + "/traces/default");
  ASSERT_FALSE(recorded.samples.empty());
  for (std::size_t stream_above : {std::size_t(-1), std::size_t{0}}) {  // Compressor path; every bucket streamed
    expect_group_equals_singles(recorded, 2, stream_above);
    expect_group_equals_singles(synthetic_trace(), 3, stream_above);
  }
}

TEST(ReplayShapes, AFailingConfigurationIsNamedByItsIndex) {
  const traces::Trace t = synthetic_trace();
  GradientSource src(t, traces::ddp_buckets(t.layout, {}), 2, "");
  std::vector<k::CompressorConfig> configs = {config("topk", 0.1, "ef14"), config("topk", 0.1, "ef14")};
  configs[1].ratio = 1.5;  // not a ratio
  try {
    replay_shapes(src, configs, 0, nullptr, k::cpu_backend());
    FAIL() << "ratio 1.5 accepted";
  } catch (const ReplayFailure& e) {
    EXPECT_EQ(e.index, 1u);
    EXPECT_NE(std::string(e.what()).find("ratio"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace arcsim::experiments
