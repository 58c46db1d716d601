// The spec takes exactly the simulator's algorithms and profiles (one table each), and its
// errors list those tables.
#include <string>

#include <gtest/gtest.h>

#include "common/json_fields.hpp"
#include "experiments/spec.hpp"
#include "sim/algorithms.hpp"
#include "sim/profile.hpp"

namespace ex = arcsim::experiments;
using nlohmann::json;

namespace {

json spec() {
  return json::parse(R"({"trace": "../traces/default", "compressors": [{"name": "dense"}], "nodes": [8],
                         "bandwidths": ["100Gbps"], "latencies": ["5us"], "topologies": ["star"]})");
}

std::string error_of(const json& j) {
  try {
    ex::parse_spec(j, "exp.json");
  } catch (const arcsim::json::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SpecVocabularies, EverySimulatorAlgorithmIsAccepted) {
  for (const auto& name : arcsim::sim::algorithm_names()) {
    json j = spec();
    j["algorithm"] = name;
    EXPECT_EQ(ex::parse_spec(j, "exp.json").algorithm, name);
  }
  json j = spec();
  j["algorithm"] = "magic";
  EXPECT_EQ(error_of(j), "exp.json: algorithm: expected one of " + arcsim::vocab::names(arcsim::sim::algorithms()) +
                             ", got \"magic\"");
}

TEST(SpecVocabularies, EveryProfileIsAcceptedAndTheErrorListsThem) {
  for (const auto& e : arcsim::sim::profiles()) {
    json j = spec();
    j["profiles"] = std::string(e.name);
    EXPECT_EQ(ex::parse_spec(j, "exp.json").profiles, std::vector<std::string>{std::string(e.name)});
  }
  json j = spec();
  j["profiles"] = {"nccl", "fast"};
  const std::string e = error_of(j);
  EXPECT_NE(e.find("exp.json: profiles[1]: expected a network profile, one of ideal|nccl|tcp|gloo"), std::string::npos) << e;
}
