#include "compressor_flags.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "experiments/spec.hpp"

namespace arcsim::cli {

void refuse_inapplicable_flags(const boost::program_options::variables_map& vm, const std::string& compressor,
                               const std::string& ef) {
  const auto allowed = experiments::compressor_options(compressor);
  auto takes = [&](const char* spec_key) { return std::find(allowed.begin(), allowed.end(), spec_key) != allowed.end(); };
  // command-line flag -> whether this compressor takes it (spec key in brackets where it differs)
  const std::vector<std::pair<const char*, bool>> flags = {
      {"ratio", takes("ratio")},   {"k", takes("ratio")},
      {"rank", takes("rank")},     {"row-scores", takes("row_scores")},
      {"shape-rule", takes("shape_rule")}, {"sketch-allreduce", takes("sketch_allreduce")},
      {"ef", takes("ef")},         {"eta", takes("ef") && ef == "ef21m"},
      {"warmup", takes("warmup")}, {"ramp", takes("ramp")},
      {"unbiased", takes("rescale")}, {"rescale", takes("rescale")}};
  for (const auto& [flag, ok] : flags) {
    if (ok || !vm.count(flag) || vm[flag].defaulted()) continue;
    const std::string f = flag;
    throw std::invalid_argument("--" + f + ": does not apply to " + compressor +
                                (f == "eta" ? " without --ef ef21m" : "") + " (docs/limits.md)");
  }
}

}  // namespace arcsim::cli
