// Every row of the public validation set (sim/validation/measurements.csv): its source and system
// file are there, its numbers agree with nccl-tests' own definitions (busbw = bytes / time x the
// collective's factor), and the model predicts it. The per-system errors printed here are the
// tables of docs/simulator.md section 2.3.
//
// Rows whose out-of-place and in-place times differ by more than 1.5x are measurement glitches of
// that run (one slow iteration batch); they stay in the file, are counted, and are left out of the
// error statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/nccl_calibrate.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;

namespace {

const char* kHeader =
    "system,topology,source,gpu,servers,gpus,collective,bytes,time_us,busbw_GBps,inplace_us,nccl_algo,note";

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) out.push_back(c);
  return out;
}

CollectiveOp op_of(const std::string& s) {
  if (s == "allreduce") return CollectiveOp::allreduce;
  if (s == "allgather") return CollectiveOp::allgather;
  if (s == "reduce_scatter") return CollectiveOp::reduce_scatter;
  if (s == "broadcast") return CollectiveOp::broadcast;
  throw std::invalid_argument("collective " + s);
}

double factor(CollectiveOp op, int n) {
  if (op == CollectiveOp::allreduce) return 2.0 * (n - 1) / n;
  if (op == CollectiveOp::broadcast) return 1.0;
  return (n - 1.0) / n;
}

struct Row {
  std::string system, source, algorithm;
  arcsim::topo::TopologySpec spec;
  int servers = 0;
  CollectiveOp op = CollectiveOp::allreduce;
  double bytes = 0, measured_s = 0;
  bool glitch = false;
};

std::vector<Row> load_rows() {
  const std::string dir = std::string(ARCSIM_SOURCE_DIR) + "/sim/validation/";
  std::ifstream in(dir + "measurements.csv");
  EXPECT_TRUE(in.good());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, kHeader);
  std::vector<Row> rows;
  std::map<std::string, arcsim::topo::TopologySpec> specs;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto c = cells(line);
    EXPECT_GE(c.size(), 12u) << line;
    if (c.size() < 12) continue;
    EXPECT_FALSE(c[2].empty()) << "a row without a source";
    EXPECT_TRUE(c[2].rfind("https://", 0) == 0 || c[2].rfind("github:", 0) == 0) << c[2];
    Row r;
    r.system = c[0];
    r.source = c[2];
    if (!specs.count(c[1])) {
      specs[c[1]] = arcsim::topo::load_topology(dir + c[1]);
    }
    r.spec = specs[c[1]];
    r.servers = std::stoi(c[4]);
    const int gpus = std::stoi(c[5]);
    EXPECT_EQ(r.servers * r.spec.gpus_per_node, gpus) << line;
    r.op = op_of(c[6]);
    r.bytes = std::stod(c[7]);
    const double t_us = std::stod(c[8]), busbw = std::stod(c[9]);
    EXPECT_GT(r.bytes, 0);
    EXPECT_GT(t_us, 0);
    // nccl-tests prints 2 decimals: compare where busbw is large enough to carry 3 digits.
    if (busbw >= 1.0) {
      EXPECT_NEAR(r.bytes / (t_us * 1e3) * factor(r.op, gpus) / busbw, 1.0, 0.01) << line;
    }
    if (!c[10].empty()) {
      const double ip = std::stod(c[10]);
      r.glitch = std::max(ip, t_us) / std::min(ip, t_us) > 1.5;
    }
    r.algorithm = c[11];
    EXPECT_TRUE(r.algorithm == "auto" || r.algorithm == "ring" || r.algorithm == "tree") << line;
    r.measured_s = t_us * 1e-6;
    rows.push_back(r);
  }
  return rows;
}

struct Err {
  int rows = 0;
  double sum = 0, worst = 0;
  void add(double pred, double meas) {
    const double e = std::abs(pred / meas - 1);
    ++rows, sum += e, worst = std::max(worst, e);
  }
  double mean() const { return rows ? sum / rows : 0; }
  std::string str() const {
    if (!rows) return "-";
    char b[64];
    std::snprintf(b, sizeof b, "%d rows, mean %.1f %%, worst %.1f %%", rows, 100 * mean(), 100 * worst);
    return b;
  }
};

std::vector<arcsim::sim::FitPoint> points(const std::vector<Row>& rows) {
  std::vector<arcsim::sim::FitPoint> p;
  for (const auto& r : rows)
    if (!r.glitch) p.push_back({r.spec, r.op, r.servers, r.bytes, r.measured_s, r.algorithm});
  return p;
}

double predict(const arcsim::topo::TopologySpec& spec, const Row& r) {
  return arcsim::sim::predict_point(spec, r.op, r.servers, r.bytes, nullptr, r.algorithm);
}

std::map<std::string, std::vector<Row>> by_system(const std::vector<Row>& rows) {
  std::map<std::string, std::vector<Row>> m;
  for (const auto& r : rows) m[r.system].push_back(r);
  return m;
}

}  // namespace

