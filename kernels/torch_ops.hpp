#pragma once
// What one PyTorch op of a recorded comm hook (`arcsim record --hook`, plan kernels named
// "torch.<op>") costs on a GPU: the host's dispatch of the op through PyTorch's eager path (Python,
// dispatcher, kernel launch), which bounds a loop of small ops, or the op's memory traffic, whichever
// is longer:
//   seconds = max(kDispatchSeconds, launch + traffic_factor x bytes / (HBM bandwidth x copy efficiency))
// View and metadata ops launch nothing (traffic 0) and cost the dispatch alone. Sorting ops read and
// write their keys and values once per radix pass, so their traffic is a multiple of their bytes.
#include <span>
#include <string>

namespace arcsim::kernels {

// PyTorch's eager overhead per op, about 10 us: "PyTorch ... can only do about 100k operations per
// second" (H. He, "Making Deep Learning Go Brrrr From First Principles", 2022, section "Overhead").
inline constexpr double kDispatchSeconds = 10e-6;

struct TorchOpRow {
  const char* op;            // the aten op name without its overload
  double traffic_factor;     // bytes moved per byte of its inputs and outputs
  const char* why;
};
std::span<const TorchOpRow> torch_op_rows();

bool is_torch_op(const std::string& kernel);  // "torch.<op>"
// traffic factor of the op (1 when it has no row)
double torch_op_traffic_factor(const std::string& kernel);

}  // namespace arcsim::kernels
