#pragma once
// Runs a Compressor on per-worker gradients held as vectors (test helper).
#include <vector>

#include "kernels/compressor.hpp"

namespace arcsim::kernels::testing {

struct Run {
  std::vector<float> agg;
  StepReport report;
};

inline Run run_step(Compressor& c, const BucketLayout& layout, const std::vector<std::vector<float>>& g,
                    std::uint32_t bucket = 0) {
  std::vector<const float*> p;
  for (const auto& v : g) p.push_back(v.data());
  Run r;
  r.agg.assign(layout.numel(), 0.0f);
  r.report = c.step(bucket, layout, p, r.agg.data());
  return r;
}

inline CompressorConfig config(const std::string& name, double ratio, const std::string& ef = "none") {
  CompressorConfig c;
  c.compressor = name;
  c.ratio = ratio;
  c.ef = ef;
  return c;
}

}  // namespace arcsim::kernels::testing
