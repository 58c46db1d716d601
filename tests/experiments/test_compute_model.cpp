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
  const ex::ComputeChoice c = ex::choose_compute("trace", trace_with(std::nullopt));
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
  const ex::ComputeChoice c = ex::choose_compute("model:H100-SXM", trace_with(k));
  EXPECT_NEAR(c.profile.layers[0].forward_s, std::max(2e9 / (494.7e12 * 0.4), 1 * g.launch_s), 1e-15);
  EXPECT_NEAR(c.profile.layers[0].backward_s, std::max(4e9 / (494.7e12 * 0.4), 2 * g.launch_s), 1e-15);
  EXPECT_GT(c.profile.forward_s, c.profile.layers[0].forward_s);  // + the loss's launches
  EXPECT_GT(c.profile.optimizer_s, 0);
  EXPECT_EQ(c.source.rfind("model:H100-SXM (roofline", 0), 0u) << c.source;
}

TEST(ComputeModel, MissingOrUnknownCostIsAnErrorNamingTheLayer) {
  try {
    ex::choose_compute("model:A100", trace_with(std::nullopt));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer \"fc\" has no cost"), std::string::npos) << e.what();
  }
  tr::LayerCost u;
  u.unknown = "module type Dropout2d";
  try {
    ex::choose_compute("model:A100", trace_with(u));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Dropout2d"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ex::choose_compute("model:NoSuchGPU", trace_with(u)), std::invalid_argument);
}

TEST(ComputeModel, WarnsWhenACpuTraceTimesAGpuClusterNetwork) {
  auto t = trace_with(std::nullopt);
  const auto w = ex::cpu_compute_warning("trace", t, {"nccl"});
  EXPECT_NE(w.find("recorded on the CPU (cpu: test (measured))"), std::string::npos) << w;
  EXPECT_NE(w.find("model:GPU"), std::string::npos) << w;
  EXPECT_EQ(ex::cpu_compute_warning("model:H100-SXM", t, {"nccl"}), "");  // re-timed for a GPU
  EXPECT_EQ(ex::cpu_compute_warning("trace", t, {"gloo", "ideal"}), "");   // a CPU cluster's network
  t.compute->device = "cuda: NVIDIA A100 (measured)";
  EXPECT_EQ(ex::cpu_compute_warning("trace", t, {"nccl"}), "");            // recorded on a GPU
}
