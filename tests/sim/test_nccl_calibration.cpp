// nccl-tests logs in, fitted constants out: the reader on both header styles, one-line errors, and
// the fit recovering known constants from rows the model itself produced (then predicting 4x the
// servers with them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "sim/nccl_calibrate.hpp"
#include "sim/nccl_tests_log.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;

namespace {

std::string header(int hosts, int gpus, bool group) {
  std::string s = "# nThread 1 nGpus 1 minBytes 1048576 maxBytes 4294967296 step: 4(factor) warmup iters: 5 iters: 20\n#\n# Using devices\n";
  for (int h = 0; h < hosts; ++h)
    for (int g = 0; g < gpus; ++g)
      s += std::string("#  Rank ") + std::to_string(h * gpus + g) + (group ? " Group  0" : "") +
           " Pid  1234 on node" + std::to_string(h) + " device  " + std::to_string(g) +
           " [0x07] NVIDIA A100-SXM4-80GB\n";
  return s;
}

// The column header of a table with out-of-place columns only.
const std::string kColumns = "#       size         count      type   redop    root     time   algbw   busbw #wrong\n";

}  // namespace

TEST(NcclTestsLog, ReadsRanksHostsAndRows) {
  const std::string text = header(2, 8, true) +
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n"
      "     1048576        262144     float     sum      -1    203.2    5.16    9.68      0    207.2    5.06    9.49      0\n"
      "  4294967296    1073741824     float     sum      -1    24361  176.31  330.58      0    24365  176.27  330.51    N/A\n"
      "# Avg bus bandwidth    : 70.742\n";
  const auto log = arcsim::sim::parse_nccl_tests_log(text, "all_reduce_perf.log");
  EXPECT_EQ(log.op, CollectiveOp::allreduce);
  EXPECT_EQ(log.ranks, 16);
  EXPECT_EQ(log.hosts, 2);
  EXPECT_EQ(log.gpu_name, "NVIDIA A100-SXM4-80GB");
  ASSERT_EQ(log.rows.size(), 2u);
  EXPECT_EQ(log.rows[1].bytes, 4294967296.0);
  EXPECT_DOUBLE_EQ(log.rows[1].time_us, 24361);
  EXPECT_DOUBLE_EQ(log.rows[1].busbw_GBps, 330.58);
  EXPECT_DOUBLE_EQ(log.rows[1].ip_time_us, 24365);
}

