#pragma once
// A Transport whose ranks are threads of one process (test helper): the byte collectives of
// kernels/process_group_communicator.hpp carried by memcpy between threads, each collective
// fenced by a barrier. It stands in for a real process group in tests that need P ranks with one
// worker each, without processes or sockets.
#include <barrier>
#include <cstring>
#include <span>
#include <vector>

#include "kernels/process_group_communicator.hpp"

namespace arcsim::kernels::testing {

struct ThreadGroup {
  explicit ThreadGroup(int ranks)
      : size(ranks), barrier(ranks), buf(static_cast<std::size_t>(ranks)), sizes(static_cast<std::size_t>(ranks)) {}
  int size;
  std::barrier<> barrier;
  std::vector<const void*> buf;                 // each rank's posted buffer
  std::vector<const std::size_t*> sizes;        // each rank's posted send sizes (alltoallv)
};

class ThreadTransport final : public Transport {
 public:
  ThreadTransport(ThreadGroup& group, int rank) : g_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.size; }

  void allgatherv(const void* in, std::span<const std::size_t> bytes, void* out) override {
    post(in);
    std::size_t at = 0;
    for (std::size_t s = 0; s < bytes.size(); ++s) {
      if (bytes[s]) std::memcpy(static_cast<char*>(out) + at, g_.buf[s], bytes[s]);
      at += bytes[s];
    }
    g_.barrier.arrive_and_wait();
  }
  void alltoallv(const void* in, std::span<const std::size_t> send, void* out,
                 std::span<const std::size_t> recv) override {
    g_.sizes[static_cast<std::size_t>(rank_)] = send.data();
    post(in);
    std::size_t at = 0;
    for (std::size_t s = 0; s < recv.size(); ++s) {
      std::size_t from = 0;
      for (int d = 0; d < rank_; ++d) from += g_.sizes[s][d];
      if (recv[s]) std::memcpy(static_cast<char*>(out) + at, static_cast<const char*>(g_.buf[s]) + from, recv[s]);
      at += recv[s];
    }
    g_.barrier.arrive_and_wait();
  }
  void broadcast(void* buf, std::size_t bytes, int root) override {
    post(buf);
    if (rank_ != root && bytes) std::memcpy(buf, g_.buf[static_cast<std::size_t>(root)], bytes);
    g_.barrier.arrive_and_wait();
  }
  // A sum order unlike the emulated one (highest rank first), as a library's may be.
  void allreduce_sum_f32(float* buf, std::size_t count) override {
    post(buf);
    std::vector<float> sum(count, 0.0f);
    for (int s = g_.size - 1; s >= 0; --s) {
      const float* x = static_cast<const float*>(g_.buf[static_cast<std::size_t>(s)]);
      for (std::size_t i = 0; i < count; ++i) sum[i] += x[i];
    }
    g_.barrier.arrive_and_wait();
    std::memcpy(buf, sum.data(), count * sizeof(float));
  }

 private:
  void post(const void* p) {
    g_.buf[static_cast<std::size_t>(rank_)] = p;
    g_.barrier.arrive_and_wait();
  }
  ThreadGroup& g_;
  int rank_;
};

}  // namespace arcsim::kernels::testing
