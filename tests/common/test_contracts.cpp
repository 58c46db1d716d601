// common/: the typed contracts (plan, compute profile) and the vocabulary tables.
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/compute_profile.hpp"
#include "common/json_fields.hpp"
#include "common/plan.hpp"
#include "common/vocabulary.hpp"
#include "tests/common/error_of.hpp"

using arcsim::json::ConfigError;
using nlohmann::json;
namespace plan = arcsim::plan;
namespace compute = arcsim::compute;
namespace vocab = arcsim::vocab;

namespace {

using arcsim::testing::error_of;

enum class Colour { red, green };
constexpr vocab::Entry<Colour> kColours[] = {{"red", "warm", Colour::red}, {"green", "cool", Colour::green}};

json recorded_plan() {
  return json::parse(R"({"format": "arcsim-plan/1", "world_size": 4,
    "compressor": {"name": "topk", "ratio": 0.1},
    "buckets": [{"bucket": 0, "elements": 1000, "tensors": ["a", "b"], "ops": [
      {"kind": "kernel", "name": "topk_select", "elements": 1000, "bytes_moved": 8000, "duration_s": 1.5e-05,
       "duration_source": "model:H100-SXM"},
      {"kind": "collective", "op": "allgatherv", "bytes_per_rank": 800, "bytes_by_rank": [800, 812, 0, 4],
       "dtype": "float32", "blocking": true},
      {"kind": "collective", "op": "allreduce", "bytes_per_rank": 4000, "dtype": "float32", "blocking": false}]}]})");
}

json profile_doc() {
  return json::parse(R"({"format": "arcsim-compute/1", "device": "test", "forward_s": 0.01, "optimizer_s": 0.001,
    "layers": [{"name": "l0", "params": ["l0.w", "l0.b"], "forward_s": 0.001, "backward_s": 0.002},
               {"name": "l1", "params": ["l1.w"], "forward_s": 0.003, "backward_s": 0.004,
                "cost": {"flops_forward": 10.0, "flops_backward": 20.0, "bytes_forward": 30.0, "bytes_backward": 40.0,
                         "launches_forward": 1, "launches_backward": 2}}]})");
}

}  // namespace

TEST(Vocabulary, FindNamesHelpAndTheOneErrorWording) {
  ASSERT_NE(vocab::find(kColours, "green"), nullptr);
  EXPECT_EQ(vocab::find(kColours, "green")->value, Colour::green);
  EXPECT_EQ(vocab::find(kColours, "blue"), nullptr);
  EXPECT_EQ(vocab::names(kColours), "red|green");
  EXPECT_EQ(vocab::names(kColours, ", "), "red, green");
  EXPECT_EQ(vocab::help(kColours), "red: warm; green: cool");
  EXPECT_EQ(vocab::expected(kColours, "blue"), "expected red|green, got \"blue\"");
  // Control bytes in the input are shown, not printed raw (one readable line).
  EXPECT_EQ(vocab::expected(kColours, "a\nb").find('\n'), std::string::npos);
}

TEST(PlanContract, WriterIsTheReadersInverseOnRecordedPlans) {
  const json doc = recorded_plan();
  const plan::Plan p = plan::parse_plan(doc, "p.json");
  EXPECT_EQ(p.compressor, "topk");
  ASSERT_EQ(p.buckets.size(), 1u);
  ASSERT_EQ(p.buckets[0].ops.size(), 3u);
  EXPECT_EQ(p.buckets[0].ops[1].op, plan::CollectiveOp::allgatherv);
  EXPECT_FALSE(p.buckets[0].ops[2].blocking);
  // Byte-identical text: counts come back as integers, durations as numbers.
  EXPECT_EQ(plan::to_json(p).dump(), doc.dump());
  EXPECT_EQ(plan::header_json(p).count("buckets"), 0u);
}

TEST(PlanContract, FractionalCountsStayNumbers) {
  json doc = recorded_plan();
  doc["buckets"][0]["ops"][2]["bytes_per_rank"] = 4000.5;
  EXPECT_EQ(plan::to_json(plan::parse_plan(doc, "p.json"))["buckets"][0]["ops"][2]["bytes_per_rank"].get<double>(),
            4000.5);
}