TEST(NcclTestsLog, OlderFormatWithoutRootAndGroup) {
  const std::string text = "# Collective test starting: all_gather_perf\n" + header(1, 8, false) +
      "#       size         count    type   redop     time   algbw   busbw  error     time   algbw   busbw  error\n"
      "     8388608        262144   float    none    95.10   88.21   77.18  0e+00    94.94   88.36   77.31  0e+00\n";
  const auto log = arcsim::sim::parse_nccl_tests_log(text, "x.log");
  EXPECT_EQ(log.op, CollectiveOp::allgather);
  EXPECT_EQ(log.ranks, 8);
  EXPECT_EQ(log.hosts, 1);
  ASSERT_EQ(log.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(log.rows[0].time_us, 95.10);
}

TEST(NcclTestsLog, WithoutTestNameTheTableSaysWhichCollective) {
  // Older nccl-tests print no "Collective test starting:" line; a file named anything still reads:
  // busbw / algbw = 2(n-1)/n is an all-reduce, (n-1)/n an all-gather (redop none) or a
  // reduce-scatter, and a root >= 0 a broadcast.
  auto op_of = [&](const std::string& rows) { return arcsim::sim::parse_nccl_tests_log(header(2, 8, true) + kColumns + rows, "run.out").op; };
  EXPECT_EQ(op_of("     1048576        262144     float     sum      -1    85.30   12.29   23.05      0\n"),
            CollectiveOp::allreduce);
  EXPECT_EQ(op_of("    16777216        262144     float    none      -1    95.10  176.41  165.38      0\n"),
            CollectiveOp::allgather);
  EXPECT_EQ(op_of("    16777216        262144     float     sum      -1    95.10  176.41  165.38      0\n"),
            CollectiveOp::reduce_scatter);
  EXPECT_EQ(op_of("    16777216       4194304     float    none       0    95.10  176.41  176.41      0\n"),
            CollectiveOp::broadcast);
  // Without Rank lines nothing decides: the one-line error asks for --collective.
  EXPECT_THROW(arcsim::sim::parse_nccl_tests_log(kColumns + "  1048576  262144  float  sum  -1  85.30  12.29  23.05  0\n", "run.out"),
               std::invalid_argument);
}

TEST(NcclTestsLog, LauncherPrefixesAreStripped) {
  std::string text;
  std::stringstream h(header(2, 8, true));
  for (std::string l; std::getline(h, l);) text += "[1,0]<stdout>:" + l + "\n";
  text += "[1,0]<stdout>:     1048576        262144     float     sum      -1    203.2    5.16    9.68      0    207.2    5.06    9.49      0\n";
  text += "0:      4194304       1048576     float     sum      -1    364.6   11.50   21.57      0    356.6   11.76   22.05      0\n";
  const auto log = arcsim::sim::parse_nccl_tests_log(text, "all_reduce_perf.log");
  EXPECT_EQ(log.ranks, 16);
  EXPECT_EQ(log.hosts, 2);
  ASSERT_EQ(log.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(log.rows[1].time_us, 364.6);
}

TEST(NcclTestsLog, RanksAreCountedOncePerRunAndRunsMustAgree) {
  const std::string row = "     1048576        262144     float     sum      -1    85.30   12.29   23.05      0\n";
  // Two invocations appended to one file, on the same 16 ranks: 16 ranks (not 32), both tables.
  const auto twice = arcsim::sim::parse_nccl_tests_log(header(2, 8, true) + kColumns + row + header(2, 8, true) + kColumns + row,
                                                       "all_reduce_perf.log");
  EXPECT_EQ(twice.ranks, 16);
  EXPECT_EQ(twice.hosts, 2);
  EXPECT_EQ(twice.rows.size(), 2u);
  // A second run on another cluster size: refused, at the line its header starts.
  const std::string first = header(2, 8, true) + kColumns + row;
  const int second_line = static_cast<int>(std::count(first.begin(), first.end(), '\n')) + 4;
  try {
    arcsim::sim::parse_nccl_tests_log(first + header(8, 8, true) + kColumns + row, "mixed.log");
    FAIL() << "two cluster sizes in one log were read";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("mixed.log:" + std::to_string(second_line) + ":"), std::string::npos) << m;
    EXPECT_NE(m.find("64 ranks"), std::string::npos) << m;
  }
  // Rank lines that skip an id (a truncated or hand-edited header) are refused too.
  std::string gap = header(1, 8, true);
  gap.erase(gap.find("#  Rank 3 "), gap.find("#  Rank 4 ") - gap.find("#  Rank 3 "));
  EXPECT_THROW(arcsim::sim::parse_nccl_tests_log(gap + kColumns + row, "gap.log"), std::invalid_argument);
  EXPECT_THROW(arcsim::sim::parse_nccl_tests_log("#  Rank 1e18 Group 0 Pid 1 on h device 0 [0x07] X\n" + kColumns + row, "big.log"),
               std::invalid_argument);
}

TEST(NcclTestsLog, BadInputIsOneLineNamingTheFile) {
  try {
    arcsim::sim::parse_nccl_tests_log("# nothing here\n", "empty.log", "allreduce");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("empty.log"), std::string::npos);
  }
  try {
    arcsim::sim::parse_nccl_tests_log("   1024   256   float   sum   -1   0.0   1.0   1.0   0\n", "zero.log", "allreduce");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("zero.log:1"), std::string::npos);
  }
  EXPECT_THROW(arcsim::sim::parse_nccl_tests_log(header(1, 8, true), "what.log"), std::invalid_argument);
}

