#pragma once
// The compressor registry: one entry per compressor, mapping its name to a one-line description,
// the unit its k counts, the options it takes (names in the option table,
// kernels/compressor_options.hpp) and the factory of its Sparsifier. The spec parser, the CLI,
// the Python binding, the recorder and the plots learn the compressors from here; adding one is a
// new kernels/sparsifier_<name>.cpp plus one entry in compressor_registry.cpp.
//
// Presets: "reference" reproduces the ARC-Top-K authors' hooks for arctopk, topk and randk
// (docs/compressors.md): shape_rule reference, warmup = 10 dense steps (their start_compress_iter
// default), the Top-K/Rand-K ramp, ef21_init zero, heavy-ball momentum with beta 0.5. Options
// given explicitly override what the preset sets.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/compressor_config.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/sparsifier.hpp"

namespace arcsim::kernels {

struct CompressorEntry {
  std::string name;                   // "topk"
  std::string description;            // one line, for --help and docs
  std::string k_unit;                 // what k counts: "elements" | "rows" | "rank"
  std::vector<std::string> options;   // shared option-table names this compressor takes
  std::vector<OptionSpec> own_options;  // options only this method has (number_option, ...)
  std::vector<std::string> presets;   // preset names it accepts besides "none"
  std::function<std::unique_ptr<Sparsifier>(const CompressorConfig&)> make;
  bool takes(const std::string& option) const;
};

// Every compressor, in documentation order (dense first).
const std::vector<CompressorEntry>& compressor_registry();
std::vector<std::string> compressor_names();
// The entry of `name`; std::invalid_argument "compressor: expected one of dense|topk|..., got 'x'".
const CompressorEntry& compressor_entry(const std::string& name);
// "dense|topk|randk|...": for help texts and errors.
std::string compressor_choices(const char* sep = "|");

// The options preset `preset` sets for compressor `name` (an object option -> value); an empty
// object for "none". std::invalid_argument when the compressor has no such preset.
nlohmann::json preset_options(const std::string& name, const std::string& preset);

}  // namespace arcsim::kernels
