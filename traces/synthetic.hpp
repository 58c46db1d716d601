#pragma once
// Synthetic per-worker gradients for layout-only traces (no recorded samples), drawn
// deterministically from a seed: the same (spec, layout, tensors, step, workers) gives the same
// bits on every machine and in every order of calls.
//
// Distribution ("lognormal-rows/1"), per tensor T viewed as rows (dim 0; a 1-D tensor is one
// row per element, so each entry gets its own scale, like a bias vector's uneven entries):
//   row scale      s_r   = scale * exp(row_sigma * z_r) / sqrt(cols)   z_r ~ N(0,1), fixed per (seed, T, r)
//   shared part    a_rc  ~ N(0,1)  drawn per (seed, step, T, r, c), the same for every worker
//   worker noise   b_wrc ~ N(0,1)  drawn per (seed, step, T, worker, r, c)
//   g_w[r, c] = s_r * ( sqrt(shared) * a_rc + sqrt(1 - shared) * b_wrc )
// so row energies are heavy-tailed (log-normal, persistent across steps, as in real layers where
// a few output units carry most of the gradient), and workers agree on a fraction `shared` of the
// variance (the signal) and differ by the rest (mini-batch noise). The mean over N workers has
// row energy s_r^2 * cols * (shared + (1 - shared) / N).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trace.hpp"

namespace arcsim::traces {

struct SyntheticSpec {
  std::string distribution = "lognormal-rows/1";
  double row_sigma = 1.0;   // std-dev of log row scale
  double shared = 0.5;      // fraction of variance common to all workers, in [0, 1]
  double scale = 1e-2;      // typical row norm before the log-normal factor
  std::uint64_t seed = 1;
};

// Reads the trace's "synthetic" object (strict keys); defaults when it is null.
SyntheticSpec synthetic_spec(const nlohmann::json& j, const std::string& file);
nlohmann::json to_json(const SyntheticSpec& s);

// float32 [workers.size() x sum numel(tensors)], rows in `workers` order, tensors concatenated in
// the given order (e.g. a bucket's). Throws TraceError for an unknown tensor name.
std::vector<float> synthetic_gradients(const Layout& layout, const std::vector<std::string>& tensors,
                                       const std::vector<int>& workers, std::int64_t step,
                                       const SyntheticSpec& spec);
// The same into out (workers.size() x sum numel(tensors) floats), e.g. one worker's bucket into a
// buffer that is reused from bucket to bucket.
void synthetic_gradients_into(const Layout& layout, const std::vector<std::string>& tensors,
                              const std::vector<int>& workers, std::int64_t step, const SyntheticSpec& spec,
                              float* out);

}  // namespace arcsim::traces
