// EF21 from a zero state, heavy-ball momentum, and values/indices on the wire as fp16/bf16/int64.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compress_fixture.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/wire.hpp"

namespace arcsim::kernels {
namespace {

using testing::run_step;

std::vector<std::vector<float>> grads(int workers, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<std::vector<float>> g(workers, std::vector<float>(n));
  for (auto& w : g)
    for (auto& x : w) x = d(rng);
  return g;
}

BucketLayout flat(std::size_t n) {
  BucketLayout l;
  l.shapes = {{static_cast<std::int64_t>(n)}};
  return l;
}

TEST(Ef21Init, ZeroStartsCompressedAndKeepsTheEf21Invariant) {
  const std::size_t n = 64;
  Compressor dense_init(3, build_config("topk", {{"ratio", 0.25}, {"ef", "ef21"}}));
  Compressor zero_init(3, build_config("topk", {{"ratio", 0.25}, {"ef", "ef21"}, {"ef21_init", "zero"}}));
  const auto g = grads(3, n, 7);
  EXPECT_EQ(run_step(dense_init, flat(n), g).report.phase, "ef21-init-dense");
  const auto r = run_step(zero_init, flat(n), g);
  EXPECT_EQ(r.report.phase, "compressed");
  // From e = 0: e_w = C(g_w), the output is their mean = Top-K aggregate of g.
  Compressor plain(3, build_config("topk", {{"ratio", 0.25}}));
  const auto p = run_step(plain, flat(n), g);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(r.agg[i], p.agg[i]) << i;
  // Invariant: the output is the mean of the error states (in worker order, float32).
  const auto r2 = run_step(zero_init, flat(n), grads(3, n, 8));
  for (std::size_t i = 0; i < n; ++i) {
    double m = 0;
    for (int w = 0; w < 3; ++w) m += zero_init.error(0, w)[i];
    EXPECT_NEAR(r2.agg[i], m / 3, 1e-5) << i;
  }
}

TEST(Momentum, HeavyBallIsBetaTimesTheOldPlusTheNew) {
  const std::size_t n = 32;
  // Dense-ratio Top-K (ratio 1) so C is the identity and e follows h exactly.
  Compressor c(2, build_config("topk", {{"ratio", 1.0}, {"ef", "ef21m"}, {"ef21_init", "zero"},
                                        {"momentum", "heavy-ball"}, {"beta", 0.5}}));
  const auto g1 = grads(2, n, 1), g2 = grads(2, n, 2);
  run_step(c, flat(n), g1);
  run_step(c, flat(n), g2);
  for (int w = 0; w < 2; ++w)
    for (std::size_t i = 0; i < n; ++i) {  // h2 = 0.5 h1 + g2 with h1 = g1; e2 = e1 + (h2 - e1), e1 = h1
      const float h2 = std::fma(0.5f, g1[w][i], g2[w][i]);
      EXPECT_EQ(c.error(0, w)[i], g1[w][i] + (h2 - g1[w][i])) << w << " " << i;
    }
}

TEST(Wire, HalfAndBfloat16RoundToNearestEven) {
  EXPECT_EQ(float_to_half_bits(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half_bits(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half_bits(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half_bits(1e6f), 0x7c00);                 // overflow -> inf
  EXPECT_EQ(float_to_half_bits(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half_bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie -> even
  EXPECT_EQ(float_to_half_bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(float_to_bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie -> even
  for (float x : {0.1f, -3.75f, 1234.5f, 6e-5f, 3e-8f})
    for (DType t : {DType::kFloat16, DType::kBFloat16}) {
      const float r = round_to_wire(x, t);
      EXPECT_EQ(round_to_wire(r, t), r) << x;  // idempotent
      EXPECT_LE(std::fabs(r - x), std::fabs(x) * (t == DType::kFloat16 ? 1e-3 : 8e-3) + 6e-8) << x;
    }
}

TEST(Wire, TopKValuesAndIndicesTravelAsChosen) {
  const std::size_t n = 100;
  const auto g = grads(4, n, 3);
  Compressor half(4, build_config("topk", {{"ratio", 0.1}, {"value_dtype", "fp16"}, {"index_dtype", "int64"}}));
  Compressor full(4, build_config("topk", {{"ratio", 0.1}}));
  const auto h = run_step(half, flat(n), g), f = run_step(full, flat(n), g);
  std::vector<std::size_t> bytes_h, bytes_f;
  for (const auto& op : h.report.ops)
    if (op.kind == PlanOp::Kind::kCollective) bytes_h.push_back(op.bytes_per_rank);
  for (const auto& op : f.report.ops)
    if (op.kind == PlanOp::Kind::kCollective) bytes_f.push_back(op.bytes_per_rank);
  EXPECT_EQ(bytes_f, (std::vector<std::size_t>{40, 40}));
  EXPECT_EQ(bytes_h, (std::vector<std::size_t>{20, 80}));
  // The same positions; each value is the sum of fp16-rounded contributions, / 4.
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(h.agg[i] == 0.0f, f.agg[i] == 0.0f) << i;
    EXPECT_NEAR(h.agg[i], f.agg[i], 2e-3) << i;  // each contribution (|v| < 4) within 2^-11 relative
  }
}

TEST(Wire, AllReduceRoundsContributionsAndTheSum) {
  EmulatedCommunicator comm(2);
  const std::vector<float> a = {1.0f + std::ldexp(1.0f, -12)}, b = {1.0f};
  std::vector<const float*> in = {a.data(), b.data()};
  float out = 0;
  comm.allreduce_sum(in, 1, &out, true, DType::kFloat16);
  EXPECT_EQ(out, 2.0f);  // a rounds to 1 in half precision
  Compressor arc(2, build_config("randk", {{"ratio", 0.5}, {"value_dtype", "bf16"}}));
  const auto r = run_step(arc, flat(8), grads(2, 8, 4));
  for (const auto& op : r.report.ops)
    if (op.kind == PlanOp::Kind::kCollective) { EXPECT_EQ(op.bytes_per_rank, 8u); }  // 4 values x 2 bytes
}

}  // namespace
}  // namespace arcsim::kernels
