#pragma once
// How the CUDA backend makes itself known without arcsim_kernels depending on CUDA: the CUDA
// library registers a provider at static-initialisation time (its object file is kept by the
// linker through an anchor symbol, kernels/cuda/CMakeLists.txt).
#include <functional>

#include "kernels/backend.hpp"

namespace arcsim::kernels {

struct CudaProvider {
  std::function<int()> device_count;   // usable devices (0 without a device or driver)
  std::function<Backend&()> backend;   // the process-wide CUDA backend
};
void register_cuda_backend(const CudaProvider& p);

}  // namespace arcsim::kernels
