#pragma once
// Timing harness for GPU kernels, shared by `arcsim calibrate` and the benchmark driver
// (bench/gpu/): cudaEvent timing on one stream, warm-up calls, the L2 cache flushed before every
// sample by writing a scratch buffer larger than any L2 (so no sample reads a warm cache), the
// median and the 10th/90th percentiles of the samples, and the same-size device-to-device copy
// that every kernel is compared with. Clocks are left as found. Compiles with g++ (no CUDA types).
#include <cstddef>
#include <functional>

#include "kernels/cuda/device_kernels.hpp"

namespace arcsim::cuda {

struct TimingStats {
  double median_s = 0.0, p10_s = 0.0, p90_s = 0.0;
  int runs = 0;
};

// Owns device memory (cudaMalloc / cudaFree); zero bytes gives a valid 1-byte allocation.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(p_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

class GpuBench {
 public:
  // 256 MiB: several times the L2 of an A100 (40 MB), H100 (50 MB) or H200 (60 MB).
  static constexpr std::size_t kDefaultFlushBytes = std::size_t{256} << 20;
  explicit GpuBench(std::size_t flush_bytes = kDefaultFlushBytes);
  ~GpuBench();
  GpuBench(const GpuBench&) = delete;
  GpuBench& operator=(const GpuBench&) = delete;

  Stream stream() const { return stream_; }
  // Times `enqueue` (which must put its work on the given stream): `warmup` untimed calls, then
  // `runs` samples, each preceded by an L2 flush outside the timed region.
  TimingStats time(const std::function<void(Stream)>& enqueue, int runs = 20, int warmup = 3);
  // A device-to-device copy of `bytes` (reads `bytes`, writes `bytes`), timed the same way.
  TimingStats time_copy(std::size_t bytes, int runs = 20);
  void synchronize();

 private:
  void flush_l2();
  Stream stream_ = nullptr;
  void* flush_ = nullptr;
  std::size_t flush_bytes_;
  void* start_ = nullptr;  // cudaEvent_t
  void* stop_ = nullptr;
  unsigned flush_value_ = 0;
};

}  // namespace arcsim::cuda
