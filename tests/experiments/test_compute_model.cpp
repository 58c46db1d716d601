// compute "model:<GPU>": each layer re-timed from its recorded cost as a roofline with a
// per-kernel launch floor; missing or unknown costs are errors naming the layer.
#include <gtest/gtest.h>

#include <stdexcept>

#include "experiments/compute_model.hpp"

namespace ex = arcsim::experiments;
namespace tr = arcsim::traces;

namespace {

tr::Trace trace_with(std::optional<tr::LayerCost> cost) {
  tr::Trace t;
  t.layout.model = "m";
  t.layout.parameters.push_back({"fc.weight", {1000, 1000}, "float32", "fc"});
  tr::ComputeProfile c;
  c.device = "cpu: test (measured)";
  c.forward_s = 0.5;
  c.optimizer_s = 0.25;
  tr::LayerTime l;
  l.name = "fc";
  l.params = {"fc.weight"};
  l.forward_s = 0.1;
  l.backward_s = 0.2;
  l.cost = cost;
  c.layers.push_back(l);
  t.compute = c;
  return t;
}

}  // namespace

TEST(ComputeModel, TraceKeepsTheRecordedTimes) {
  const ex::ComputeChoice c = ex::choose_compute(ex::compute_settings("trace"), trace_with(std::nullopt));
  EXPECT_DOUBLE_EQ(c.profile.layers[0].forward_s, 0.1);
  EXPECT_DOUBLE_EQ(c.profile.forward_s, 0.5);
  EXPECT_EQ(c.source, "trace (cpu: test (measured))");
}

TEST(ComputeModel, RooflineWithLaunchFloor) {
  const ex::GpuCompute g = ex::gpu_compute("H100-SXM", "float32");
  EXPECT_DOUBLE_EQ(g.peak_flops, 494.7e12);
  EXPECT_GT(g.hbm_Bps, 1e12);
  EXPECT_GT(g.launch_s, 0);
  // Tiny: the floor; FLOP-bound; memory-bound.
  EXPECT_DOUBLE_EQ(ex::roofline_seconds(g, 1e3, 1e3, 3), 3 * g.launch_s);
  EXPECT_NEAR(ex::roofline_seconds(g, 1e15, 1e3, 1), 1e15 / (494.7e12 * 0.4), 1e-9);
  EXPECT_NEAR(ex::roofline_seconds(g, 1, 1e12, 1), 1e12 / (g.hbm_Bps * 0.9), 1e-9);

  tr::LayerCost k;
  k.flops_forward = 2e9;  // 2 x 1000 x 1000 x batch 1000
  k.flops_backward = 4e9;
  k.bytes_forward = k.bytes_backward = 8e6;
  k.launches_forward = 1;
  k.launches_backward = 2;
  const ex::ComputeChoice c = ex::choose_compute(ex::compute_settings("model:H100-SXM"), trace_with(k));
  EXPECT_NEAR(c.profile.layers[0].forward_s, std::max(2e9 / (494.7e12 * 0.4), 1 * g.launch_s), 1e-15);
  EXPECT_NEAR(c.profile.layers[0].backward_s, std::max(4e9 / (494.7e12 * 0.4), 2 * g.launch_s), 1e-15);
  EXPECT_GT(c.profile.forward_s, c.profile.layers[0].forward_s);  // + the loss's launches
  EXPECT_GT(c.profile.optimizer_s, 0);
  EXPECT_EQ(c.source.rfind("model:H100-SXM (roofline", 0), 0u) << c.source;
}

TEST(ComputeModel, MissingOrUnknownCostIsAnErrorNamingTheLayer) {
  try {
    ex::choose_compute(ex::compute_settings("model:A100"), trace_with(std::nullopt));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer \"fc\" has no cost"), std::string::npos) << e.what();
  }
  tr::LayerCost u;
  u.unknown = "module type Dropout2d";
  try {
    ex::choose_compute(ex::compute_settings("model:A100"), trace_with(u));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Dropout2d"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ex::choose_compute(ex::compute_settings("model:NoSuchGPU"), trace_with(u)), std::invalid_argument);
}

TEST(ComputeModel, WarnsWhenACpuTraceTimesAGpuClusterNetwork) {
  auto t = trace_with(std::nullopt);
  const auto w = ex::cpu_compute_warning(ex::compute_settings("trace"), t, {"nccl"});
  EXPECT_NE(w.find("recorded on the CPU (cpu: test (measured))"), std::string::npos) << w;
  EXPECT_NE(w.find("model:GPU"), std::string::npos) << w;
  EXPECT_EQ(ex::cpu_compute_warning(ex::compute_settings("model:H100-SXM"), t, {"nccl"}), "");  // re-timed for a GPU
  EXPECT_EQ(ex::cpu_compute_warning(ex::compute_settings("trace"), t, {"gloo", "ideal"}), "");   // a CPU cluster's network
  t.compute->device = "cuda: NVIDIA A100 (measured)";
  EXPECT_EQ(ex::cpu_compute_warning(ex::compute_settings("trace"), t, {"nccl"}), "");            // recorded on a GPU
}

