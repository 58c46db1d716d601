// Units and strict JSON fields: the parsing every config goes through.
#include <gtest/gtest.h>

#include <stdexcept>

#include "common/json_fields.hpp"
#include "common/units.hpp"

using namespace arcsim;

TEST(Units, Bandwidth) {
  EXPECT_DOUBLE_EQ(units::parse_bandwidth_Bps("100Gbps"), 12.5e9);
  EXPECT_DOUBLE_EQ(units::parse_bandwidth_Bps("12.5GBps"), 12.5e9);
  EXPECT_DOUBLE_EQ(units::parse_bandwidth_Bps("1Mbps"), 125000.0);
  EXPECT_THROW(units::parse_bandwidth_Bps("100"), std::invalid_argument);      // unit-less
  EXPECT_THROW(units::parse_bandwidth_Bps("-1Gbps"), std::invalid_argument);   // negative
  EXPECT_THROW(units::parse_bandwidth_Bps("0Gbps"), std::invalid_argument);
  EXPECT_THROW(units::parse_bandwidth_Bps("10Gbit"), std::invalid_argument);   // unknown unit
}

TEST(Units, TimeAndSize) {
  EXPECT_DOUBLE_EQ(units::parse_time_s("5us"), 5e-6);
  EXPECT_DOUBLE_EQ(units::parse_time_s("1.5ms"), 1.5e-3);
  EXPECT_THROW(units::parse_time_s("5"), std::invalid_argument);
  EXPECT_THROW(units::parse_time_s("-5us"), std::invalid_argument);
  EXPECT_DOUBLE_EQ(units::parse_size_bytes("25MiB"), 25.0 * 1048576);
  EXPECT_DOUBLE_EQ(units::parse_size_bytes("1000"), 1000.0);
}

TEST(JsonFields, UnknownKeyAndBadTypeNameTheField) {
  nlohmann::json j = {{"nodes", 8}, {"bandwidht", "1Gbps"}};
  json::Fields f(j, "exp.json", "network");
  EXPECT_EQ(f.integer("nodes"), 8);
  try {
    f.finish();
    FAIL() << "unknown key accepted";
  } catch (const json::ConfigError& e) {
    EXPECT_STREQ(e.what(), "exp.json: network.bandwidht: unknown key");
  }
  nlohmann::json k = {{"bandwidth", 100}};
  json::Fields g(k, "exp.json", "");
  try {
    g.bandwidth("bandwidth");
    FAIL() << "number accepted as bandwidth";
  } catch (const json::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.json: bandwidth: expected a bandwidth"), std::string::npos);
  }
}
