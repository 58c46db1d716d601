// Trace format v1: write -> read round trip, and every corruption gives one error line naming
// the file and the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/atomic_file.hpp"
#include "common/npy.hpp"
#include "common/sha256.hpp"
#include "traces/trace.hpp"

namespace fs = std::filesystem;
using namespace arcsim::traces;
using namespace arcsim::io;
using nlohmann::json;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("arcsim_test_traces_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A small valid trace: 3 tensors, one sample of 2 workers, one convergence log.
Trace small_trace(const fs::path& dir, const std::string& dtype = "float32") {
  Trace t;
  t.name = "unit";
  t.layout.model = "toy";
  t.layout.parameters = {{"fc1.weight", {4, 3}, "float32", "fc1"},
                         {"fc1.bias", {4}, "float32", "fc1"},
                         {"fc2.weight", {2, 4}, "float32", "fc2"}};
  t.compute = ComputeProfile{"cpu: test", 0.002, 0.0001,
                             {{"fc1", {"fc1.weight", "fc1.bias"}, 0.001, 0.002, std::nullopt},
                              {"fc2", {"fc2.weight"}, 0.0005, 0.001, std::nullopt}}};
  std::vector<float> g(2 * 24);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = 0.01f * float(i) - 0.2f;
  Sample s;
  s.config = "dense";
  s.world = 4;
  s.step = 3;
  s.bucket = 0;
  s.tensors = {"fc2.weight", "fc1.bias", "fc1.weight"};
  s.workers = {0, 2};
  s.data = write_data_file(dir.string(), "samples/a.npy", {2, 24}, g, dtype);
  t.samples.push_back(s);
  ConvergenceLog c;
  c.config = "dense";
  c.world = 4;
  c.compressor = {{"compressor", "dense"}, {"ratio", 1.0}, {"ef", "none"}, {"seed", 1}};
  c.target_accuracy = 0.8;
  c.steps_to_target = 20;
  c.max_steps = 100;
  c.eval_every = 10;
  c.stopped = "target";
  c.wall_s = 1.5;
  c.points = {{0, 2.3, 0.1, {}}, {10, 1.0, 0.6, {}}, {20, 0.5, 0.85, {}}};
  t.convergence.push_back(c);
  t.provenance = {{"seed", 1}, {"command", "unit test"}, {"software", {{"torch", "1.13"}}}};
  write_trace(dir.string(), t);
  return t;
}

json load(const fs::path& dir) { return json::parse(arcsim::io::read_file((dir / "trace.json").string())); }
void save(const fs::path& dir, const json& j) { arcsim::io::write_file_atomic((dir / "trace.json").string(), j.dump(1)); }

// The error of validate_trace, or "" when valid.
std::string error_of(const fs::path& dir) {
  try {
    validate_trace(dir.string());
  } catch (const TraceError& e) {
    return e.what();
  }
  return "";
}

void expect_one_line_naming(const std::string& err, const std::string& file, const std::string& field) {
  EXPECT_NE(err, "");
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_NE(err.find(file), std::string::npos) << "file " << file << " not named in: " << err;
  EXPECT_NE(err.find(field), std::string::npos) << "field " << field << " not named in: " << err;
}

}  // namespace

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(TraceFormat, RoundTripKeepsEveryField) {
  const auto dir = fresh_dir("roundtrip");
  const Trace w = small_trace(dir);
  const Trace r = validate_trace(dir.string());
  EXPECT_EQ(to_json(r), to_json(w));
  ASSERT_EQ(r.layout.parameters.size(), 3u);
  EXPECT_EQ(r.layout.total_elements(), 24);
  EXPECT_EQ(r.layout.parameters[2].shape, (std::vector<std::int64_t>{2, 4}));
  ASSERT_TRUE(r.compute.has_value());
  EXPECT_DOUBLE_EQ(r.compute->layers[0].backward_s, 0.002);
  ASSERT_EQ(r.samples.size(), 1u);
  const auto g = load_sample(r, r.samples[0]);
  ASSERT_EQ(g.size(), 48u);
  EXPECT_FLOAT_EQ(g[5], 0.01f * 5 - 0.2f);
  EXPECT_EQ(r.convergence[0].steps_to_target, std::optional<std::int64_t>(20));
}

TEST(TraceFormat, Float16SamplesRoundToNearest) {
  const auto dir = fresh_dir("fp16");
  small_trace(dir, "float16");
  const Trace r = validate_trace(dir.string());
  const auto g = load_sample(r, r.samples[0]);
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], 0.01f * float(i) - 0.2f, 5e-4f);
}