namespace {

tr::LayerCost big_matmul() {
  tr::LayerCost k;
  k.flops_forward = 2e12;
  k.flops_backward = 4e12;
  k.bytes_forward = k.bytes_backward = 8e6;
  k.launches_forward = 1;
  k.launches_backward = 2;
  return k;
}

ex::ComputeSettings settings(const nlohmann::json& j) { return ex::parse_compute_settings(j, "s.json", "compute", ""); }

}  // namespace

TEST(ComputeSettings, MfuPrecisionFloorOptimizerAndFixedCostEachMoveTheirPart) {
  const tr::Trace t = trace_with(big_matmul());
  const auto base = ex::choose_compute(settings({{"model", "A100"}}), t).profile;
  const auto half_mfu = ex::choose_compute(settings({{"model", "A100"}, {"mfu", 0.2}}), t).profile;
  EXPECT_NEAR(half_mfu.layers[0].forward_s / base.layers[0].forward_s, 2.0, 1e-9);  // FLOP-bound layer
  const auto fp32 = ex::choose_compute(settings({{"model", "A100"}, {"matmul_precision", "fp32"}}), t).profile;
  EXPECT_NEAR(fp32.layers[0].forward_s / base.layers[0].forward_s, 156.0 / 19.5, 1e-9);  // TF32 -> FP32 cores
  const auto bf16 = ex::choose_compute(settings({{"model", "A100"}, {"matmul_precision", "bf16"}}), t).profile;
  EXPECT_NEAR(base.layers[0].forward_s / bf16.layers[0].forward_s, 2.0, 1e-9);
  const auto floor = ex::choose_compute(settings({{"model", "A100"}, {"kernel_floor_us", 100000}}), t).profile;
  EXPECT_DOUBLE_EQ(floor.layers[0].backward_s, 0.2);  // 2 launches at 0.1 s
  const auto sgd = ex::choose_compute(settings({{"model", "A100"}, {"optimizer", "sgd"}}), t).profile;
  EXPECT_NEAR(base.optimizer_s / sgd.optimizer_s, 28.0 / 20.0, 1e-9);  // memory-bound: bytes per element
  const auto fixed = ex::choose_compute(settings({{"model", "A100"}, {"fixed_step_s", 0.021}}), t);
  EXPECT_DOUBLE_EQ(fixed.profile.fixed_s, 0.021);
  EXPECT_EQ(base.fixed_s, 0);
  EXPECT_NE(fixed.source.find("fixed_step_s 0.021"), std::string::npos) << fixed.source;
  // The recorded times take a fixed cost too.
  EXPECT_DOUBLE_EQ(ex::choose_compute(settings({{"model", "trace"}, {"fixed_step_s", 0.5}}), t).profile.fixed_s, 0.5);
}

TEST(ComputeSettings, BadSettingsNameTheKey) {
  auto error_of = [](const nlohmann::json& j) {
    try {
      settings(j);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"model", "A100"}, {"mfu", 1.5}}).find("s.json: compute.mfu: expected a fraction"), std::string::npos);
  EXPECT_NE(error_of({{"model", "A100"}, {"matmul_precision", "int8"}}).find("compute.matmul_precision"), std::string::npos);
  EXPECT_NE(error_of({{"model", "trace"}, {"mfu", 0.3}}).find("compute.mfu: expected a GPU model"), std::string::npos);
  EXPECT_NE(error_of({{"model", "A100"}, {"fixed_step_s", -1}}).find("compute.fixed_step_s"), std::string::npos);
  EXPECT_NE(error_of({{"model", "A100"}, {"mfu_typo", 1}}).find("mfu_typo"), std::string::npos);
  EXPECT_NE(error_of("missing.json").find("an existing compute settings file"), std::string::npos);
  EXPECT_THROW(ex::choose_compute(settings({{"model", "A100"}, {"optimizer", "lion"}}), trace_with(big_matmul())),
               std::invalid_argument);
}

TEST(ComputeSettings, CanonicalJsonRoundTripsAndPlainModelsStayStrings) {
  EXPECT_EQ(settings("model:H100-SXM").to_json(), "model:H100-SXM");
  EXPECT_EQ(settings({{"model", "H100-SXM"}}).to_json(), "model:H100-SXM");
  const nlohmann::json full = {{"model", "A100"}, {"mfu", 0.3}, {"kernel_floor_us", 8.0}, {"matmul_precision", "fp32"},
                               {"optimizer", "adamw"}, {"fixed_step_s", 0.021}};
  EXPECT_EQ(settings(full).to_json(), full);
  EXPECT_EQ(settings(settings(full).to_json()).label(), settings(full).label());
}
