// The worker-streamed replay step (experiments/replay_stream.hpp) against kernels::Compressor on a
// fresh bucket: aggregate bits, plan ops (everything but the measured durations) and the metrics'
// doubles must be identical, for every streamed configuration, on both CPU backends, on inputs
// with ties and signed zeros; and whole replays with and without streaming give the same plan.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "experiments/replay.hpp"
#include "experiments/replay_stream.hpp"
#include "kernels/backend.hpp"
#include "kernels/compressor.hpp"
#include "kernels/error_feedback.hpp"
#include "traces/buckets.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {
namespace {

namespace k = arcsim::kernels;
using nlohmann::json;

// Plan ops without their measured durations.
json ops_without_durations(const std::vector<k::PlanOp>& ops) {
  json j = k::ops_to_json(ops);
  for (auto& op : j) op.erase("duration_s");
  return j;
}

std::vector<float> inputs(std::size_t n, int workers, int kind, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n * static_cast<std::size_t>(workers));
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (kind == 0) x[i] = normal(g);
    else if (kind == 1) x[i] = (i % 3 == 0) ? 0.5f : -0.5f;                          // ties
    else x[i] = (g() % 3 == 0) ? normal(g) : ((g() & 1) ? 0.0f : -0.0f);             // signed zeros
  }
  return x;
}

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void expect_same_step(const k::CompressorConfig& cfg, k::Backend& be, int W, int kind) {
  k::BucketLayout layout;
  layout.shapes = {{37, 19}, {301}, {6, 4, 3, 3}, {5, 2}, {1000}};
  layout.names = {"w", "b", "conv", "small", "bias"};
  const std::size_t n = layout.numel();
  const std::vector<float> g = inputs(n, W, kind, 11 + static_cast<std::uint64_t>(kind));
  std::vector<const float*> ptr;
  for (int w = 0; w < W; ++w) ptr.push_back(g.data() + static_cast<std::size_t>(w) * n);
  // EF21/EF21M's dense start: the Compressor's first call on other gradients, as the replay does.
  const bool dense_start = k::is_ef21_family(cfg.ef) && cfg.ef21_init == "dense";
  const std::vector<float> g0 = inputs(n, W, (kind + 1) % 3, 23 + static_cast<std::uint64_t>(kind));
  std::vector<const float*> ptr0;
  for (int w = 0; w < W; ++w) ptr0.push_back(g0.data() + static_cast<std::size_t>(w) * n);
  std::vector<float> agg_ref(n), agg(n);
  k::Compressor comp(W, cfg, be);
  if (dense_start) comp.step(3, layout, ptr0, agg_ref.data());
  const k::StepReport ref = comp.step(3, layout, ptr, agg_ref.data());
  int calls = 0;
  const WorkerGradients prime = [&](int w, float* out) {
    std::memcpy(out, ptr0[static_cast<std::size_t>(w)], n * sizeof(float));
  };
  const k::StepReport got = stream_step(
      cfg, W, 3, layout,
      [&](int w, float* out) {
        ++calls;
        std::memcpy(out, ptr[static_cast<std::size_t>(w)], n * sizeof(float));
      },
      be, agg.data(), dense_start ? &prime : nullptr);
  const std::string what = cfg.to_json().dump() + " backend " + be.name() + " W " + std::to_string(W) + " kind " +
                           std::to_string(kind);
  EXPECT_EQ(calls, cfg.compressor == "arctopk" ? 2 * W : W) << what;
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(bits(agg[i]), bits(agg_ref[i])) << what << " element " << i;
  EXPECT_EQ(ops_without_durations(got.ops), ops_without_durations(ref.ops)) << what;
  EXPECT_EQ(got.phase, ref.phase) << what;
  EXPECT_EQ(got.call, ref.call) << what;
  EXPECT_EQ(got.k, ref.k) << what;
  EXPECT_EQ(got.k_unit, ref.k_unit) << what;
  EXPECT_EQ(got.values_per_rank, ref.values_per_rank) << what;
  EXPECT_EQ(got.relative_error, ref.relative_error) << what;   // the same doubles, not nearly
  EXPECT_EQ(got.retained_energy, ref.retained_energy) << what;
  EXPECT_EQ(got.grad_energy, ref.grad_energy) << what;
  EXPECT_EQ(got.row_recall, ref.row_recall) << what;
  EXPECT_EQ(got.backend, ref.backend) << what;
  for (const auto& op : got.ops) {
    if (op.kind == k::PlanOp::Kind::kKernel) {
      EXPECT_EQ(op.kernel.duration_source, be.duration_source()) << what;
    }
  }
}