// At scale (docs/limits.md): a million rows are read in linear time; one more is refused in one
// line naming the file; the weighted fit of repeated rows equals the fit of every row.
TEST(NcclTestsLog, MillionRowsAreReadAndOneMoreIsRefused) {
  std::string text = "# Collective test starting: all_reduce_perf\n";
  const std::string row = "1048576 262144 float sum -1 80.0 13.1 24.6 0 80.0 13.1 24.6 0\n";
  text.reserve(row.size() * (arcsim::sim::kMaxLogRows + 1) + 64);
  for (std::size_t i = 0; i < arcsim::sim::kMaxLogRows; ++i) text += row;
  EXPECT_EQ(arcsim::sim::parse_nccl_tests_log(text, "big.log").rows.size(), arcsim::sim::kMaxLogRows);
  text += row;
  try {
    arcsim::sim::parse_nccl_tests_log(text, "big.log");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("big.log:1000002"), std::string::npos) << m;
    EXPECT_NE(m.find("at most 1000000"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(NcclCalibration, WeightedRowsFitAsEveryRow) {
  const auto base = arcsim::topo::load_topology("dgx-a100");
  std::vector<arcsim::sim::FitPoint> pts;
  std::vector<arcsim::sim::FitRow> rows;
  for (double b = 1024; b <= 4294967296.0; b *= 8) {
    const double t1 = 30e-6 + b / 15e9, t2 = 1.1 * t1;
    pts.push_back({base, CollectiveOp::allreduce, 2, b, t1});
    pts.push_back({base, CollectiveOp::allreduce, 2, b, t2});
    rows.push_back({CollectiveOp::allreduce, 2, b, std::sqrt(t1 * t2), 2});
  }
  const auto a = arcsim::sim::fit_constants(pts);
  const auto w = arcsim::sim::fit_constants(base, rows, "auto");
  EXPECT_NEAR(a.nic_eff / w.nic_eff, 1, 1e-3);
  EXPECT_NEAR(a.latency_scale / w.latency_scale, 1, 1e-3);
}

TEST(NcclCalibration, RecoversKnownConstantsAndPredictsMoreServers) {
  const auto base = arcsim::topo::load_topology("dgx-a100");
  arcsim::sim::FitResult truth = arcsim::sim::constants_of(base);
  truth.nic_eff = 0.71;
  truth.latency_scale = 1.8;
  const auto site = arcsim::sim::apply_fit(base, truth);
  std::vector<arcsim::sim::FitPoint> pts;
  for (double b = 1048576; b <= 4294967296.0; b *= 4)
    pts.push_back({base, CollectiveOp::allreduce, 2, b, arcsim::sim::predict_point(site, CollectiveOp::allreduce, 2, b)});
  const auto fit = arcsim::sim::fit_constants(pts);
  EXPECT_TRUE(fit.nic_fitted);
  EXPECT_TRUE(fit.latency_fitted);
  EXPECT_FALSE(fit.intra_fitted);  // a multi-node log says nothing about NVLink
  EXPECT_NEAR(fit.nic_eff, 0.71, 0.71 * 0.01);
  EXPECT_NEAR(fit.latency_scale, 1.8, 1.8 * 0.05);
  const auto calibrated = arcsim::sim::apply_fit(base, fit);
  for (double b = 1048576; b <= 4294967296.0; b *= 4) {
    const double want = arcsim::sim::predict_point(site, CollectiveOp::allreduce, 8, b);
    const double got = arcsim::sim::predict_point(calibrated, CollectiveOp::allreduce, 8, b);
    EXPECT_NEAR(got / want, 1.0, 0.01) << b;
  }
  // The written topology reads back with the same constants.
  const auto back = arcsim::topo::parse_topology(arcsim::topo::topology_to_json(calibrated), "calibrated.json");
  EXPECT_NEAR(back.nic_achievable_Bps / calibrated.nic_achievable_Bps, 1.0, 1e-5);
  EXPECT_NEAR(back.latency_scale, calibrated.latency_scale, 1e-9);
}

TEST(NcclCalibration, SingleNodeLogsDetermineIntraNodeBandwidth) {
  const auto base = arcsim::topo::load_topology("dgx-a100");
  arcsim::sim::FitResult truth = arcsim::sim::constants_of(base);
  truth.intra_eff = 0.6;
  const auto site = arcsim::sim::apply_fit(base, truth);
  std::vector<arcsim::sim::FitPoint> pts;
  for (double b = 1048576; b <= 4294967296.0; b *= 4)
    pts.push_back({base, CollectiveOp::allreduce, 1, b, arcsim::sim::predict_point(site, CollectiveOp::allreduce, 1, b)});
  const auto fit = arcsim::sim::fit_constants(pts);
  EXPECT_TRUE(fit.intra_fitted);
  EXPECT_FALSE(fit.nic_fitted);
  EXPECT_NEAR(fit.intra_eff, 0.6, 0.006);
}
