// Spec validation: every bad key, type and unit is one ConfigError line naming the file and field.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "experiments/spec.hpp"
#include "common/json_fields.hpp"

namespace ex = arcsim::experiments;
using nlohmann::json;

namespace {

json valid_spec() {
  return json::parse(R"({
    "trace": "../traces/default",
    "compressors": [{"name": "dense"}, {"name": "topk", "ratio": 0.2, "ef": "ef14", "ramp": true},
                    {"name": "arctopk", "ratio": 0.2, "rank": 4}],
    "nodes": [8, 16],
    "bandwidths": ["1Gbps", "100Gbps"],
    "latencies": ["5us"],
    "topologies": ["star"],
    "profiles": ["nccl"],
    "target": {"metric": "accuracy", "value": 0.85}
  })");
}

// Parses j and returns the error message; fails the test when nothing is thrown.
std::string error_of(const json& j, const std::string& file = "dir/exp.json") {
  try {
    ex::parse_spec(j, file);
  } catch (const arcsim::json::ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ConfigError: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << j.dump();
  return "";
}

// One line, starting with the file, naming the field.
void expect_one_line_naming(const std::string& msg, const std::string& field) {
  EXPECT_EQ(msg.rfind("dir/exp.json: " + field + ":", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

}  // namespace

TEST(SpecValidation, ValidSpecParsesWithDefaults) {
  const ex::ExperimentSpec s = ex::parse_spec(valid_spec(), "dir/exp.json");
  EXPECT_EQ(s.name, "exp");
  EXPECT_EQ(s.trace, "traces/default");  // relative to the spec's directory, normalised
  ASSERT_EQ(s.compressors.size(), 3u);
  EXPECT_EQ(s.compressors[1].label, "topk");
  EXPECT_EQ(s.compressors[1].effective_ramp_steps(), 100);
  EXPECT_DOUBLE_EQ(s.bandwidths_Bps[0], 1e9 / 8);
  EXPECT_DOUBLE_EQ(s.latencies_s[0], 5e-6);
  EXPECT_EQ(s.algorithm, "auto");
  EXPECT_EQ(s.kernel_timing, "model:H100-SXM");
  EXPECT_DOUBLE_EQ(s.bucket_cap_bytes, 25.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(s.point_timeout_s, 600);
  EXPECT_EQ(ex::expand_points(s).size(), 3u * 2 * 2);
}

TEST(SpecValidation, UnknownTopLevelKey) {
  json j = valid_spec();
  j["bandwith"] = "1Gbps";
  const std::string m = error_of(j);
  expect_one_line_naming(m, "bandwith");
  EXPECT_NE(m.find("unknown key"), std::string::npos) << m;
}

TEST(SpecValidation, UnknownCompressorKey) {
  json j = valid_spec();
  j["compressors"][1]["colour"] = "red";
  expect_one_line_naming(error_of(j), "compressors[1].colour");
}

TEST(SpecValidation, RankOnTopkIsRefused) {
  json j = valid_spec();
  j["compressors"][1]["rank"] = 4;
  const std::string m = error_of(j);
  expect_one_line_naming(m, "compressors[1].rank");
  EXPECT_NE(m.find("topk"), std::string::npos) << m;
}

TEST(SpecValidation, UnknownCompressorName) {
  json j = valid_spec();
  j["compressors"][0]["name"] = "qsgd";  // not a registry compressor
  expect_one_line_naming(error_of(j), "compressors[0].name");
}

TEST(SpecValidation, UnitlessBandwidth) {
  json j = valid_spec();
  j["bandwidths"] = json::array({"1Gbps", 100});
  expect_one_line_naming(error_of(j), "bandwidths[1]");
  j["bandwidths"] = json::array({"1Gbps", "100"});
  expect_one_line_naming(error_of(j), "bandwidths[1]");
}

TEST(SpecValidation, NegativeLatency) {
  json j = valid_spec();
  j["latencies"] = json::array({"-5us"});
  expect_one_line_naming(error_of(j), "latencies[0]");
  j["latencies"] = json::array({5});
  expect_one_line_naming(error_of(j), "latencies[0]");
}

TEST(SpecValidation, RatioZeroOrAboveOne) {
  for (double r : {0.0, 1.5, -0.1}) {
    json j = valid_spec();
    j["compressors"][2]["ratio"] = r;
    const std::string m = error_of(j);
    expect_one_line_naming(m, "compressors[2].ratio");
    EXPECT_NE(m.find("(0, 1]"), std::string::npos) << m;
  }
  json j = valid_spec();
  j["compressors"][2]["ratio"] = "0.2";
  expect_one_line_naming(error_of(j), "compressors[2].ratio");
}

TEST(SpecValidation, EmptyNodesList) {
  json j = valid_spec();
  j["nodes"] = json::array();
  expect_one_line_naming(error_of(j), "nodes");
  j["nodes"] = json::array({8, 0});
  expect_one_line_naming(error_of(j), "nodes[1]");
  j["nodes"] = json::array({8, 8});
  expect_one_line_naming(error_of(j), "nodes[1]");
  j["nodes"] = json::array({8, "16"});
  expect_one_line_naming(error_of(j), "nodes[1]");
}

TEST(SpecValidation, MissingRequiredKey) {
  json j = valid_spec();
  j.erase("nodes");  // (bandwidths may be absent: the topologies' own apply)
  const std::string m = error_of(j);
  expect_one_line_naming(m, "nodes");
  EXPECT_NE(m.find("missing"), std::string::npos) << m;
}

TEST(SpecValidation, UnknownProfile) {
  json j = valid_spec();
  j["profiles"] = json::array({"nccl", "infiniband"});
  const std::string m = error_of(j);
  expect_one_line_naming(m, "profiles[1]");
  EXPECT_NE(m.find("infiniband"), std::string::npos) << m;
}

TEST(SpecValidation, OtherBadValues) {
  auto with = [](const char* key, json v) {
    json j = valid_spec();
    j[key] = std::move(v);
    return j;
  };
  expect_one_line_naming(error_of(with("algorithm", "hypercube")), "algorithm");
  expect_one_line_naming(error_of(with("collectives", "maybe")), "collectives");
  expect_one_line_naming(error_of(with("kernel_timing", "gpu")), "kernel_timing");
  expect_one_line_naming(error_of(with("point_timeout", 30)), "point_timeout");
  expect_one_line_naming(error_of(with("target", json{{"metric", "accuracy"}, {"value", 85}})), "target.value");
  // Another metric needs its direction; with it, it is accepted.
  expect_one_line_naming(error_of(with("target", json{{"metric", "f1"}, {"value", 0.5}})), "target.mode");
  expect_one_line_naming(error_of(with("target", json{{"metric", "f1"}, {"value", 0.5}, {"mode", "up"}})),
                         "target.mode");
  expect_one_line_naming(error_of(with("target", json{{"metric", ""}, {"value", 0.5}})), "target.metric");
  expect_one_line_naming(error_of(with("compute", "gpu")), "compute");
  expect_one_line_naming(error_of(with("compute", "model:")), "compute");
  expect_one_line_naming(error_of(with("replay", json{{"workers", 1}})), "replay.workers");
  expect_one_line_naming(error_of(with("replay", json{{"threads", 2}})), "replay.threads");
  expect_one_line_naming(error_of(with("seed", -1)), "seed");
  json j = valid_spec();
  j["compressors"][1]["ef"] = "ef99";
  expect_one_line_naming(error_of(j), "compressors[1].ef");
  j = valid_spec();
  j["compressors"][2]["rank"] = 0;
  expect_one_line_naming(error_of(j), "compressors[2].rank");
  j = valid_spec();
  j["compressors"].push_back({{"name", "topk"}, {"ratio", 0.2}});
  j["compressors"].push_back({{"name", "topk"}, {"ratio", 0.2}});
  expect_one_line_naming(error_of(j), "compressors[3].label");
}

TEST(SpecValidation, MalformedJsonFileNamesTheFile) {
  const auto path = std::filesystem::temp_directory_path() / ("arcsim-bad-spec-" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << "{\"trace\": \"x\", \"nodes\": [8,, 16]}";
  }
  std::string m;
  try {
    ex::parse_spec_file(path.string());
  } catch (const arcsim::json::ConfigError& e) {
    m = e.what();
  }
  std::filesystem::remove(path);
  EXPECT_EQ(m.rfind(path.string() + ": malformed JSON", 0), 0u) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(SpecValidation, ShippedDefaultSpecParses) {
  const ex::ExperimentSpec s = ex::parse_spec_file(std::string(ARCSIM_SOURCE_DIR) + "/experiments/default.json");
  EXPECT_EQ(s.compressors.size(), 4u);
  EXPECT_EQ(ex::expand_points(s).size(), 4u * 4 * 4);
}

TEST(SpecValidation, TargetDirectionAndComputeSource) {
  json j = valid_spec();
  j["target"] = {{"metric", "perplexity"}, {"value", 30}};
  j["compute"] = "model:H100-SXM";
  const ex::ExperimentSpec s = ex::parse_spec(j, "dir/exp.json");
  ASSERT_TRUE(s.target);
  EXPECT_EQ(s.target->mode, "min");  // perplexity falls
  EXPECT_TRUE(s.target->reached_by(29));
  EXPECT_FALSE(s.target->reached_by(31));
  EXPECT_EQ(s.compute.to_json(), "model:H100-SXM");
  j["target"] = {{"metric", "f1"}, {"value", 0.7}, {"mode", "max"}};
  EXPECT_TRUE(ex::parse_spec(j, "dir/exp.json").target->reached_by(0.71));
  EXPECT_EQ(ex::parse_spec(valid_spec(), "dir/exp.json").compute.to_json(), "trace");
}