// (a) each system's own topology file; (b) calibrated on its smallest multi-server count,
// predicting its larger counts; (c) constants fitted on every other system.
TEST(ValidationSet, EveryRowIsSourcedConsistentAndPredicted) {
  const auto rows = load_rows();
  ASSERT_GE(rows.size(), 60u);
  std::set<std::string> multi;
  int glitches = 0;
  for (const auto& r : rows) {
    if (r.servers > 1) multi.insert(r.system);
    glitches += r.glitch;
  }
  EXPECT_GE(multi.size(), 4u);
  std::printf("%zu rows, %zu systems (%zu multi-server), %d glitch rows left out of the statistics\n", rows.size(),
              by_system(rows).size(), multi.size(), glitches);
  std::printf("| system | rows | (a) topology file | (b) calibrated on smallest server count | (c) leave-one-system-out |\n");
  for (const auto& [sys, rs] : by_system(rows)) {
    Err a, b, c;
    for (const auto& r : rs) {
      const double t = predict(r.spec, r);
      ASSERT_TRUE(std::isfinite(t) && t > 0) << sys;
      if (!r.glitch) a.add(t, r.measured_s);
      // ARCSIM_VALIDATION_ROWS=1 prints every row (what docs/simulator.md's per-row notes come from).
      if (std::getenv("ARCSIM_VALIDATION_ROWS")) {
        std::string label;
        arcsim::sim::predict_point(r.spec, r.op, r.servers, r.bytes, &label, r.algorithm);
        std::printf("  %s N=%d %.0f B measured %.1f us predicted %.1f us (%s) %+.1f %%%s\n", sys.c_str(), r.servers,
                    r.bytes, r.measured_s * 1e6, t * 1e6, label.c_str(), 100 * (t / r.measured_s - 1),
                    r.glitch ? " [glitch]" : "");
      }
    }
    int smallest = 1 << 30;
    for (const auto& r : rs)
      if (r.servers > 1) smallest = std::min(smallest, r.servers);
    std::vector<Row> train;
    for (const auto& r : rs)
      if (r.servers == smallest) train.push_back(r);
    if (!points(train).empty()) {
      const auto fit = arcsim::sim::fit_constants(points(train));
      for (const auto& r : rs)
        if (r.servers > smallest && !r.glitch) b.add(predict(arcsim::sim::apply_fit(r.spec, fit), r), r.measured_s);
    }
    std::vector<Row> others;
    for (const auto& r : rows)
      if (r.system != sys) others.push_back(r);
    if (!others.empty()) {
      const auto fit = arcsim::sim::fit_constants(points(others));
      for (const auto& r : rs) {
        if (r.glitch) continue;
        auto f = fit;
        // A constant the other systems did not determine stays this system's own.
        const auto own = arcsim::sim::constants_of(r.spec);
        if (!f.nic_fitted) f.nic_eff = own.nic_eff;
        if (!f.intra_fitted) f.intra_eff = own.intra_eff;
        c.add(predict(arcsim::sim::apply_fit(r.spec, f), r), r.measured_s);
      }
    }
    std::printf("| %s | %zu | %s | %s | %s |\n", sys.c_str(), rs.size(), a.str().c_str(), b.str().c_str(),
                c.str().c_str());
  }
}

namespace {

struct Known { double mean, worst; const char* why; };

// The user's workflow on every system with rows at two or more server counts: fit the constants
// on the rows (of at least `min_bytes`) of the smallest multi-server count, predict the same sizes
// at the larger counts (the checked rows, never fitted on). The bar is mean |error| <= 5 % and
// worst <= 10 % on the checked rows; systems that miss it are listed in `misses` with the reason
// and the error measured today, so a change that moves them shows. Returns the systems checked.
int calibrated_on_smallest_scale(double min_bytes, const std::map<std::string, Known>& misses) {
  const auto rows = load_rows();
  int systems = 0;
  for (const auto& [sys, all] : by_system(rows)) {
    std::vector<Row> rs;
    for (const auto& r : all)
      if (r.bytes >= min_bytes) rs.push_back(r);
    std::set<int> counts;
    for (const auto& r : rs)
      if (r.servers > 1) counts.insert(r.servers);
    if (counts.size() < 2) continue;
    ++systems;
    const int smallest = *counts.begin();
    std::vector<Row> fitted, checked;
    for (const auto& r : rs) {
      if (r.glitch) continue;
      if (r.servers == smallest) fitted.push_back(r);
      else if (r.servers > smallest) checked.push_back(r);
    }
    EXPECT_FALSE(fitted.empty()) << sys;
    EXPECT_FALSE(checked.empty()) << sys;
    // The fit sees the fitted rows only.
    const auto fit = arcsim::sim::fit_constants(points(fitted));
    Err on_fitted, on_checked;
    std::map<int, Err> by_count;
    for (const auto& r : fitted) on_fitted.add(predict(arcsim::sim::apply_fit(r.spec, fit), r), r.measured_s);
    for (const auto& r : checked) {
      const double t = predict(arcsim::sim::apply_fit(r.spec, fit), r);
      on_checked.add(t, r.measured_s);
      by_count[r.servers].add(t, r.measured_s);
    }
    // ARCSIM_VALIDATION_ROWS=1 prints every fitted and checked row with the fitted constants.
    if (std::getenv("ARCSIM_VALIDATION_ROWS")) {
      for (const auto* set : {&fitted, &checked})
        for (const auto& r : *set) {
          std::string label;
          const double t = arcsim::sim::predict_point(arcsim::sim::apply_fit(r.spec, fit), r.op, r.servers, r.bytes,
                                                      &label, r.algorithm);
          std::printf("  %s %s N=%d %.0f B measured %.1f us predicted %.1f us (%s) %+.1f %%\n", sys.c_str(),
                      set == &fitted ? "fitted" : "checked", r.servers, r.bytes, r.measured_s * 1e6, t * 1e6,
                      label.c_str(), 100 * (t / r.measured_s - 1));
        }
    }
    std::printf("| %s | fitted on %d servers: %s (nic %.3f of line, latency x%.2f) | checked on", sys.c_str(), smallest,
                on_fitted.str().c_str(), fit.nic_eff, fit.latency_scale);
    for (int n : counts)
      if (n != smallest) std::printf(" %d", n);
    std::printf(" servers: %s |\n", on_checked.str().c_str());
    if (by_count.size() > 1)
      for (const auto& [n, e] : by_count) std::printf("    %d servers: %s\n", n, e.str().c_str());
    const auto it = misses.find(sys);
    if (it == misses.end()) {
      EXPECT_LE(on_checked.mean(), 0.05) << sys;
      EXPECT_LE(on_checked.worst, 0.10) << sys;
    } else {
      std::printf("  BELOW THE BAR: %s\n", it->second.why);
      EXPECT_NEAR(on_checked.mean(), it->second.mean, 0.02) << sys;
      EXPECT_NEAR(on_checked.worst, it->second.worst, 0.03) << sys;
    }
  }
  return systems;
}

}  // namespace

