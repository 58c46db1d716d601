// GpuBench / DeviceBuffer (kernels/cuda/gpu_bench.hpp), on the CUDA runtime API.
#include "kernels/cuda/gpu_bench.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace arcsim::cuda {

namespace {
void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

// Linear-interpolated percentile of sorted samples (q in [0, 1]).
double percentile(const std::vector<double>& s, double q) {
  if (s.empty()) return 0.0;
  const double pos = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - static_cast<double>(lo)) * (s[hi] - s[lo]);
}
}  // namespace

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  check(cudaMalloc(&p_, bytes ? bytes : 1), "cudaMalloc");
}
DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);
}
DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr; }

GpuBench::GpuBench(std::size_t flush_bytes) : flush_bytes_(flush_bytes) {
  check(cudaStreamCreateWithFlags(reinterpret_cast<cudaStream_t*>(&stream_), cudaStreamNonBlocking),
        "cudaStreamCreate");
  check(cudaMalloc(&flush_, flush_bytes_), "cudaMalloc (L2 flush buffer)");
  check(cudaEventCreate(reinterpret_cast<cudaEvent_t*>(&start_)), "cudaEventCreate");
  check(cudaEventCreate(reinterpret_cast<cudaEvent_t*>(&stop_)), "cudaEventCreate");
}

GpuBench::~GpuBench() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
  cudaFree(flush_);
  cudaStreamDestroy(stream_);
}

void GpuBench::synchronize() { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

// Writing the whole scratch buffer (a different byte each time, so nothing can elide it) evicts
// every line of the inputs from L2; it runs before the start event, outside the measurement.
void GpuBench::flush_l2() {
  check(cudaMemsetAsync(flush_, static_cast<int>(++flush_value_ & 0xff), flush_bytes_, stream_), "L2 flush");
}

TimingStats GpuBench::time(const std::function<void(Stream)>& enqueue, int runs, int warmup) {
  if (runs < 1) throw std::invalid_argument("GpuBench::time: runs must be >= 1");
  for (int i = 0; i < warmup; ++i) enqueue(stream_);
  check(cudaGetLastError(), "warm-up launch");
  synchronize();
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    flush_l2();
    check(cudaEventRecord(static_cast<cudaEvent_t>(start_), stream_), "cudaEventRecord");
    enqueue(stream_);
    check(cudaEventRecord(static_cast<cudaEvent_t>(stop_), stream_), "cudaEventRecord");
    check(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)), "kernel under test");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)),
          "cudaEventElapsedTime");
    samples.push_back(static_cast<double>(ms) * 1e-3);
  }
  std::sort(samples.begin(), samples.end());
  TimingStats s;
  s.median_s = percentile(samples, 0.5);
  s.p10_s = percentile(samples, 0.1);
  s.p90_s = percentile(samples, 0.9);
  s.runs = runs;
  return s;
}

TimingStats GpuBench::time_copy(std::size_t bytes, int runs) {
  DeviceBuffer src(bytes), dst(bytes);
  check(cudaMemsetAsync(src.as<void>(), 1, bytes ? bytes : 1, stream_), "memset");
  return time(
      [&](Stream s) {
        check(cudaMemcpyAsync(dst.as<void>(), src.as<void>(), bytes, cudaMemcpyDeviceToDevice, s), "copy");
      },
      runs);
}

}  // namespace arcsim::cuda
