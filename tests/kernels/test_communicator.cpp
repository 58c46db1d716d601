// EmulatedCommunicator (exact, fixed-order collectives) and RecordingCommunicator (the plan log).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/communicator.hpp"
#include "kernels/recording_communicator.hpp"

namespace arcsim::kernels {
namespace {

TEST(Emulated, AllreduceSumsInWorkerOrder) {
  EmulatedCommunicator comm(3);
  // (1e8 + 1) + -1e8 = 0 in float, while 1e8 + (1 + -1e8) = 8: the order is observable.
  const float a[] = {1e8f}, b[] = {1.0f}, c[] = {-1e8f};
  const float* in[] = {a, b, c};
  float out[1];
  comm.allreduce_sum(in, 1, out, true);
  EXPECT_EQ(out[0], (1e8f + 1.0f) + -1e8f);
}

TEST(Emulated, AllgatherConcatenatesInRankOrder) {
  EmulatedCommunicator comm(2);
  const std::int32_t a[] = {1, 2}, b[] = {3, 4};
  const void* in[] = {a, b};
  std::int32_t out[4];
  comm.allgather(in, 2, DType::kInt32, out, true);
  EXPECT_EQ(std::vector<std::int32_t>(out, out + 4), (std::vector<std::int32_t>{1, 2, 3, 4}));
}

TEST(Emulated, AllgathervAndBroadcast) {
  EmulatedCommunicator comm(2);
  const float a[] = {1}, b[] = {2, 3};
  const void* in[] = {a, b};
  const std::size_t counts[] = {1, 2};
  float out[3];
  comm.allgatherv(in, counts, DType::kFloat32, out, true);
  EXPECT_EQ(std::vector<float>(out, out + 3), (std::vector<float>{1, 2, 3}));
  float root[1];
  comm.broadcast(in, 1, DType::kFloat32, 1, root, true);
  EXPECT_EQ(root[0], 2.0f);
}

TEST(Emulated, WrongWorkerCountIsRejected) {
  EmulatedCommunicator comm(3);
  const float a[] = {1};
  const float* in[] = {a, a};
  float out[1];
  EXPECT_THROW(comm.allreduce_sum(in, 1, out, true), std::invalid_argument);
}

TEST(Recording, LogsCollectivesAndKernelsInProgramOrder) {
  EmulatedCommunicator inner(2);
  RecordingCommunicator rec(inner);
  std::vector<float> a(10, 1.0f), b(10, 2.0f), out(20);
  const float* in[] = {a.data(), b.data()};
  { KernelTimer t(rec, "k1", 10, 80, 2); }
  rec.allreduce_sum(in, 10, out.data(), false);
  EXPECT_EQ(out[0], 3.0f);  // forwarded to the inner communicator
  const void* vin[] = {a.data(), b.data()};
  const std::size_t counts[] = {3, 5};
  rec.allgatherv(vin, counts, DType::kFloat32, out.data(), true);
  const auto ops = rec.take_ops();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].kind, PlanOp::Kind::kKernel);
  EXPECT_EQ(ops[0].kernel.name, "k1");
  EXPECT_EQ(ops[0].kernel.duration_source, "measured-cpu");
  EXPECT_GE(ops[0].kernel.duration_s, 0.0);
  EXPECT_EQ(ops[1].op, "allreduce");
  EXPECT_EQ(ops[1].bytes_per_rank, 40u);
  EXPECT_FALSE(ops[1].blocking);
  EXPECT_EQ(ops[2].op, "allgatherv");
  EXPECT_EQ(ops[2].bytes_by_rank, (std::vector<std::size_t>{12, 20}));
  EXPECT_TRUE(rec.ops().empty());
  const auto j = ops_to_json(ops);
  EXPECT_EQ(j[1]["kind"], "collective");
  EXPECT_EQ(j[1]["dtype"], "float32");
  EXPECT_EQ(j[2]["bytes_by_rank"][1], 20);
}

}  // namespace
}  // namespace arcsim::kernels
