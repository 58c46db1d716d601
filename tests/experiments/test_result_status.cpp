// The result-status vocabulary: rows carry its names, and a row read back for resuming must hold
// one of them.
#include <string>

#include <gtest/gtest.h>

#include "experiments/result_status.hpp"
#include "experiments/results.hpp"

namespace ex = arcsim::experiments;

TEST(ResultStatus, TableNamesRoundTrip) {
  for (const auto& e : ex::kRowStatuses) {
    EXPECT_EQ(ex::status_name(e.value), e.name);
    EXPECT_EQ(ex::parse_status(std::string(e.name)), e.value);
  }
  EXPECT_EQ(ex::ResultRow{}.status, "pending");
}

TEST(ResultStatus, ARowWithAnUnknownStatusIsNotResumedFrom) {
  ex::ResultRow r;
  r.key = "k";
  r.compressor = {{"name", "dense"}, {"label", "dense"}};
  r.status = ex::status_name(ex::RowStatus::failed);
  r.error = "test";
  nlohmann::json j = ex::row_to_json(r);
  EXPECT_EQ(ex::row_from_json(j).status, "failed");
  j["status"] = "done";
  try {
    ex::row_from_json(j);
    FAIL() << "accepted status \"done\"";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "status: expected pending|ok|failed, got \"done\"");
  }
}
