// run_sweep on the shipped trace with a closed-form stand-in for SimGrid: TTA = steps x step time,
// and a configuration with no convergence log still gets its iteration time and an empty TTA with
// the reason.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "experiments/spec.hpp"
#include "experiments/sweep.hpp"

namespace ex = arcsim::experiments;
using nlohmann::json;

TEST(SweepTta, AConfigurationThatDiffersFromEveryLogIsRefusedUnlessItNamesAStandIn) {
  const std::string out =
      (std::filesystem::temp_directory_path() / ("arcsim-sweep-tta-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(out);
  json j = {{"trace", std::string(ARCSIM_SOURCE_DIR) + "/traces/default"},
            {"compressors", json::array({{{"name", "dense"}}, {{"name", "topk"}, {"ratio", 0.37}, {"ef", "ef14"}, {"ramp", true}}})},
            {"nodes", json::array({8})},
            {"bandwidths", json::array({"10Gbps"})},
            {"target", {{"metric", "accuracy"}, {"value", 0.8}}}};
  ex::SweepOptions o;
  o.out_dir = out;
  o.jobs = 1;
  o.progress = false;
  o.simulate = [](const arcsim::sim::NetworkConfig&, const arcsim::sim::Plan&, const arcsim::sim::ComputeProfile&,
                  const arcsim::sim::IterationOptions&) {
    ex::IterationTimes t;
    t.total_s = 0.01;
    t.compute_s = 0.008;
    t.exposed_comm_s = 0.002;
    t.comm_s = 0.003;
    return t;
  };
  try {
    ex::run_sweep(ex::parse_spec(j, out + "/spec.json"), o);
    ADD_FAILURE() << "a ratio no log was recorded at was accepted";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("compressors[1]"), std::string::npos) << m;
    EXPECT_NE(m.find("ratio: the trace's topk logs were recorded with ratio 0.2"), std::string::npos) << m;
    EXPECT_NE(m.find("\"convergence\""), std::string::npos) << m;
  }
  EXPECT_FALSE(std::filesystem::exists(out + "/results.csv"));  // refused before any work

  // Named explicitly, the 0.2 logs stand in, and the results say which log was used.
  j["compressors"][1]["convergence"] = "topk-0.2-ef14";
  const ex::SweepSummary sum = ex::run_sweep(ex::parse_spec(j, out + "/spec.json"), o);
  std::filesystem::remove_all(out);
  ASSERT_EQ(sum.rows.size(), 2u);
  const ex::ResultRow& dense = sum.rows[0];
  ASSERT_TRUE(dense.steps_to_target && dense.tta_s);
  EXPECT_NEAR(*dense.tta_s, *dense.steps_to_target * 0.01, 1e-12);
  EXPECT_EQ(dense.convergence_config, "dense");
  EXPECT_DOUBLE_EQ(*dense.speedup_vs_dense, 1.0);
  EXPECT_FALSE(dense.curve.empty());
  const ex::ResultRow& topk = sum.rows[1];
  EXPECT_EQ(topk.convergence_config, "topk-0.2-ef14");
  EXPECT_TRUE(topk.tta_s);
  EXPECT_EQ(topk.compressor.value("convergence", ""), "topk-0.2-ef14");
}

TEST(SweepTta, FailingPointIsReportedAndOthersKept) {
  const std::string out =
      (std::filesystem::temp_directory_path() / ("arcsim-sweep-fail-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(out);
  const json j = {{"trace", std::string(ARCSIM_SOURCE_DIR) + "/traces/default"},
                  {"compressors", json::array({{{"name", "dense"}}})},
                  {"nodes", json::array({8, 16, 32})},
                  {"bandwidths", json::array({"10Gbps"})}};
  const ex::ExperimentSpec spec = ex::parse_spec(j, out + "/spec.json");
  ex::SweepOptions o;
  o.out_dir = out;
  o.jobs = 2;
  o.progress = false;
  o.simulate = [](const arcsim::sim::NetworkConfig& net, const arcsim::sim::Plan&, const arcsim::sim::ComputeProfile&,
                  const arcsim::sim::IterationOptions&) {
    if (net.nodes == 16) throw std::runtime_error("boom at 16 nodes");
    ex::IterationTimes t;
    t.total_s = 0.01;
    return t;
  };
  const ex::SweepSummary sum = ex::run_sweep(spec, o);
  const auto previous = ex::load_previous_rows(out);
  std::filesystem::remove_all(out);
  EXPECT_EQ(sum.failed, 1u);
  EXPECT_EQ(sum.ok, 2u);
  ASSERT_EQ(sum.rows.size(), 3u);
  EXPECT_EQ(sum.rows[0].status, "ok");
  EXPECT_EQ(sum.rows[1].status, "failed");
  EXPECT_NE(sum.rows[1].error.find("boom at 16 nodes"), std::string::npos) << sum.rows[1].error;
  EXPECT_EQ(sum.rows[1].tta_note, "point failed");
  EXPECT_EQ(sum.rows[2].status, "ok");
  EXPECT_EQ(previous.size(), 3u);  // the files hold the failed row next to the good ones
}
