// Every row of the public validation set (sim/validation/measurements.csv): its source and system
// file are there, its numbers agree with nccl-tests' own definitions (busbw = bytes / time x the
// collective's factor), and the model predicts it. The per-system errors printed here are the
// table of docs/simulator.md section 2.3.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/nccl_calibrate.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;

namespace {

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
  std::string system;
  arcsim::topo::TopologySpec spec;
  int servers = 0;
  CollectiveOp op = CollectiveOp::allreduce;
  double bytes = 0, measured_s = 0;
};

std::vector<Row> load_rows() {
  const std::string dir = std::string(ARCSIM_SOURCE_DIR) + "/sim/validation/";
  std::ifstream in(dir + "measurements.csv");
  EXPECT_TRUE(in.good());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "system,topology,source,gpu,servers,gpus,collective,bytes,time_us,busbw_GBps,note");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto c = cells(line);
    EXPECT_GE(c.size(), 10u) << line;
    if (c.size() < 10) continue;
    EXPECT_FALSE(c[2].empty()) << "a row without a source";
    EXPECT_TRUE(c[2].rfind("https://", 0) == 0 || c[2].rfind("github:", 0) == 0) << c[2];
    Row r;
    r.system = c[0];
    r.spec = arcsim::topo::load_topology(dir + c[1]);
    r.servers = std::stoi(c[4]);
    const int gpus = std::stoi(c[5]);
    EXPECT_EQ(r.servers * r.spec.gpus_per_node, gpus) << line;
    r.op = op_of(c[6]);
    r.bytes = std::stod(c[7]);
    const double t_us = std::stod(c[8]), busbw = std::stod(c[9]);
    EXPECT_GT(r.bytes, 0);
    EXPECT_GT(t_us, 0);
    // nccl-tests prints 2 decimals: compare where busbw is large enough to carry 3 digits.
    if (busbw >= 1.0) EXPECT_NEAR(r.bytes / (t_us * 1e3) * factor(r.op, gpus) / busbw, 1.0, 0.01) << line;
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
  std::string str() const {
    if (!rows) return "-";
    char b[64];
    std::snprintf(b, sizeof b, "%d rows, mean %.1f %%, worst %.1f %%", rows, 100 * sum / rows, 100 * worst);
    return b;
  }
};

std::vector<arcsim::sim::FitPoint> points(const std::vector<Row>& rows) {
  std::vector<arcsim::sim::FitPoint> p;
  for (const auto& r : rows) p.push_back({r.spec, r.op, r.servers, r.bytes, r.measured_s});
  return p;
}

}  // namespace

// (a) each system's own topology file; (b) calibrated on its smallest multi-server count,
// predicting its larger counts; (c) constants fitted on every other system.
TEST(ValidationSet, EveryRowIsSourcedConsistentAndPredicted) {
  const auto rows = load_rows();
  ASSERT_FALSE(rows.empty());
  std::map<std::string, std::vector<Row>> by_system;
  for (const auto& r : rows) by_system[r.system].push_back(r);
  std::printf("| system | rows | (a) preset | (b) calibrated on smallest server count | (c) leave-one-system-out |\n");
  for (const auto& [sys, rs] : by_system) {
    Err a, b, c;
    for (const auto& r : rs) {
      const double t = arcsim::sim::predict_point(r.spec, r.op, r.servers, r.bytes);
      ASSERT_TRUE(std::isfinite(t) && t > 0) << sys;
      a.add(t, r.measured_s);
    }
    int smallest = 1 << 30;
    for (const auto& r : rs)
      if (r.servers > 1) smallest = std::min(smallest, r.servers);
    std::vector<Row> train, test;
    for (const auto& r : rs) (r.servers == smallest ? train : test).push_back(r);
    for (const auto& r : test) {
      if (r.servers < smallest || train.empty()) continue;
      const auto fit = arcsim::sim::fit_constants(points(train));
      b.add(arcsim::sim::predict_point(arcsim::sim::apply_fit(r.spec, fit), r.op, r.servers, r.bytes), r.measured_s);
    }
    std::vector<Row> others;
    for (const auto& r : rows)
      if (r.system != sys) others.push_back(r);
    if (!others.empty()) {
      const auto fit = arcsim::sim::fit_constants(points(others));
      for (const auto& r : rs) {
        auto f = fit;
        // A constant the other systems did not determine stays this system's own.
        const auto own = arcsim::sim::constants_of(r.spec);
        if (!f.nic_fitted) f.nic_eff = own.nic_eff;
        if (!f.intra_fitted) f.intra_eff = own.intra_eff;
        c.add(arcsim::sim::predict_point(arcsim::sim::apply_fit(r.spec, f), r.op, r.servers, r.bytes), r.measured_s);
      }
    }
    std::printf("| %s | %zu | %s | %s | %s |\n", sys.c_str(), rs.size(), a.str().c_str(), b.str().c_str(),
                c.str().c_str());
  }
}
