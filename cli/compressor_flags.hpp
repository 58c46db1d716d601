#pragma once
// Compressor options on the command line, generated from the option table
// (kernels/compressor_options.hpp): every option is a flag `--name` ('_' written '-'), with the
// table's help, default and accepted values. An option the chosen compressor does not take is
// refused by name, as in experiment specs (a --rank on Top-K is a typo, not a no-op).
#include <string>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <nlohmann/json.hpp>

#include "kernels/compressor_config.hpp"

namespace arcsim::cli {

// Declares a flag for every option of the table (and its aliases) on `opts`.
void add_compressor_flags(boost::program_options::options_description& opts);

// The options given explicitly on the command line, as the table's JSON values (numbers parsed
// strictly); std::invalid_argument "--flag: expected ..., got ..." for text that is no value.
nlohmann::json given_compressor_flags(const boost::program_options::variables_map& vm);

// kernels::build_config over the given flags, its errors named as flags ("--rank: does not apply
// to topk ..."). `extra` adds options the command computed itself (e.g. ratio from --k).
kernels::CompressorConfig compressor_config_from_flags(const boost::program_options::variables_map& vm,
                                                       const std::string& compressor,
                                                       const nlohmann::json& extra = nlohmann::json::object());

// The "--compressor" help: "dense | topk | ..." from the registry.
std::string compressor_flag_help();

}  // namespace arcsim::cli
