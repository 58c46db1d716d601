#pragma once
// The kernel catalogue: every kernel a compressor announces in its plan is declared here once,
// with its name, what it does (which Backend primitives implement it, on the CPU and on the GPU),
// its work formula (elements and bytes moved per worker, from the sizes of the call) and its
// entry in the bytes/bandwidth cost model of kernels/timing.hpp. The compressors, the timing
// model, `arcsim calibrate` and the docs all read these entries; nothing else spells a kernel
// name or a bytes formula.
#include <cstddef>
#include <span>
#include <string>

namespace arcsim::kernels {

enum class KernelId {
  kTopkSelect,
  kTopkScatterAdd,
  kRandkIndices,
  kRandkGather,
  kRandkScatter,
  kArcSketch,
  kArcSelectRows,
  kArcGatherRows,
  kArcScatterRows,
  kEfInput,
  kEfUpdate,
  kAverage,
  // Threshold estimators (DGC, GaussianK, RedSync, SIDCo).
  kThrStats,
  kThrSample,
  kThrCount,
  kThrSelect,
  kDgcAccumulate,
  kDgcMask,
  // ADTopk
  kAdtopkSelect,
  kAdtopkScatterAdd,
  // PowerSGD
  kPowersgdProjectP,
  kPowersgdOrthogonalize,
  kPowersgdProjectQ,
  kPowersgdDecompress,
  // Ok-Topk
  kOktopkSelect,
  kOktopkReduce,
  kOktopkScatter,
};

// The sizes one call's traffic depends on, per worker. Each kernel reads the fields its formula
// names and ignores the others.
struct KernelWork {
  std::size_t n = 0;        // elements of the bucket (the dense input / output)
  std::size_t k = 0;        // selected elements (Top-K, Rand-K) or selected values (ARC rows x cols)
  std::size_t workers = 1;  // contributions combined (Top-K scatter-add of all gathered messages)
  std::size_t rows = 0;     // rows scored (ARC row selection)
  std::size_t sketch = 0;   // floats of the sketch (ARC: rows x r per tensor, summed; PowerSGD:
                            // floats of P (orthogonalize) or of P and Q (the products))
};

// Bytes/bandwidth model entry: seconds = launches * launch + (bytes_moved + extra_bytes_per_element
// * elements) / (copy bandwidth * efficiency). docs/gpu.md gives the source of every number.
struct KernelCost {
  int launches = 1;
  double extra_bytes_per_element = 0.0;  // traffic the recorded bytes_moved (a floor) leaves out
  double efficiency = 0.95;              // achieved fraction of copy bandwidth
};

struct KernelSpec {
  KernelId id;
  const char* name;           // the plan's kernel name
  const char* primitives;     // the Backend primitives that implement it (CPU and CUDA alike)
  const char* elements_text;  // the work formulas, as written in docs/kernels.md
  const char* bytes_text;
  std::size_t (*elements)(const KernelWork&);
  std::size_t (*bytes_moved)(const KernelWork&);
  KernelCost cost;
};

// Every kernel, in plan-documentation order.
std::span<const KernelSpec> kernel_catalogue();
const KernelSpec& kernel_spec(KernelId id);
// nullptr for a name the catalogue does not hold.
const KernelSpec* find_kernel(const std::string& name);
// The cost of a kernel the catalogue does not hold (one streaming launch over bytes_moved).
const KernelCost& generic_kernel_cost();

}  // namespace arcsim::kernels