TEST(TraceFormat, LayoutOnlyTraceIsValid) {
  const auto dir = fresh_dir("layout_only");
  small_trace(dir);
  json j = load(dir);
  j["samples"] = json::array();
  j["convergence"] = json::array();
  j["synthetic"] = {{"distribution", "lognormal-rows/1"}, {"seed", 3}};
  save(dir, j);
  EXPECT_EQ(error_of(dir), "");
}

TEST(TraceCorruption, UnknownVersion) {
  const auto dir = fresh_dir("version");
  small_trace(dir);
  json j = load(dir);
  j["format"] = "arcsim-trace/2";
  save(dir, j);
  expect_one_line_naming(error_of(dir), "trace.json", "format");
}

TEST(TraceCorruption, ShapeNotMatchingLayout) {
  const auto dir = fresh_dir("shape");
  small_trace(dir);
  json j = load(dir);
  j["layout"]["parameters"][0]["shape"] = {4, 4};  // fc1.weight grows: the sample no longer fits
  save(dir, j);
  const std::string err = error_of(dir);
  expect_one_line_naming(err, "trace.json", "samples[0].data.shape");
  EXPECT_NE(err.find("[2, 28]"), std::string::npos) << err;
}

TEST(TraceCorruption, TruncatedNpy) {
  const auto dir = fresh_dir("truncated");
  small_trace(dir);
  const auto f = dir / "samples/a.npy";
  fs::resize_file(f, fs::file_size(f) - 7);
  const std::string err = error_of(dir);
  expect_one_line_naming(err, "samples/a.npy", "samples[0].data");
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
}

TEST(TraceCorruption, FlippedByteIsAChecksumError) {
  const auto dir = fresh_dir("flip");
  small_trace(dir);
  const auto f = dir / "samples/a.npy";
  std::string bytes = arcsim::io::read_file(f.string());
  bytes[bytes.size() - 10] ^= 0x01;
  arcsim::io::write_file_atomic(f.string(), bytes);
  const std::string err = error_of(dir);
  expect_one_line_naming(err, "samples/a.npy", "samples[0].data.sha256");
  EXPECT_NE(err.find("sha256"), std::string::npos);
}

TEST(TraceCorruption, NanAndInfInSamples) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    const auto dir = fresh_dir("nan");
    small_trace(dir);
    json j = load(dir);
    std::vector<float> g(48, 0.5f);
    g[17] = bad;
    // A consistent file (right checksum) whose values are not finite.
    const std::string bytes = arcsim::io::npy_bytes_f32({2, 24}, g);
    arcsim::io::write_file_atomic((dir / "samples/a.npy").string(), bytes);
    j["samples"][0]["data"]["sha256"] = sha256_hex(bytes);
    save(dir, j);
    const std::string err = error_of(dir);
    expect_one_line_naming(err, "samples/a.npy", "samples[0].data");
    EXPECT_NE(err.find("finite"), std::string::npos) << err;
    EXPECT_NE(err.find("index 17"), std::string::npos) << err;
  }
}

TEST(TraceCorruption, MissingFile) {
  const auto dir = fresh_dir("missing");
  small_trace(dir);
  fs::remove(dir / "samples/a.npy");
  expect_one_line_naming(error_of(dir), "samples/a.npy", "samples[0].data");
}

TEST(TraceCorruption, UnknownKeysAreRefused) {
  const auto dir = fresh_dir("unknown");
  small_trace(dir);
  json j = load(dir);
  j["convergence"][0]["stepz_to_target"] = 3;
  save(dir, j);
  expect_one_line_naming(error_of(dir), "trace.json", "convergence[0].stepz_to_target");
  j = load(dir);
  j["convergence"][0].erase("stepz_to_target");
  j["layout"]["parameters"][1]["shap"] = {4};
  save(dir, j);
  expect_one_line_naming(error_of(dir), "trace.json", "layout.parameters[1].shap");
}

TEST(TraceCorruption, InconsistentDerivedFields) {
  const auto dir = fresh_dir("derived");
  small_trace(dir);
  json j = load(dir);
  j["convergence"][0]["steps_to_target"] = 10;  // the curve first reaches 0.8 at step 20
  save(dir, j);
  expect_one_line_naming(error_of(dir), "trace.json", "convergence[0].steps_to_target");
  j = load(dir);
  j["samples"][0]["workers"] = {0, 4};  // world is 4
  save(dir, j);
  expect_one_line_naming(error_of(dir), "trace.json", "samples[0].workers");
  j = load(dir);
  j["compute"]["layers"][1]["params"] = json::array();  // fc2.weight is in no layer
  save(dir, j);
  expect_one_line_naming(error_of(dir), "trace.json", "compute.layers");
}

TEST(TraceCorruption, NotADirectoryOrNoTraceJson) {
  const auto dir = fresh_dir("empty");
  expect_one_line_naming(error_of(dir), "trace.json", "cannot open");
  expect_one_line_naming(error_of(dir / "nope"), "nope", "directory");
}
