#include "synthetic.hpp"

#include <algorithm>
#include <cmath>

#include "common/json_fields.hpp"
#include "traces/synthetic_normal.hpp"

namespace arcsim::traces {
namespace {

using detail::mix;

std::uint64_t key(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d) {
  return mix(mix(mix(mix(a) ^ b) ^ c) ^ d);
}

// key(a, b, c, d) == mix(key_head(a, b, c) ^ d): the head is the same for every element of a
// (stream, tensor, step), so it is computed once per tensor instead of once per element.
std::uint64_t key_head(std::uint64_t a, std::uint64_t b, std::uint64_t c) { return mix(mix(mix(a) ^ b) ^ c); }

// Standard normal from a 64-bit key (Box-Muller on two 26-bit uniforms in (0, 1]; the libm
// definition of synthetic_normal.hpp).
double normal(std::uint64_t k) { return detail::normal_exact(k); }

// FNV-1a of the tensor name: streams depend on the name, not on its position in a list.
std::uint64_t name_hash(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

SyntheticSpec synthetic_spec(const nlohmann::json& j, const std::string& file) {
  SyntheticSpec s;
  if (j.is_null()) return s;
  try {
    arcsim::json::Fields f(j, file, "synthetic");
    s.distribution = f.choice("distribution", {"lognormal-rows/1"}, s.distribution);
    s.row_sigma = f.number_or("row_sigma", s.row_sigma);
    s.shared = f.number_or("shared", s.shared);
    if (s.shared < 0 || s.shared > 1) f.fail("shared", "a fraction in [0, 1]");
    s.scale = f.number_or("scale", s.scale);
    if (s.scale <= 0) f.fail("scale", "a positive number");
    const auto seed = f.integer_or("seed", 1);
    if (seed < 0) f.fail("seed", "a non-negative integer");
    s.seed = static_cast<std::uint64_t>(seed);
    f.finish();
  } catch (const arcsim::json::ConfigError& e) {
    throw TraceError(e.what());
  }
  return s;
}

nlohmann::json to_json(const SyntheticSpec& s) {
  return {{"distribution", s.distribution}, {"row_sigma", s.row_sigma}, {"shared", s.shared},
          {"scale", s.scale}, {"seed", s.seed}};
}

std::vector<float> synthetic_gradients(const Layout& layout, const std::vector<std::string>& tensors,
                                       const std::vector<int>& workers, std::int64_t step,
                                       const SyntheticSpec& spec) {
  std::int64_t total = 0;
  for (const auto& name : tensors) {
    const int k = layout.index_of(name);
    if (k >= 0) total += layout.parameters[k].numel();
  }
  std::vector<float> out(workers.size() * std::size_t(total));
  synthetic_gradients_into(layout, tensors, workers, step, spec, out.data());
  return out;
}

void synthetic_gradients_into(const Layout& layout, const std::vector<std::string>& tensors,
                              const std::vector<int>& workers, std::int64_t step, const SyntheticSpec& spec,
                              float* out) {
  std::int64_t total = 0;
  std::vector<int> idx;
  for (const auto& name : tensors) {
    const int k = layout.index_of(name);
    if (k < 0) throw TraceError("synthetic gradients: tensors: expected layout parameter names, got unknown \"" + name + "\"");
    idx.push_back(k);
    total += layout.parameters[k].numel();
  }
  const double a_w = std::sqrt(spec.shared), b_w = std::sqrt(1.0 - spec.shared);
  const std::uint64_t s = spec.seed, st = static_cast<std::uint64_t>(step);
  std::vector<std::uint64_t> wkeys;
  for (int w : workers) wkeys.push_back(s ^ (0x9015e000ull + std::uint64_t(w)));
  std::int64_t offset = 0;
  for (int k : idx) {
    const Parameter& p = layout.parameters[k];
    const std::uint64_t t = name_hash(p.name);
    const std::int64_t n = p.numel();
    const std::int64_t rows = p.shape.size() >= 2 ? p.shape[0] : n;
    const std::int64_t cols = n / rows;
    // Every element is a pure function of its counters, so rows are split over threads (blocks of
    // about 64K elements) without changing a bit; the per-worker stream keys are hoisted.
    const std::uint64_t shared_head = key_head(s ^ 0x5a4ed, t, st);
    std::vector<std::uint64_t> heads;
    for (std::uint64_t wk : wkeys) heads.push_back(key_head(wk, t, st));
    const std::int64_t rows_per_block = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, cols));
    const std::int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
    float* const base = out;
    const std::size_t stride = std::size_t(total);
#pragma omp parallel for schedule(dynamic, 1) if (n >= 65536)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
      const std::int64_t r_end = std::min(rows, (blk + 1) * rows_per_block);
      std::vector<double> shared(static_cast<std::size_t>(cols));  // the row's shared normals
      for (std::int64_t r = blk * rows_per_block; r < r_end; ++r) {
        const double scale = spec.scale * std::exp(spec.row_sigma * normal(key(s, t, 0x5ca1e, r))) / std::sqrt(double(cols));
        // The same floats as scale * (a_w * normal(shared key) + b_w * normal(worker key)) with
        // libm, element by element (synthetic_normal.hpp).
        for (std::size_t w = 0; w < heads.size(); ++w)
          detail::synthetic_row(shared_head, heads[w], static_cast<std::uint64_t>(r * cols), static_cast<std::size_t>(cols),
                                scale, a_w, b_w, shared.data(), w == 0,
                                base + w * stride + std::size_t(offset + r * cols));
      }
    }
    offset += n;
  }
}

}  // namespace arcsim::traces
