// Kernel-timing sources (kernels/timing.hpp): calibration files are read and interpolated
// correctly, bad files give one clear error naming the file and the field, and the named-GPU model
// follows its documented formula. Runs in CI without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "kernels/timing.hpp"

namespace {

using arcsim::kernels::CalibrationFile;
using arcsim::kernels::CalibrationPoint;
using arcsim::kernels::KernelTimeModel;

// A small measured-style fixture: topk_select at three sizes, arc_sketch at one.
const char* kFixture = R"({
  "format": "arcsim-calibration/1",
  "measured": true,
  "device": "Fixture GPU",
  "driver": "12.4",
  "cuda_runtime": "13.0",
  "arcsim_commit": "test",
  "method": "fixture",
  "copy_bandwidth_Bps": 3.0e12,
  "kernels": {
    "topk_select": [
      {"elements": 1024, "bytes_moved": 4096, "median_s": 1.0e-5, "p10_s": 0.9e-5, "p90_s": 1.2e-5, "runs": 20},
      {"elements": 1048576, "bytes_moved": 4194304, "median_s": 4.0e-5, "p10_s": 3.9e-5, "p90_s": 4.2e-5, "runs": 20},
      {"elements": 268435456, "bytes_moved": 1073741824, "median_s": 1.0e-3, "p10_s": 0.98e-3, "p90_s": 1.1e-3, "runs": 20}
    ],
    "arc_sketch": [
      {"elements": 16777216, "bytes_moved": 67174400, "median_s": 2.5e-5, "runs": 20}
    ]
  }
})";

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("arcsim_timing_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
              std::to_string(counter_++) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json"))
                .string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

// The error message of loading `content`, "" if it loads.
std::string load_error(const std::string& content, std::string* path_out = nullptr) {
  TempFile f(content);
  if (path_out) *path_out = f.path();
  try {
    CalibrationFile::load(f.path());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(TimingCalibration, ExactAtGridPoints) {
  TempFile f(kFixture);
  const auto m = KernelTimeModel::from_spec("calibration:" + f.path());
  EXPECT_EQ(m.source(), "calibration:" + f.path());
  EXPECT_DOUBLE_EQ(m.seconds("topk_select", 1024, 4096), 1.0e-5);
  EXPECT_DOUBLE_EQ(m.seconds("topk_select", 1048576, 4194304), 4.0e-5);
  EXPECT_DOUBLE_EQ(m.seconds("topk_select", 268435456, 1073741824), 1.0e-3);
  EXPECT_DOUBLE_EQ(m.seconds("arc_sketch", 16777216, 67174400), 2.5e-5);
}

TEST(TimingCalibration, LogLogBetweenPointsAndMonotone) {
  TempFile f(kFixture);
  const auto m = KernelTimeModel::calibration(f.path());
  // At the geometric mean of two sizes, log-log interpolation gives the geometric mean of times.
  const double mid = std::sqrt(4096.0 * 4194304.0);
  EXPECT_NEAR(m.seconds("topk_select", 0, mid), std::sqrt(1.0e-5 * 4.0e-5), 1e-15);
  double prev = 0.0;
  for (double b = 4096; b <= 1073741824; b *= 1.37) {
    const double t = m.seconds("topk_select", 0, b);
    EXPECT_GE(t, prev) << b;
    EXPECT_GE(t, 1.0e-5);
    EXPECT_LE(t, 1.0e-3);
    prev = t;
  }
}

TEST(TimingCalibration, AffineExtrapolationBeyondTheEnds) {
  TempFile f(kFixture);
  const auto m = KernelTimeModel::calibration(f.path());
  // Above: the line through the two largest points (launch + bytes / bandwidth).
  const double slope_hi = (1.0e-3 - 4.0e-5) / (1073741824.0 - 4194304.0);
  EXPECT_NEAR(m.seconds("topk_select", 0, 2147483648.0), 1.0e-3 + slope_hi * 1073741824.0, 1e-15);
  EXPECT_NEAR(m.seconds("topk_select", 0, 4.0 * 1073741824.0), 1.0e-3 + slope_hi * 3.0 * 1073741824.0, 1e-15);
  // Below: the line through the two smallest points, never above the smallest point, never < 0.
  const double slope_lo = (4.0e-5 - 1.0e-5) / (4194304.0 - 4096.0);
  EXPECT_NEAR(m.seconds("topk_select", 0, 2048), 1.0e-5 - slope_lo * 2048, 1e-15);
  EXPECT_GE(m.seconds("topk_select", 0, 0), 0.0);
  EXPECT_LE(m.seconds("topk_select", 0, 0), 1.0e-5);
  // A single point: proportional above, flat below.
  EXPECT_DOUBLE_EQ(m.seconds("arc_sketch", 0, 2 * 67174400.0), 5.0e-5);
  EXPECT_DOUBLE_EQ(m.seconds("arc_sketch", 0, 1000.0), 2.5e-5);
}

TEST(TimingCalibration, MissingKernelNamesFileAndKernel) {
  TempFile f(kFixture);
  const auto m = KernelTimeModel::calibration(f.path());
  try {
    m.seconds("randk_gather", 10, 100);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(f.path()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("randk_gather"), std::string::npos) << e.what();
  }
}

TEST(TimingCalibration, RoundTripsThroughJson) {
  const CalibrationFile a = CalibrationFile::parse(kFixture, "fixture");
  const CalibrationFile b = CalibrationFile::parse(a.to_json(), "roundtrip");
  EXPECT_EQ(b.device, "Fixture GPU");
  EXPECT_TRUE(b.measured);
  ASSERT_EQ(b.kernels.size(), 2u);
  ASSERT_EQ(b.kernels.at("topk_select").size(), 3u);
  EXPECT_DOUBLE_EQ(b.kernels.at("topk_select")[1].median_s, 4.0e-5);
  EXPECT_DOUBLE_EQ(b.kernels.at("topk_select")[1].p90_s, 4.2e-5);
  EXPECT_EQ(b.kernels.at("topk_select")[2].elements, 268435456);
}

TEST(TimingCalibration, ModelledFileSaysSoInItsSource) {
  const std::string text = replace(kFixture, "\"measured\": true", "\"measured\": false");
  TempFile f(text);
  const auto m = KernelTimeModel::from_spec("calibration:" + f.path());
  EXPECT_NE(m.source().find("modelled"), std::string::npos) << m.source();
}

struct BadCase {
  const char* name;
  const char* from;
  const char* to;
  const char* field;  // must appear in the message
};

TEST(TimingCalibration, BadFilesGiveOneClearError) {
  const BadCase cases[] = {
      {"format", "arcsim-calibration/1", "arcsim-calibration/9", "format"},
      {"device missing", "\"device\": \"Fixture GPU\",", "", "device"},
      {"measured type", "\"measured\": true", "\"measured\": 1", "measured"},
      {"kernels empty", "\"kernels\": {", "\"kernels\": {}, \"unused\": {", "kernels"},
      {"median negative", "\"median_s\": 4.0e-5", "\"median_s\": -4.0e-5", "kernels.topk_select[1].median_s"},
      {"median string", "\"median_s\": 1.0e-3", "\"median_s\": \"fast\"", "kernels.topk_select[2].median_s"},
      {"bytes not increasing", "\"bytes_moved\": 4194304", "\"bytes_moved\": 4000", "kernels.topk_select[1].bytes_moved"},
      {"bytes missing", "\"elements\": 16777216, \"bytes_moved\": 67174400,", "\"elements\": 16777216,",
       "kernels.arc_sketch[0].bytes_moved"},
      {"p90 below median", "\"p90_s\": 4.2e-5", "\"p90_s\": 1.0e-6", "kernels.topk_select[1].p90_s"},
      {"table not array", "\"arc_sketch\": [", "\"arc_sketch\": 5, \"zzz\": [", "kernels.arc_sketch"},
  };
  for (const auto& c : cases) {
    const std::string text = replace(kFixture, c.from, c.to);
    std::string path;
    const std::string err = load_error(text, &path);
    ASSERT_FALSE(err.empty()) << c.name;
    EXPECT_EQ(err.find('\n'), std::string::npos) << c.name << ": " << err;
    EXPECT_EQ(err.rfind(path + ": ", 0), 0u) << c.name << ": " << err;
    EXPECT_NE(err.find(c.field), std::string::npos) << c.name << ": " << err;
  }
  std::string path;
  EXPECT_NE(load_error("{not json", &path).find(path), std::string::npos);
  try {
    CalibrationFile::load("/nonexistent/arcsim/cal.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/arcsim/cal.json"), std::string::npos);
  }
}

TEST(TimingModel, FollowsTheDocumentedFormula) {
  const auto m = KernelTimeModel::from_spec("model:H100-SXM");
  EXPECT_EQ(m.source(), "model:H100-SXM");
  EXPECT_DOUBLE_EQ(m.hbm_bandwidth_Bps(), 3.35e12);
  // arc_sketch: 1 launch + bytes / (3.35 TB/s * 0.90 copy efficiency * 0.85).
  const double bytes = 4096.0 * 4096 * 4 + 4096.0 * 4 * 4;
  EXPECT_NEAR(m.seconds("arc_sketch", 4096LL * 4096, bytes), 2.5e-6 + bytes / (3.35e12 * 0.90 * 0.85), 1e-12);
  // topk_select: 6 launches, two extra reads of the input (8 B per element) beyond bytes_moved.
  const double n = 1 << 28, k = n / 100;
  EXPECT_NEAR(m.seconds("topk_select", static_cast<std::int64_t>(n), 4 * n + 8 * k),
              6 * 2.5e-6 + (12 * n + 8 * k) / (3.35e12 * 0.90), 1e-12);
  // Faster GPUs are faster; more bytes take longer; an unknown kernel streams its bytes.
  const auto h200 = KernelTimeModel::model("H200");
  const auto pcie = KernelTimeModel::model("H100-PCIe");
  EXPECT_LT(h200.seconds("arc_gather_rows", 1000000, 8e6), pcie.seconds("arc_gather_rows", 1000000, 8e6));
  EXPECT_LT(m.seconds("average", 1000, 8e3), m.seconds("average", 1000000, 8e6));
  EXPECT_GT(m.seconds("some_new_kernel", 10, 1e9), 1e9 / 3.35e12);
  arcsim::kernels::KernelRecord rec;
  rec.name = "arc_sketch";
  rec.elements = 4096u * 4096u;
  rec.bytes_moved = static_cast<std::size_t>(bytes);
  EXPECT_DOUBLE_EQ(m.seconds(rec), m.seconds("arc_sketch", 4096LL * 4096, bytes));
  for (const auto& gpu : KernelTimeModel::known_gpus())
    EXPECT_EQ(KernelTimeModel::from_spec("model:" + gpu).source(), "model:" + gpu);
}

TEST(TimingModel, BadSpecsAreRejected) {
  EXPECT_THROW(KernelTimeModel::from_spec("model:P100"), std::invalid_argument);
  EXPECT_THROW(KernelTimeModel::from_spec("H100-SXM"), std::invalid_argument);
  EXPECT_THROW(KernelTimeModel::from_spec("calibration:"), std::invalid_argument);
  try {
    KernelTimeModel::from_spec("model:P100");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("H100-SXM"), std::string::npos) << e.what();
  }
  EXPECT_THROW(KernelTimeModel::model("H100-SXM").seconds("arc_sketch", -1, 10), std::invalid_argument);
}

TEST(TimingModel, EveryPlanKernelIsModelled) {
  const auto m = KernelTimeModel::model("A100");
  for (const auto& name : arcsim::kernels::plan_kernel_names()) EXPECT_GT(m.seconds(name, 1 << 20, 1 << 22), 0.0) << name;
}

}  // namespace
