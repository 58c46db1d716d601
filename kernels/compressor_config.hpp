#pragma once
// CompressorConfig: one compressor's configuration as every part of arcsim passes it around. The
// options' names, defaults, accepted values and help live in one table
// (kernels/compressor_options.hpp); the compressors and which options each takes in the registry
// (kernels/compressor_registry.hpp). Options shared by several compressors are typed members;
// options of one method live in `params` and are read with the param_* accessors, which fall back
// to the table's default.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace arcsim::kernels {

struct CompressorConfig {
  std::string compressor = "dense";      // a registry name (compressor_registry.hpp)
  double ratio = 1.0;                    // (0, 1]; rows for ARC, elements for the sparsifiers
  int rank = 4;                          // ARC sketch rank r; PowerSGD rank
  std::string ef = "none";               // none | ef14 | ef21 | ef21m
  std::uint64_t seed = 1;
  std::string row_scores = "sketch";     // sketch | exact (ARC ablation)
  std::string shape_rule = "rows";       // rows | reference (layout.hpp)
  std::string sketch_allreduce = "tensor";  // tensor | bucket
  int warmup = 0;                        // dense calls per bucket before compressing
  bool ramp = false;                     // Top-K / Rand-K ratio ramp 0.8 -> ratio
  bool unbiased = false;                 // Rand-K: scale by d/k (option "rescale")
  std::string ef21_init = "dense";       // EF21/EF21M first call: dense all-reduce | zero state
  std::string momentum = "ema";          // EF21M momentum: ema (eta) | heavy-ball (beta)
  double eta = 0.9;                      // ema: weight of the new gradient, (0, 1]
  double beta = 0.5;                     // heavy-ball: weight of the old momentum, [0, 1)
  std::string value_dtype = "fp32";      // values on the wire: fp32 | fp16 | bf16
  std::string index_dtype = "int32";     // indices on the wire: int32 | int64
  std::string preset = "none";           // none | reference (what it sets: compressor_registry.hpp)
  nlohmann::json params = nlohmann::json::object();  // method-specific options (option table)

  double param_number(const std::string& name) const;
  std::int64_t param_integer(const std::string& name) const;
  bool param_bool(const std::string& name) const;
  std::string param_choice(const std::string& name) const;

  // Throws std::invalid_argument "<option>: expected ..., got ..." on the first bad option.
  void validate() const;
  nlohmann::json to_json() const;        // the plan's "compressor" object
};

// The Top-K/Rand-K ratio ramp (the reference hooks' gradual compression), the one schedule the
// kernels run and time to accuracy counts: t compressed calls after the warm-up, the ratio is
// max(ratio, kRampFrom - (kRampFrom - ratio) t / L) while t < L = warmup + kRampExtraSteps, then
// ratio. Off (ramp false, or a compressor that does not take it): always ratio, L = 0.
inline constexpr double kRampFrom = 0.8;
inline constexpr int kRampExtraSteps = 100;
std::int64_t ramp_steps(const CompressorConfig& c);
double ramp_ratio(const CompressorConfig& c, double t);

}  // namespace arcsim::kernels
