#pragma once
// Compressor options on the command line follow the experiment spec's rule: an option the chosen
// compressor does not take is refused by name (a --rank on Top-K is a typo, not a no-op). The
// options each compressor takes come from experiments::compressor_options, the spec's own list.
#include <string>

#include <boost/program_options/variables_map.hpp>

namespace arcsim::cli {

// Throws std::invalid_argument "--flag: does not apply to <compressor>" for the first flag given
// explicitly (not defaulted) that `compressor` does not take. Flags not declared are skipped.
void refuse_inapplicable_flags(const boost::program_options::variables_map& vm, const std::string& compressor,
                               const std::string& ef);

}  // namespace arcsim::cli
