// Sweep limits and defaults taken from the topology: the point count never wraps, a results
// directory of another experiment is not replaced, a preset's own bandwidth and latency apply.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>

#include "common/json_fields.hpp"
#include "experiments/limits.hpp"
#include "experiments/spec.hpp"
#include "tests/common/error_of.hpp"

namespace ex = arcsim::experiments;
using nlohmann::json;

namespace {

const std::string kFile = std::string(ARCSIM_SOURCE_DIR) + "/experiments/test-limits.json";

json spec_json() {
  return json::parse(R"({"name": "lim", "trace": "../traces/default", "compressors": ["dense"], "nodes": [4],
                        "topologies": ["star"]})");
}

using arcsim::testing::error_of;

}  // namespace

TEST(SweepLimits, PointCountSaturatesAndIsRefusedWithoutForce) {
  ex::ExperimentSpec s = ex::parse_spec(spec_json(), kFile);
  EXPECT_EQ(ex::sweep_points(s), 1u);
  s.nodes.assign(200, 4);
  s.bandwidths_Bps.assign(100, 1e9);
  EXPECT_EQ(ex::sweep_points(s), 20000u);
  const auto e = error_of([&] { ex::check_sweep_start(s, "/nonexistent", false, false); });
  EXPECT_NE(e.find("20000 points"), std::string::npos) << e;
  EXPECT_NE(e.find("--force"), std::string::npos) << e;
  EXPECT_NO_THROW(ex::check_sweep_start(s, "/nonexistent", true, false));
}

TEST(SweepLimits, ResultsOfAnotherExperimentAreNotReplaced) {
  const auto dir = std::filesystem::temp_directory_path() / ("arcsim-limits-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "results.json") << R"({"experiment": {"name": "other"}, "points": []})";
  const ex::ExperimentSpec s = ex::parse_spec(spec_json(), kFile);
  const auto e = error_of([&] { ex::check_sweep_start(s, dir.string(), false, false); });
  EXPECT_NE(e.find("\"other\""), std::string::npos) << e;
  EXPECT_NE(e.find("--replace"), std::string::npos) << e;
  EXPECT_NO_THROW(ex::check_sweep_start(s, dir.string(), false, true));
  std::ofstream(dir / "results.json") << R"({"experiment": {"name": "lim"}, "points": []})";
  EXPECT_NO_THROW(ex::check_sweep_start(s, dir.string(), false, false));  // same experiment: resume
  std::filesystem::remove_all(dir);
}

TEST(SweepLimits, RewritesAreRateLimited) {
  ex::RewriteLimiter r;
  EXPECT_TRUE(r.due());
  EXPECT_FALSE(r.due());  // well within a second of the first
}

TEST(SpecDefaults, ThePresetsOwnBandwidthAndLatencyApply) {
  json j = spec_json();
  j["topologies"] = json::array({"ib-fattree"});
  const auto s = ex::parse_spec(j, kFile);
  ASSERT_EQ(s.bandwidths_Bps.size(), 1u);
  EXPECT_DOUBLE_EQ(s.bandwidths_Bps[0], 200e9 / 8);  // the preset's 200Gbps
  EXPECT_DOUBLE_EQ(s.latencies_s[0], 2e-6);          // and its 2us, not a spec default
  j["latencies"] = json::array({"7us"});              // the spec's own wins
  EXPECT_DOUBLE_EQ(ex::parse_spec(j, kFile).latencies_s[0], 7e-6);
  j["topologies"] = json::array({"ib-fattree", "star"});
  const auto e = error_of([&] { ex::parse_spec(j, kFile); });
  EXPECT_NE(e.find("bandwidths: expected a list"), std::string::npos) << e;
}
