// common/: the hardened utilities every reader and writer shares.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "common/npy.hpp"
#include "common/units.hpp"
#include "tests/common/error_of.hpp"

namespace fs = std::filesystem;
using arcsim::json::ConfigError;

namespace {

using arcsim::testing::error_of;

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("arcsim-common-" + std::to_string(::getpid())) / name;
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Json, DuplicateKeysAreRefusedAtAnyDepth) {
  const auto e = error_of([] { arcsim::json::parse_text(R"({"a": {"b": [1, {"c": 1, "c": 2}]}})", "f.json"); });
  EXPECT_EQ(e, "f.json: a.b[1].c: duplicate key (expected each key once in an object)");
  EXPECT_NO_THROW(arcsim::json::parse_text(R"([{"c": 1}, {"c": 2}])", "f.json"));  // same key, two objects
}

TEST(Json, OverflowNamesFileAndField) {
  const auto e = error_of([] { arcsim::json::parse_text(R"({"x": [0, 1e999]})", "f.json"); });
  EXPECT_NE(e.find("f.json: x[1]: expected a number a double can hold"), std::string::npos) << e;
  EXPECT_NE(e.find("1e999"), std::string::npos) << e;
  EXPECT_EQ(e.find("overflow parsing"), std::string::npos) << e;
}

TEST(Json, DepthAndMalformedAndDirectories) {
  EXPECT_NE(error_of([] { arcsim::json::parse_text(std::string(100000, '['), "f.json"); }).find("nested at most"),
            std::string::npos);
  EXPECT_NE(error_of([] { arcsim::json::parse_text("{\n \"a\": }", "f.json"); }).find("line 2"), std::string::npos);
  const auto d = scratch("dir");
  EXPECT_NE(error_of([&] { arcsim::json::load_file(d.string()); }).find("is a directory"), std::string::npos);
}

TEST(Json, HugeUnsignedIsNotAnInteger) {
  const auto j = arcsim::json::parse_text(R"({"n": 18446744073709551615})", "f.json");
  arcsim::json::Fields f(j, "f.json", "");
  EXPECT_NE(error_of([&] { f.integer("n"); }).find("below 2^63"), std::string::npos);
}

TEST(Units, OverflowIsRefused) {
  EXPECT_THROW(arcsim::units::parse_size_bytes("1e30"), std::invalid_argument);
  EXPECT_THROW(arcsim::units::parse_bandwidth_Bps("1e308Tbps"), std::invalid_argument);
  EXPECT_THROW(arcsim::units::parse_time_s("1e308h"), std::invalid_argument);
  EXPECT_DOUBLE_EQ(arcsim::units::parse_size_bytes("4GiB"), 4294967296.0);
}

TEST(Npy, ShapeProductOverflowIsRefused) {
  const auto d = scratch("npy");
  const std::string path = (d / "x.npy").string();
  std::string bytes = arcsim::io::npy_bytes_f32({2, 2}, {1, 2, 3, 4});
  const auto at = bytes.find("(2, 2)");
  bytes.replace(at, 6, "(4294967296, 4294967296, 2)");
  bytes[8] = static_cast<char>(bytes.find('\n') - 9);  // header length of the edited header
  {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  const auto e = error_of([&] { arcsim::io::read_npy(path); });
  EXPECT_NE(e.find("fits 64 bits"), std::string::npos) << e;
}

TEST(AtomicFile, RefusesNonRegularTargetsAndLeavesNoTemporaries) {
  EXPECT_NE(error_of([] { arcsim::io::write_file_atomic("/dev/null", "x"); }).find("character device"),
            std::string::npos);
  const auto d = scratch("atomic");
  const std::string fifo = (d / "fifo").string();
  ::mkfifo(fifo.c_str(), 0600);
  EXPECT_NE(error_of([&] { arcsim::io::write_file_atomic(fifo, "x"); }).find("FIFO"), std::string::npos);
  EXPECT_NE(error_of([&] { arcsim::io::read_file(fifo); }).find("FIFO"), std::string::npos);
  const std::string good = (d / "good").string(), bad = (d / "no" / "bad").string();
  EXPECT_THROW(arcsim::io::write_files_atomic({{good, "new"}, {bad, "x"}}), std::runtime_error);
  EXPECT_FALSE(fs::exists(good));  // all or nothing
  arcsim::io::write_file_atomic(good, "v1");
  EXPECT_EQ(arcsim::io::read_file(good), "v1");
  for (const auto& e : fs::directory_iterator(d))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_NE(error_of([] { arcsim::io::read_file("/dev/zero"); }).find("character device"), std::string::npos);
  EXPECT_NE(error_of([&] { arcsim::io::read_file(good, 1); }).find("at most 1 bytes"), std::string::npos);
}

TEST(Format, SafeNameIsOneToOne) {
  EXPECT_NE(arcsim::io::safe_name("a/b"), arcsim::io::safe_name("a_b"));
  EXPECT_EQ(arcsim::io::safe_name("a/b"), "a%2Fb");
  EXPECT_EQ(arcsim::io::safe_name("topk-0.2"), "topk-0.2");
  EXPECT_NE(arcsim::io::safe_name("a%2Fb"), arcsim::io::safe_name("a/b"));
}

TEST(Format, EscapeTextNeutralizesControlsAndBidiAndCaps) {
  using arcsim::io::escape_text;
  EXPECT_EQ(escape_text("plain name"), "plain name");
  EXPECT_EQ(escape_text("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(escape_text("a\nb\x7f"), "a\\x0ab\\x7f");
  EXPECT_EQ(escape_text("x\u202ey\u2066z\u200e"), "x\\u202ey\\u2066z\\u200e");
  EXPECT_EQ(escape_text("caf\u00e9"), "caf\u00e9");     // UTF-8 text is kept
  EXPECT_EQ(escape_text("\xc2\x9b" "1m"), "\\x9b1m");  // C1 CSI
  EXPECT_EQ(escape_text("\xff\xc3"), "\\xff\\xc3");    // not UTF-8
  EXPECT_EQ(escape_text(std::string(10000000, 'x')), std::string(200, 'x') + "...");
}

TEST(Units, SizesInTerabytesAndPetabytes) {
  EXPECT_DOUBLE_EQ(arcsim::units::parse_size_bytes("1TiB"), 1099511627776.0);
  EXPECT_DOUBLE_EQ(arcsim::units::parse_size_bytes("2TB"), 2e12);
  EXPECT_DOUBLE_EQ(arcsim::units::parse_size_bytes("8PiB"), 9007199254740992.0);
  EXPECT_THROW(arcsim::units::parse_size_bytes("9PiB"), std::invalid_argument);
  EXPECT_DOUBLE_EQ(arcsim::units::parse_size_bytes("1PB"), 1e15);
}
