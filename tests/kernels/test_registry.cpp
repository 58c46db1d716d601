// The compressor registry and option table: every entry is complete, options are checked by the
// table, presets apply and explicit options override them.
#include <gtest/gtest.h>

#include <set>

#include "compress_fixture.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"

namespace arcsim::kernels {
namespace {

using nlohmann::json;

TEST(Registry, EveryEntryIsCompleteAndItsOptionsExist) {
  std::set<std::string> names;
  for (const auto& e : compressor_registry()) {
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    EXPECT_FALSE(e.description.empty()) << e.name;
    EXPECT_TRUE(e.k_unit == "elements" || e.k_unit == "rows" || e.k_unit == "rank") << e.name;
    ASSERT_TRUE(e.make) << e.name;
    for (const auto& o : e.options) EXPECT_NE(find_option(o), nullptr) << e.name << " lists unknown option " << o;
    CompressorConfig c = build_config(e.name, json::object());
    EXPECT_NE(e.make(c), nullptr) << e.name;
  }
  EXPECT_EQ(names.count("dense"), 1u);
  std::set<std::string> options;
  for (const auto& o : option_table()) EXPECT_TRUE(options.insert(o.name).second) << "duplicate option " << o.name;
}

TEST(Registry, UnknownCompressorErrorListsTheValidNames) {
  try {
    compressor_entry("zip");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("zip"), std::string::npos);
    for (const auto& n : compressor_names()) EXPECT_NE(m.find(n), std::string::npos) << n;
  }
}

TEST(Options, ValuesAreCheckedByTheTable) {
  EXPECT_THROW(build_config("topk", {{"ratio", 0.0}}), std::invalid_argument);
  EXPECT_THROW(build_config("topk", {{"ratio", 1.5}}), std::invalid_argument);
  EXPECT_THROW(build_config("topk", {{"ef", "ef99"}}), std::invalid_argument);
  EXPECT_THROW(build_config("arctopk", {{"rank", 0}}), std::invalid_argument);
  EXPECT_THROW(build_config("arctopk", {{"rank", 2.5}}), std::invalid_argument);
  EXPECT_THROW(build_config("topk", {{"ramp", "yes"}}), std::invalid_argument);
  EXPECT_THROW(build_config("topk", {{"value_dtype", "fp8"}}), std::invalid_argument);
  EXPECT_EQ(build_config("topk", json::object()).ratio, 0.2);  // the table's default
}

TEST(Options, AnOptionTheCompressorDoesNotTakeIsRefusedByName) {
  try {
    build_config("topk", {{"rank", 8}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("rank: does not apply to topk", 0), 0u) << e.what();
  }
  EXPECT_THROW(build_config("dense", {{"ratio", 0.5}}), std::invalid_argument);
  try {
    build_config("topk", {{"eta", 0.5}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ef21m"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(build_config("topk", {{"eta", 0.5}, {"ef", "ef21m"}}));
  EXPECT_EQ(build_config("randk", {{"unbiased", true}}).unbiased, true);  // the alias of rescale
}

TEST(Presets, ReferenceSetsTheAuthorsOptionsAndExplicitOptionsWin) {
  const CompressorConfig a = build_config("arctopk", {{"preset", "reference"}});
  EXPECT_EQ(a.shape_rule, "reference");
  EXPECT_EQ(a.warmup, 10);
  EXPECT_EQ(a.ef21_init, "zero");
  EXPECT_EQ(a.momentum, "heavy-ball");
  EXPECT_EQ(a.beta, 0.5);
  const CompressorConfig t = build_config("topk", {{"preset", "reference"}, {"warmup", 3}});
  EXPECT_TRUE(t.ramp);
  EXPECT_EQ(t.warmup, 3);
  EXPECT_EQ(build_config("topk", {{"preset", "reference"}, {"ramp", false}}).ramp, false);
  EXPECT_THROW(build_config("dense", {{"preset", "reference"}}), std::invalid_argument);
  EXPECT_THROW(build_config("arctopk", {{"preset", "paper"}}), std::invalid_argument);
}

TEST(Options, PlanJsonOfClassicConfigurationsKeepsItsKeys) {
  // Plans written before the registry must keep their bytes: new options appear only when set.
  const json j = build_config("randk", {{"ratio", 0.1}}).to_json();
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"name", "ratio", "ef", "seed", "warmup", "ramp", "unbiased"}));
  const json z = build_config("topk", {{"ef", "ef21"}, {"ef21_init", "zero"}, {"value_dtype", "fp16"}}).to_json();
  EXPECT_EQ(z["ef21_init"], "zero");
  EXPECT_EQ(z["value_dtype"], "fp16");
}

}  // namespace
}  // namespace arcsim::kernels
