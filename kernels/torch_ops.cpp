#include "kernels/torch_ops.hpp"

namespace arcsim::kernels {

namespace {

// CUB's radix sort (which torch.sort, torch.topk over large k and torch.randperm run on CUDA) makes one
// pass per 8-bit digit over keys and values: 4 passes for 32-bit keys, 8 for randperm's 64-bit keys,
// each reading and writing them.
constexpr TorchOpRow kRows[] = {
    {"sort", 8, "radix sort: 4 passes of 8 bits over 32-bit keys and their indices, read and written"},
    {"argsort", 8, "as sort"},
    {"topk", 8, "torch.topk on CUDA sorts (radix select and sort) for large k: as sort"},
    {"kthvalue", 8, "as sort"},
    {"randperm", 16, "a permutation of n: random 64-bit keys radix-sorted, 8 passes (a full permutation however few are kept)"},
    {"unique", 8, "sort-based"},
};

}  // namespace

std::span<const TorchOpRow> torch_op_rows() { return kRows; }

bool is_torch_op(const std::string& kernel) { return kernel.rfind("torch.", 0) == 0; }

double torch_op_traffic_factor(const std::string& kernel) {
  const std::string op = kernel.substr(6);
  for (const auto& r : kRows)
    if (op == r.op) return r.traffic_factor;
  return 1.0;
}

}  // namespace arcsim::kernels
