// The sweep's bit columns on the shipped trace (closed-form stand-in for SimGrid): dense sends
// 2(N-1) x 32 D bits per step in the authors' convention, Top-K's two all-gathers grow as N(N-1),
// and both to-target sums are the step-by-step sums over the row's shapes (ramp included).
#include <gtest/gtest.h>

#include <cmath>

#include "common/atomic_file.hpp"
#include "sweep_fixture.hpp"

using nlohmann::json;
using sweep_test::ex::ResultRow;

namespace {

double trace_elements() {
  const json t = json::parse(arcsim::io::read_file(std::string(ARCSIM_SOURCE_DIR) + "/traces/default/trace.json"));
  double d = 0;
  for (const auto& p : t.at("layout").at("parameters")) {
    double n = 1;
    for (const auto& s : p.at("shape")) n *= s.get<double>();
    d += n;
  }
  return d;
}

// Steps 1..steps of the row one at a time, from its shapes' segments (not the library's sum).
double step_by_step(const ResultRow& r, double steps, bool bits) {
  double total = 0;
  const auto whole = static_cast<std::int64_t>(std::floor(steps));
  auto at = [&](std::int64_t step) {
    for (const auto& s : r.shapes)
      if (step >= s.first_step && (s.last_step < 0 || step <= s.last_step)) return bits ? s.bits_authors : s.times.bytes_per_node;
    ADD_FAILURE() << "step " << step << " in no shape";
    return 0.0;
  };
  for (std::int64_t n = 1; n <= whole; ++n) total += at(n);
  if (steps > whole) total += (steps - whole) * at(whole + 1);
  return total;
}

}  // namespace

TEST(SweepBits, ColumnsFollowTheAuthorsRulesAndTheSchedule) {
  sweep_test::Scratch dir("sweep-bits");
  const json j = {{"trace", std::string(ARCSIM_SOURCE_DIR) + "/traces/default"},
                  {"compressors", json::array({{{"name", "dense"}},
                                               {{"name", "topk"}, {"ratio", 0.2}, {"ef", "ef14"}, {"ramp", true}},
                                               {{"name", "arctopk"}, {"ratio", 0.2}, {"ef", "ef14"}}})},
                  {"nodes", json::array({8, 16})},
                  {"bandwidths", json::array({"10Gbps"})},
                  {"target", {{"metric", "accuracy"}, {"value", 0.85}}}};
  const auto spec = sweep_test::ex::parse_spec(j, dir.dir + "/spec.json");
  const auto sum = sweep_test::ex::run_sweep(spec, sweep_test::options(dir.dir));
  ASSERT_EQ(sum.rows.size(), 6u);
  const double D = trace_elements();
  for (const ResultRow& r : sum.rows) {
    ASSERT_EQ(r.status, "ok") << r.error;
    const std::string name = r.compressor.at("name");
    const double N = r.nodes;
    ASSERT_TRUE(r.bits_per_step_authors) << name;
    if (name == "dense") { EXPECT_DOUBLE_EQ(*r.bits_per_step_authors, 2 * (N - 1) * 32 * D); }
    ASSERT_TRUE(r.tta_s) << name << " " << r.tta_note;
    ASSERT_TRUE(r.bits_to_target_authors);
    ASSERT_TRUE(r.bytes_per_node_to_target);
    // Every seed reached the target here: the centre is the geometric mean, as for tta_s.
    double log_bits = 0, log_bytes = 0;
    for (const auto& s : r.seed_tta) {
      ASSERT_TRUE(s.reached);
      EXPECT_NEAR(s.bits_authors, step_by_step(r, s.steps, true), 1e-9 * s.bits_authors);
      EXPECT_NEAR(s.bytes_per_node, step_by_step(r, s.steps, false), 1e-9 * s.bytes_per_node);
      log_bits += std::log(s.bits_authors) / static_cast<double>(r.seed_tta.size());
      log_bytes += std::log(s.bytes_per_node) / static_cast<double>(r.seed_tta.size());
    }
    EXPECT_NEAR(*r.bits_to_target_authors, std::exp(log_bits), 1e-9 * std::exp(log_bits));
    EXPECT_NEAR(*r.bytes_per_node_to_target, std::exp(log_bytes), 1e-9 * std::exp(log_bytes));
    if (name == "topk") {
      // The ramp steps send more than the steady ones.
      ASSERT_GT(r.shapes.size(), 1u);
      EXPECT_GT(r.shapes.front().bits_authors, r.shapes.back().bits_authors);
    }
  }
  // Top-K's all-gathers: N(N-1) per step, so 16 nodes send (16 x 15) / (8 x 7) times what 8 do.
  const ResultRow& t8 = sum.rows[1];
  const ResultRow& t16 = sum.rows[4];
  ASSERT_EQ(t8.compressor.at("name"), "topk");
  ASSERT_EQ(t16.nodes, 16);
  EXPECT_NEAR(*t16.bits_per_step_authors / *t8.bits_per_step_authors, 16.0 * 15 / (8.0 * 7), 1e-9);

  // The CSV and JSON hold them; a resumed run recomputes the same values.
  const std::string csv = arcsim::io::read_file(dir.dir + "/results.csv");
  EXPECT_NE(csv.find("bits_per_step_authors"), std::string::npos);
  EXPECT_NE(csv.find("bits_to_target_authors"), std::string::npos);
  EXPECT_NE(csv.find("bytes_per_node_to_target"), std::string::npos);
  const std::string first_json = arcsim::io::read_file(dir.dir + "/results.json");
  const auto again = sweep_test::ex::run_sweep(spec, sweep_test::options(dir.dir));
  EXPECT_EQ(again.reused, 6u);
  EXPECT_EQ(arcsim::io::read_file(dir.dir + "/results.json"), first_json);
  EXPECT_EQ(*again.rows[1].bits_to_target_authors, *t8.bits_to_target_authors);
}