// Bar (b) on every row.
TEST(ValidationSet, CalibratedOnSmallestScalePredictsLargerScales) {
  const std::map<std::string, Known> misses = {
      {"abci-a-nccl2.8.4-0520",
       {0.211, 0.494, "8 and 16 servers ran on hosts a0021-a0037, whose busbw plateaus at 15-16 GB/s (half the 2- and 4-server plateau); 4 servers mean 11 %, worst 26 % (tree LL128 picked at 1-8 MiB, where NCCL 2.8.4 ran faster)"}},
      {"abci-a-nccl2.8.4-0601",
       {0.150, 0.490, "8 servers ran on hosts a0021-a0029 (busbw plateau 15 GB/s, half the 2-server one); 4 servers mean 11 %, worst 26 %; 16 servers (a0061-a0076) mean 4.9 %, worst 11.8 %"}},
      {"alcf-polaris-nccl2.21.5",
       {0.315, 1.311, "Slingshot through aws-ofi-nccl: 2-16 MiB take a flat ~0.9 ms at 2 nodes and 1.3-3 ms at 8 (2 MiB slower than 8 MiB), which no per-step latency follows; the 2-node fit takes latency x10 from them"}},
      {"aws-p4d-nccl2.9.9",
       {0.072, 0.103, "2 instances run the 2-node tree (1 x bytes per node: 57 GB/s of busbw); 3 and 4 run rings (32, 30 GB/s): 4 instances 10 % slower than the ring the 2-instance fit predicts"}},
      {"h100-ndr-ib-site-a", {0.154, 0.448, "2 servers run NVLSTree (NVLink SHARP), which is not modelled"}},
      {"h100-ndr-ib-site-a-ctas24",
       {0.138, 0.409, "fitted on forced-Ring rows; the 8-server rows run NCCL's choice, NVLSTree at medium sizes (not modelled)"}},
  };
  EXPECT_GE(calibrated_on_smallest_scale(0, misses), 3);
}

// The same on the NIC-bound sizes only (>= 64 MiB, as `calibrate --min-bytes 64MiB` fits): what
// the model rests on (flat rings whose bus bandwidth does not depend on the server count), apart
// from the small sizes' latency, NCCL versions and network stacks.
TEST(ValidationSet, CalibratedOnLargeSizesPredictsLargerScales) {
  const std::map<std::string, Known> misses = {
      {"alcf-polaris-nccl2.21.5",
       {0.088, 0.259, "8 nodes within the bar (mean 4.1 %, worst 7.7 %); at 256 nodes (1024 ranks) 64-512 MiB run 11-26 % slower than predicted"}},
      {"aws-p4d-nccl2.9.9",
       {0.072, 0.103, "2 instances run the 2-node tree; 4 instances 10 % slower than the ring the 2-instance fit predicts"}},
      {"h100-ndr-ib-site-a", {0.169, 0.338, "2 servers run NVLSTree (NVLink SHARP), which is not modelled"}},
      {"h100-ndr-ib-site-a-ctas24", {0.108, 0.248, "fitted on forced-Ring rows; the 8-server rows run NCCL's choice"}},
  };
  EXPECT_GE(calibrated_on_smallest_scale(64.0 * 1048576, misses), 3);
}
