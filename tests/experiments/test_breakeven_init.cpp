// `arcsim init` output sweeps with a TTA for every recorded configuration that reaches the
// target, and `breakeven` finds a crossing known in closed form (a stand-in for SimGrid whose
// iteration times are affine in 1 / bandwidth).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "experiments/breakeven.hpp"
#include "experiments/init_spec.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep.hpp"

namespace ex = arcsim::experiments;
using nlohmann::json;

namespace {

std::string tmp(const std::string& what) {
  const auto p = std::filesystem::temp_directory_path() / ("arcsim-" + what + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

const std::string kTrace = std::string(ARCSIM_SOURCE_DIR) + "/traces/default";
constexpr double kBytes = 1e7;

// dense: 1 ms + K / bw; compressed: 3 ms + K / (4 bw). Iteration break-even: 0.75 K / bw = 2 ms,
// bw = 375 K bytes/s = 30 Gbit/s.
ex::IterationTimes affine(const arcsim::sim::NetworkConfig& net, const arcsim::sim::Plan& plan,
                          const arcsim::sim::ComputeProfile&, const arcsim::sim::IterationOptions&) {
  ex::IterationTimes t;
  const bool dense = plan.compressor == "dense" || plan.compressor.empty();
  t.compute_s = dense ? 0.001 : 0.003;
  t.total_s = t.compute_s + (dense ? kBytes : kBytes / 4) / net.bandwidth_Bps;
  t.exposed_comm_s = t.comm_s = t.total_s - t.compute_s;
  return t;
}

}  // namespace

TEST(Init, SpecMatchesEveryRecordedConfiguration) {
  const arcsim::traces::Trace trace = arcsim::traces::read_trace(kTrace);
  ex::InitOptions io;
  io.bandwidths = {"10Gbps"};
  const std::string out = tmp("init");
  const json j = ex::spec_from_trace(trace, kTrace, io, nullptr);
  const ex::ExperimentSpec spec = ex::parse_spec(j, out + "/spec.json");
  std::set<std::string> configs;
  for (const auto& l : trace.convergence) configs.insert(l.config);
  EXPECT_EQ(spec.compressors.size(), configs.size());
  EXPECT_EQ(spec.compressors.front().name, "dense");
  ex::SweepOptions o;
  o.out_dir = out;
  o.jobs = 2;
  o.progress = false;
  o.simulate = affine;
  const ex::SweepSummary sum = ex::run_sweep(spec, o);
  std::filesystem::remove_all(out);
  ASSERT_EQ(sum.failed, 0u);
  int with_tta = 0;
  for (const auto& r : sum.rows) {
    // Every row found its log; the only empty TTAs are runs that never reached the target.
    EXPECT_FALSE(r.convergence_config.empty()) << r.tta_note;
    if (r.tta_s) ++with_tta;
    else EXPECT_NE(r.tta_note.find("not reached"), std::string::npos) << r.tta_note;
    EXPECT_EQ(r.convergence_nodes, r.nodes);
  }
  EXPECT_GT(with_tta, static_cast<int>(sum.rows.size()) * 3 / 4);
}

TEST(Breakeven, FindsTheKnownBandwidthCrossing) {
  const std::string out = tmp("breakeven");
  const json j = {{"trace", kTrace},
                  {"compressors", json::array({{{"name", "dense"}},
                                               {{"name", "arctopk"}, {"ratio", 0.2}, {"ef", "ef14"}}})},
                  {"nodes", json::array({8})},
                  {"bandwidths", json::array({"1Gbps", "10Gbps", "100Gbps"})},
                  {"target", {{"metric", "accuracy"}, {"value", 0.85}}}};
  const ex::ExperimentSpec spec = ex::parse_spec(j, out + "/spec.json");
  ex::BreakevenOptions bo;
  bo.axis = "bandwidth";
  bo.out_dir = out;
  bo.jobs = 2;
  bo.progress = false;
  bo.simulate = affine;
  const ex::BreakevenResult res = ex::run_breakeven(spec, bo);
  ASSERT_EQ(res.rows.size(), 2u);  // tta and iteration
  const ex::BreakevenRow& it = res.rows[1];
  EXPECT_EQ(it.metric, "iteration");
  ASSERT_TRUE(it.breakeven) << it.note;
  EXPECT_NEAR(*it.breakeven, 30.0, 30.0 * 0.01);
  EXPECT_EQ(it.faster, "below");
  EXPECT_LE(*it.bracket_hi / *it.bracket_lo, 1.01 + 1e-12);

  // TTA: steps S_d, S_c from a sweep of the same spec; crossing where S_d t_d(bw) = S_c t_c(bw).
  ex::SweepOptions o;
  o.out_dir = out + "/sweep";
  o.jobs = 2;
  o.progress = false;
  o.simulate = affine;
  const ex::SweepSummary sum = ex::run_sweep(spec, o);
  const double sd = *sum.rows[0].steps_to_target, sc = *sum.rows[1].steps_to_target;
  const double bw = kBytes * (sd - sc / 4) / (0.003 * sc - 0.001 * sd) * 8 / 1e9;
  const ex::BreakevenRow& tta = res.rows[0];
  EXPECT_EQ(tta.metric, "tta");
  ASSERT_TRUE(tta.breakeven) << tta.note;
  EXPECT_NEAR(*tta.breakeven, bw, bw * 0.01);
  const std::string csv = ex::breakeven_csv(res, "bandwidth");
  EXPECT_NE(csv.find("breakeven_bandwidth"), std::string::npos);
  std::filesystem::remove_all(out);
}

TEST(Breakeven, NoCrossingInTheRangeIsANote) {
  const std::string out = tmp("breakeven-none");
  const json j = {{"trace", kTrace},
                  {"compressors", json::array({{{"name", "dense"}},
                                               {{"name", "arctopk"}, {"ratio", 0.2}, {"ef", "ef14"}}})},
                  {"nodes", json::array({8})},
                  {"bandwidths", json::array({"1Gbps", "10Gbps"})}};
  const ex::ExperimentSpec spec = ex::parse_spec(j, out + "/spec.json");
  ex::BreakevenOptions bo;
  bo.axis = "bandwidth";
  bo.out_dir = out;
  bo.jobs = 2;
  bo.progress = false;
  bo.simulate = affine;
  const ex::BreakevenResult res = ex::run_breakeven(spec, bo);
  std::filesystem::remove_all(out);
  const ex::BreakevenRow& it = res.rows[1];
  EXPECT_FALSE(it.breakeven);
  EXPECT_NE(it.note.find("faster than dense over the whole range"), std::string::npos) << it.note;
}

TEST(Breakeven, NodesAxisBisectsIntegers) {
  // dense: 2 ms at any N; compressed: 0.1 ms x N. Iteration speedup 20 / N: 1 at N = 20.
  const std::string out = tmp("breakeven-nodes");
  const json j = {{"trace", kTrace},
                  {"compressors", json::array({{{"name", "dense"}},
                                               {{"name", "arctopk"}, {"ratio", 0.2}, {"ef", "ef14"}}})},
                  {"nodes", json::array({8, 64})},
                  {"bandwidths", json::array({"10Gbps"})}};
  const ex::ExperimentSpec spec = ex::parse_spec(j, out + "/spec.json");
  ex::BreakevenOptions bo;
  bo.axis = "nodes";
  bo.out_dir = out;
  bo.jobs = 2;
  bo.progress = false;
  bo.simulate = [](const arcsim::sim::NetworkConfig& net, const arcsim::sim::Plan& plan,
                   const arcsim::sim::ComputeProfile&, const arcsim::sim::IterationOptions&) {
    ex::IterationTimes t;
    const bool dense = plan.compressor == "dense" || plan.compressor.empty();
    t.total_s = t.compute_s = dense ? 0.002 : 1e-4 * net.nodes;
    return t;
  };
  const ex::BreakevenResult res = ex::run_breakeven(spec, bo);
  std::filesystem::remove_all(out);
  const ex::BreakevenRow& it = res.rows[1];
  ASSERT_EQ(it.metric, "iteration");
  ASSERT_TRUE(it.breakeven) << it.note;
  EXPECT_NEAR(*it.breakeven, 20.0, 1e-9);
  EXPECT_LE(*it.bracket_hi - *it.bracket_lo, 1.0);
  EXPECT_EQ(it.faster, "below");
  EXPECT_NE(ex::breakeven_csv(res, "nodes").find("breakeven_nodes"), std::string::npos);
}