TEST(PlanContract, AlltoallvMatrixAndScalingRoundTripAndAreWrittenOnlyWhenSet) {
  json doc = recorded_plan();
  doc["buckets"][0]["ops"].push_back(json::parse(R"({"kind": "collective", "op": "alltoallv", "bytes_per_rank": 12,
    "dtype": "int32", "blocking": true, "bytes_matrix": [[0, 4, 4, 4], [1, 0, 2, 3], [0, 0, 0, 0], [5, 5, 5, 0]],
    "scaling": "per_pair"})"));
  doc["buckets"][0]["ops"][1]["scaling"] = "share";
  const plan::Plan p = plan::parse_plan(doc, "p.json");
  const auto& a2a = p.buckets[0].ops[3];
  EXPECT_EQ(a2a.op, plan::CollectiveOp::alltoallv);
  EXPECT_EQ(a2a.scaling, plan::SizeScaling::per_pair);
  EXPECT_EQ(a2a.bytes_matrix[3][1], 5);
  EXPECT_EQ(p.buckets[0].ops[1].scaling, plan::SizeScaling::share);
  EXPECT_EQ(plan::to_json(p).dump(), doc.dump());
  // The other ops keep their bytes: no matrix and no per_rank scaling written for them.
  const json allreduce = plan::to_json(p.buckets[0].ops[2]);
  EXPECT_EQ(allreduce.count("bytes_matrix"), 0u);
  EXPECT_EQ(allreduce.count("scaling"), 0u);
  EXPECT_EQ(plan::to_json(plan::parse_plan(recorded_plan(), "p.json")).dump(), recorded_plan().dump());
  // per_pair belongs to the all-to-all-v only; the matrix is world_size x world_size.
  json bad = doc;
  bad["buckets"][0]["ops"][1]["scaling"] = "per_pair";
  EXPECT_NE(error_of([&] { plan::parse_plan(bad, "p.json"); }).find("p.json: buckets[0].ops[1].scaling"),
            std::string::npos);
  bad = doc;
  bad["world_size"] = 2;
  bad["buckets"][0]["ops"][1]["bytes_by_rank"] = {800, 812};
  EXPECT_NE(error_of([&] { plan::parse_plan(bad, "p.json"); }).find("buckets[0].ops[3].bytes_matrix: expected 2 x 2"),
            std::string::npos);
}

TEST(PlanContract, StrictReaderNamesFileAndField) {
  json doc = recorded_plan();
  doc["buckets"][0]["ops"][2]["op"] = "alltoall";
  const std::string e = error_of([&] { plan::parse_plan(doc, "p.json"); });
  EXPECT_NE(e.find("p.json: buckets[0].ops[2].op"), std::string::npos) << e;
  EXPECT_NE(e.find("allreduce|allgather|allgatherv|broadcast|reduce_scatter"), std::string::npos) << e;
  doc = recorded_plan();
  doc["world_size"] = plan::kMaxWorldSize + 1;
  EXPECT_THROW(plan::parse_plan(doc, "p.json"), ConfigError);
  doc = recorded_plan();
  doc["buckets"][0]["ops"][1].erase("bytes_by_rank");
  EXPECT_THROW(plan::parse_plan(doc, "p.json"), ConfigError);
}

TEST(PlanContract, CollectiveOpTable) {
  for (const auto& e : plan::collective_ops()) {
    EXPECT_EQ(plan::parse_collective_op(std::string(e.name)), e.value);
    EXPECT_EQ(std::string(plan::to_string(e.value)), e.name);
  }
  EXPECT_EQ(plan::parse_collective_op("reducescatter"), plan::CollectiveOp::reduce_scatter);
  EXPECT_THROW(plan::parse_collective_op("alltoall"), std::invalid_argument);
}

TEST(ComputeContract, RoundTripAndTheOneSetOfRules) {
  const json doc = profile_doc();
  const compute::ComputeProfile p = compute::parse_compute_profile(doc, "c.json");
  EXPECT_EQ(p.layers.size(), 2u);
  EXPECT_DOUBLE_EQ(p.backward_s(), 0.006);
  ASSERT_TRUE(p.layers[1].cost);
  EXPECT_EQ(p.layers[1].cost->launches_backward, 2);
  EXPECT_EQ(compute::to_json(p).dump(), doc.dump());
}

TEST(ComputeContract, EveryKeyIsRequiredAndNamedWithItsPath) {
  for (const char* key : {"device", "forward_s", "optimizer_s", "layers"}) {
    json doc = profile_doc();
    doc.erase(key);
    const std::string e = error_of([&] { compute::parse_compute_profile(doc, "trace.json", "compute"); });
    EXPECT_NE(e.find(std::string("trace.json: compute.") + key), std::string::npos) << e;
  }
  json doc = profile_doc();
  doc["layers"][0].erase("forward_s");
  EXPECT_NE(error_of([&] { compute::parse_compute_profile(doc, "c.json"); }).find("c.json: layers[0].forward_s"),
            std::string::npos);
  doc = profile_doc();
  doc["layers"][1]["params"].push_back("l0.w");
  const std::string e = error_of([&] { compute::parse_compute_profile(doc, "c.json"); });
  EXPECT_NE(e.find("\"l0.w\" is also in layer \"l0\""), std::string::npos) << e;
  doc = profile_doc();
  doc["layers"][1]["cost"]["flops_forward"] = -1;
  EXPECT_THROW(compute::parse_compute_profile(doc, "c.json"), ConfigError);
  doc = profile_doc();
  doc["layers"][0]["cost"] = nullptr;  // null: no cost
  EXPECT_FALSE(compute::parse_compute_profile(doc, "c.json").layers[0].cost);
}