TEST(ReplayStream, SameStepAsTheCompressorForEveryStreamedConfiguration) {
  std::vector<k::CompressorConfig> cfgs;
  k::CompressorConfig dense;
  cfgs.push_back(dense);
  // Every error feedback: none, EF14, EF21 and EF21M (both momentum forms; from the dense start and from zero).
  struct Ef {
    const char* ef;
    const char* init;
    const char* momentum;
  };
  for (const Ef& f : {Ef{"none", "dense", "ema"}, Ef{"ef14", "dense", "ema"}, Ef{"ef21", "dense", "ema"},
                      Ef{"ef21", "zero", "ema"}, Ef{"ef21m", "dense", "ema"}, Ef{"ef21m", "dense", "heavy-ball"},
                      Ef{"ef21m", "zero", "ema"}}) {
    auto with_ef = [&](k::CompressorConfig c) {
      c.ef = f.ef;
      c.ef21_init = f.init;
      c.momentum = f.momentum;
      return c;
    };
    k::CompressorConfig c = with_ef(k::CompressorConfig{});
    c.ratio = 0.1;
    c.compressor = "topk";
    cfgs.push_back(c);
    c.compressor = "randk";
    cfgs.push_back(c);
    c.unbiased = true;
    c.seed = 5;
    cfgs.push_back(c);
    c = with_ef(k::CompressorConfig{});
    c.compressor = "arctopk";
    c.ratio = 0.2;
    for (const char* rule : {"rows", "reference"})
      for (const char* scores : {"sketch", "exact"})
        for (const char* ar : {"tensor", "bucket"}) {
          if (std::string(rule) == "reference") continue;  // its >2-D rule needs 2 t^2 | numel
          c.shape_rule = rule;
          c.row_scores = scores;
          c.sketch_allreduce = ar;
          c.rank = std::string(ar) == "bucket" ? 1 : 4;
          cfgs.push_back(c);
        }
  }
  for (const auto& c : cfgs) {
    ASSERT_TRUE(can_stream(c)) << c.to_json().dump();
    for (k::Backend* be : {&k::reference_backend(), &k::cpu_backend()})
      for (int W : {2, 3})
        for (int kind : {0, 1, 2}) expect_same_step(c, *be, W, kind);
  }
}

TEST(ReplayStream, RefusesWhatItDoesNotStreamAndNonFiniteGradients) {
  k::CompressorConfig c;
  c.compressor = "topk";
  c.ef = "ef21";
  EXPECT_TRUE(can_stream(c));
  c.value_dtype = "bf16";
  EXPECT_FALSE(can_stream(c));
  c.value_dtype = "fp32";
  c.ef = "ef14";
  c.warmup = 1;
  EXPECT_FALSE(can_stream(c));
  c.warmup = 0;
  c.ramp = true;
  EXPECT_FALSE(can_stream(c));
  c.ramp = false;
  EXPECT_TRUE(can_stream(c));
  k::BucketLayout layout;
  layout.shapes = {{10, 10}};
  std::vector<float> agg(100);
  try {
    stream_step(c, 2, 0, layout,
                [](int w, float* out) {
                  for (int i = 0; i < 100; ++i) out[i] = (w == 1 && i == 7) ? NAN : 1.0f;
                },
                k::cpu_backend(), agg.data());
    FAIL() << "NaN accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("worker 1, element 7"), std::string::npos) << e.what();
  }
}

// Whole replays of the shipped traces: streaming every bucket (threshold 0) gives the plan (less
// durations) and the quality numbers of the Compressor path, on synthetic and recorded gradients.
void expect_same_replay(const traces::Trace& trace, const k::CompressorConfig& cfg, int workers) {
  const std::string& dir = trace.dir;
  traces::BucketOptions opt;
  opt.first_cap_bytes = 16 << 10;
  opt.cap_bytes = 64 << 10;
  const auto buckets = traces::ddp_buckets(trace.layout, opt);
  GradientSource src(trace, buckets, workers, "");
  const ShapePlan a = replay_shape(src, cfg, 0, nullptr, k::cpu_backend(), nullptr, std::size_t(-1));
  const ShapePlan b = replay_shape(src, cfg, 0, nullptr, k::cpu_backend(), nullptr, 0);
  json pa = plan::to_json(a.plan), pb = plan::to_json(b.plan);
  for (json* p : {&pa, &pb})
    for (auto& bucket : (*p)["buckets"])
      for (auto& op : bucket["ops"]) op.erase("duration_s");
  EXPECT_EQ(pa, pb) << dir << " " << cfg.to_json().dump();
  EXPECT_EQ(a.relative_error, b.relative_error) << dir;
  EXPECT_EQ(a.retained_energy, b.retained_energy) << dir;
}

TEST(ReplayStream, WholeReplaysMatchTheCompressorPath) {
  k::CompressorConfig topk;
  topk.compressor = "topk";
  topk.ratio = 0.05;
  topk.ef = "ef14";
  k::CompressorConfig arc;
  arc.compressor = "arctopk";
  arc.ratio = 0.1;
  arc.rank = 1;
  arc.ef = "ef14";
  const traces::Trace recorded = traces::read_trace(std::string(ARCSIM_SOURCE_DIR) + "/traces/default");
  ASSERT_FALSE(recorded.samples.empty());
  traces::Trace synthetic;
  synthetic.dir = "synthetic-test";
  synthetic.layout.parameters = {{"emb.weight", {500, 64}, "float32", "emb"},
                                 {"l1.weight", {128, 64}, "float32", "l1"},
                                 {"l1.bias", {128}, "float32", "l1"},
                                 {"conv.weight", {16, 8, 3, 3}, "float32", "conv"},
                                 {"head.weight", {10, 128}, "float32", "head"}};
  k::CompressorConfig ef21 = topk;  // the dense start on the previous sample, then the compressed call
  ef21.ef = "ef21";
  k::CompressorConfig ef21m = arc;
  ef21m.ef = "ef21m";
  for (const auto& c : {topk, arc, ef21, ef21m}) {
    expect_same_replay(recorded, c, 2);
    expect_same_replay(synthetic, c, 3);
  }
}

}  // namespace
}  // namespace arcsim::experiments
