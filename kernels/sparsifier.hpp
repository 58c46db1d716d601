#pragma once
// The compressors proper (dense, Top-K, Rand-K, ARC-Top-K), each written once against the
// Communicator. A sparsifier maps the per-worker inputs x_i of one bucket (after error feedback)
// to the aggregate every worker applies, agg = (1/N) sum_i C_i(x_i), and optionally to each
// worker's own message C_i(x_i) (what error feedback needs). Error feedback, warm-up and the ratio
// ramp live in Compressor (compressor.hpp); the sparsifiers know nothing of them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/backend.hpp"
#include "kernels/communicator.hpp"
#include "kernels/compressor_config.hpp"
#include "kernels/layout.hpp"

namespace arcsim::kernels {

struct SparsifyArgs {
  std::uint32_t bucket = 0;
  std::uint32_t step = 0;              // this bucket's compression call (keys V and Rand-K indices)
  double ratio = 1.0;                  // in (0, 1]
  std::span<const float* const> in;    // one per worker, layout.numel() floats
  // empty, or one per worker: C_i(x_i) (numel floats). Uninitialised on entry: the sparsifier
  // writes every element (the Compressor does not zero them first).
  std::span<float* const> local_out;
  float* agg = nullptr;                // numel floats: (1/N) sum_i C_i(x_i)
  std::vector<std::uint8_t>* selected = nullptr;  // optional: union of the positions sent (numel)
  // Where the primitives run (kernels/backend.hpp); nullptr = the reference backend. Sparsifiers
  // call it as they call the Communicator: every primitive, and the KernelTimer of every kernel.
  Backend* backend = nullptr;
  Backend& be() const { return backend ? *backend : reference_backend(); }
  // Types on the wire (options value_dtype, index_dtype; kernels/wire.hpp): values sent are
  // rounded to value_wire before they leave the worker (so each worker's own message, and error
  // feedback, see what was sent); indices travel as index_wire.
  DType value_wire = DType::kFloat32;
  DType index_wire = DType::kInt32;
};

struct SparsifyResult {
  std::size_t k = 0;                   // selected units (elements, or rows for ARC), bucket total
  std::string k_unit = "elements";     // "elements" | "rows"
  std::size_t values_per_rank = 0;     // values one rank sends in the value collective
  // Methods whose k differs per worker (threshold estimators): each worker's count; then k is
  // their mean rounded to nearest and values_per_rank rank 0's count.
  std::vector<std::size_t> k_by_worker;
  // ARC only: recall of the selected rows against the exact top rows of mean_i x_i.
  std::size_t rows_exact = 0, rows_recalled = 0;
};

class Sparsifier {
 public:
  virtual ~Sparsifier() = default;
  virtual const char* name() const = 0;
  virtual SparsifyResult run(Communicator& comm, const BucketLayout& layout, const SparsifyArgs& a) = 0;
};

struct ArcOptions {
  int rank = 4;
  bool exact_scores = false;           // row_scores=exact ablation: the sketch is the matrix itself
  ShapeRule shape_rule = ShapeRule::kRows;
  bool sketch_per_bucket = false;      // one sketch all-reduce per bucket (else one per tensor)
  std::uint64_t seed = 1;
};

std::unique_ptr<Sparsifier> make_dense();
std::unique_ptr<Sparsifier> make_topk();
std::unique_ptr<Sparsifier> make_randk(std::uint64_t seed, bool unbiased);
std::unique_ptr<Sparsifier> make_arctopk(const ArcOptions& options);
// Ok-Topk
std::unique_ptr<Sparsifier> make_oktopk(const CompressorConfig& config);
// Compressors added through the registry take the whole configuration (their own options are
// read with CompressorConfig::param_*):
//   std::unique_ptr<Sparsifier> make_<name>(const CompressorConfig& config);
// Threshold estimators (variable k per worker; sparsifier_threshold.hpp).
std::unique_ptr<Sparsifier> make_dgc(const CompressorConfig& config);
std::unique_ptr<Sparsifier> make_gaussiank(const CompressorConfig& config);
std::unique_ptr<Sparsifier> make_redsync(const CompressorConfig& config);
std::unique_ptr<Sparsifier> make_sidco(const CompressorConfig& config);
// ADTopk (all-dimension top-k, with FGBuff's buffering as an option) and PowerSGD.
std::unique_ptr<Sparsifier> make_adtopk(const CompressorConfig& config);
std::unique_ptr<Sparsifier> make_powersgd(const CompressorConfig& config);

// RNG "tensor" id of tensor t of a bucket: (bucket << 16) | t (t < 65536, else invalid_argument).
std::uint32_t tensor_id(std::uint32_t bucket, std::size_t t);

// Helpers shared by the sparsifiers.
// agg[i] /= N for i < n (division, as the reference's tensor.div_(world_size)); the reference
// backend's divide().
void divide_by(float* x, std::size_t n, int workers);

}  // namespace arcsim::kernels
