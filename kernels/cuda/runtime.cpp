// Runtime queries of the CUDA backend (compiled by g++ against the CUDA runtime API): they must
// answer "no device" quietly on machines without a GPU or driver, which is where CI runs.
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

#include "kernels/cuda/device_kernels.hpp"

namespace arcsim::cuda {

namespace {
std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }
}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return 0;
  }
  return n;
}

std::string device_name() {
  int dev = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess)
    throw std::runtime_error("no CUDA device available");
  return prop.name;
}

std::string driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess || v == 0) return "none";
  return version_string(v);
}

std::string runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) return "unknown";
  return version_string(v);
}

}  // namespace arcsim::cuda
