#pragma once
// Trace format v1 ("arcsim-trace/1"): a directory with trace.json and .npy gradient samples.
// docs/traces.md describes every field with its unit; this header is the C++ reader, writer and
// validator. Every problem is a TraceError whose what() is one line naming the file and the field:
//   "<dir>/trace.json: samples[3].shape: expected [2, 51450] (workers x elements of the tensors), got [2, 51449]"
//   "<dir>/samples/x.npy: sha256: expected ab12... (trace.json samples[3].data.sha256), got 9f0c..."
//
//   auto t = arcsim::traces::read_trace("traces/default");       // parses and checks trace.json
//   arcsim::traces::validate_data(t);                             // reads and checks every .npy
//   auto g = arcsim::traces::load_sample(t, t.samples[0]);        // float32 [workers x elements]
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/compute_profile.hpp"

namespace arcsim::traces {

inline constexpr const char* kTraceFormat = "arcsim-trace/1";
using compute::kComputeFormat;

struct TraceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One trainable tensor, in registration order (model.parameters()).
// Largest tensor, layout or sample in elements (2^40, about 1.1e12: above every model a trace is
// recorded or laid out for, and small enough that sizes in bytes and sums over a layout stay far
// from int64 overflow).
inline constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;

struct Parameter {
  std::string name;                  // "conv1.weight"
  std::vector<std::int64_t> shape;   // PyTorch shape, every dimension >= 1
  std::string dtype;                 // "float32" | "float16" | "bfloat16" | "float64" (training dtype)
  std::string layer;                 // the compute-profile layer that produces its gradient
  std::int64_t numel() const;
  std::int64_t bytes() const;        // numel x element size of dtype
};

struct Layout {
  std::string model;                 // "fmnist-cnn", "llama-130m", ...
  std::vector<Parameter> parameters; // registration order
  std::int64_t total_elements() const;
  // Index of the parameter named `name`, or -1.
  int index_of(const std::string& name) const;
};

// arcsim-compute/1 (docs/contracts.md section 2): the one type of common/compute_profile.hpp,
// embedded as trace.json's "compute" (its reader checks the parameters against the layout too).
using compute::ComputeProfile;
using compute::LayerCost;
using compute::LayerTime;

// A data file referenced from trace.json; path relative to the trace directory.
struct FileRef {
  std::string file;                  // "samples/dense-n8-s0100-b0.npy"
  std::string dtype;                 // "float32" | "float16" (what the .npy holds)
  std::vector<std::int64_t> shape;
  std::string sha256;                // lowercase hex of the whole file
};

// Gradient sample: the local gradients g_i (mean over worker i's micro-batch, before EF and
// compression) of some workers at one step, for a bucket (or any list of tensors), flattened
// and concatenated in `tensors` order: shape [workers.size(), sum of numel].
struct Sample {
  std::string config;                // convergence config id, e.g. "topk-0.2-ef14"
  int world = 0;                     // N emulated (or real) workers of that run
  std::int64_t step = 0;             // optimizer step (0-based) at which the gradient was taken
  int bucket = -1;                   // DDP bucket index (traces/buckets.hpp), -1 when not a bucket
  std::vector<std::string> tensors;
  std::vector<int> workers;          // worker ranks, rows of `data`
  FileRef data;
  std::optional<FileRef> aggregate;  // float [elements]: what the run applied for this bucket
};

// One evaluation. `loss` and `accuracy` are the usual metrics (NaN when the run did not report
// them); any other metric a user's evaluate() returns (e.g. "perplexity") is in `extra`.
struct CurvePoint {
  std::int64_t step = 0;             // optimizer steps taken before the evaluation
  double loss = 0;                   // mean loss on the held-out set (NaN: not reported)
  double accuracy = 0;               // fraction in [0, 1] (NaN: not reported)
  std::map<std::string, double> extra;
  // The value of a metric by name ("loss", "accuracy" or an extra one); NaN when absent.
  double metric(const std::string& name) const;
};

// The target a run was recorded against: reached when metric >= value (mode "max") or
// metric <= value (mode "min").
struct CurveTarget {
  std::string metric = "accuracy";
  double value = 0;
  std::string mode = "max";          // "max" | "min"
  bool reached_by(double v) const { return mode == "max" ? v >= value : v <= value; }
};

// One training run: a compressor configuration at N workers.
// One training run: a compressor configuration at N workers and one seed. A trace may hold the
// same (config, world) once per seed; (config, world, seed) is unique.
struct ConvergenceLog {
  std::string config;                // id, unique per (world, seed)
  int world = 0;
  std::int64_t seed = 0;             // the run's seed (data order, initialization, compressor)
  nlohmann::json compressor;         // binding arguments (name, ratio, rank, ef, seed, ...)
  double target_accuracy = 0;        // the trace's target when it is on accuracy (else 0)
  CurveTarget target;                // the run's target when it is not "accuracy >= target_accuracy"
  // The target in force: `target` when set to another metric or direction, else accuracy >=
  // target_accuracy (so code that fills only target_accuracy keeps working).
  CurveTarget effective_target() const {
    if (target.metric != "accuracy" || target.mode != "max" || target.value != 0) return target;
    return CurveTarget{"accuracy", target_accuracy, "max"};
  }
  std::optional<std::int64_t> steps_to_target;  // first evaluated step reaching the target
  std::int64_t max_steps = 0;        // step budget of the run
  std::int64_t eval_every = 0;
  std::string stopped;               // "target" | "budget"
  double wall_s = 0;                 // wall-clock seconds the recording took (not a prediction)
  std::vector<CurvePoint> points;
};

struct Trace {
  std::string dir;                   // where it was read from (for messages and data paths)
  std::string name;
  std::string description;
  Layout layout;
  std::optional<ComputeProfile> compute;
  nlohmann::json compute_notes;      // how the profile was obtained (object; free-form)
  nlohmann::json synthetic;          // synthetic-gradient spec (traces/synthetic.hpp) or null
  std::vector<Sample> samples;
  std::vector<ConvergenceLog> convergence;
  nlohmann::json provenance;         // object: seed, command, dataset, software, ...
};

// Parses <dir>/trace.json and checks it (strict keys, types, layout consistency, sample shapes
// against the layout, curve order, steps_to_target). Does not open the .npy files.
Trace read_trace(const std::string& dir);
// Same from an already parsed document (`file` only names it in messages).
Trace parse_trace(const nlohmann::json& doc, const std::string& dir, const std::string& file);

// Opens every data file: exists, sha256, .npy header (dtype, shape as declared), not truncated,
// all values finite. Throws the first problem.
void validate_data(const Trace& t);

// read_trace + validate_data.
Trace validate_trace(const std::string& dir);

// Verified float32 contents of one data file (shape as in ref.shape).
std::vector<float> load_file(const Trace& t, const FileRef& ref, const std::string& field);
inline std::vector<float> load_sample(const Trace& t, const Sample& s) {
  return load_file(t, s.data, "samples.data");
}

// The JSON document (what trace.json holds).
nlohmann::json to_json(const Trace& t);

// Writes float32 (or float16, rounded to nearest even) data as <dir>/<relative>, returns its FileRef.
FileRef write_data_file(const std::string& dir, const std::string& relative,
                        const std::vector<std::int64_t>& shape, const std::vector<float>& values,
                        const std::string& dtype = "float32");

// Writes <dir>/trace.json atomically (creates dir). Data files must be written first.
void write_trace(const std::string& dir, const Trace& t);

// Element size in bytes of a dtype name; 0 when unknown.
int dtype_size(const std::string& dtype);

}  // namespace arcsim::traces
