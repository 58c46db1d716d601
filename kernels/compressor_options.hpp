#pragma once
// The compressor options: one table holding every option any compressor takes, each with one name,
// its type, default, accepted values and help. The experiment spec, the command line (`--name`
// with '_' written '-'), the Python binding (keyword `name`) and the kernels all read and check
// options through this table, so an option is spelt, defaulted and validated in one place.
// Which compressor takes which option is the compressor registry's business
// (kernels/compressor_registry.hpp).
//
//   CompressorConfig c = build_config("topk", {{"ratio", 0.01}, {"ef", "ef14"}});
//   set_option(c, "ramp", true);                 // checked: type, range, choices
//   nlohmann::json v = get_option(c, "ratio");
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/compressor_config.hpp"

namespace arcsim::kernels {

enum class OptionType { kNumber, kInteger, kBool, kChoice };

struct Choice {
  std::string name;
  std::string help;
};

struct OptionSpec {
  std::string name;                   // spec key and binding keyword; CLI flag "--" + name, '_' -> '-'
  OptionType type = OptionType::kNumber;
  nlohmann::json default_value;       // what an unset option means (docs, --help, presets' base)
  std::vector<Choice> choices;        // kChoice: the accepted values, each described
  double min = 0, max = 0;            // kNumber / kInteger: accepted range
  bool min_open = false;              // kNumber: (min, max] instead of [min, max]
  std::string help;                   // one line
  std::vector<std::string> aliases;   // older names still accepted (e.g. "unbiased" for "rescale")
  // Where the value lives in CompressorConfig (a typed member or the params object).
  std::function<void(CompressorConfig&, const nlohmann::json&)> store;
  std::function<nlohmann::json(const CompressorConfig&)> load;
  bool in_params = false;             // stored in CompressorConfig::params (a method's own option)
  std::vector<std::string> only_with_ef;  // non-empty: given explicitly, it needs one of these ef modes
  // false: the option changes only what is sent or how it is grouped, never a value any rank
  // computes (index type, sketch all-reduce grouping), or stands for other options (preset). Every
  // other option is part of a configuration's identity: convergence logs must match it.
  bool changes_training = true;

  // "a number in (0, 1]", "one of none|ef14|ef21|ef21m", ...: the "expected" half of an error.
  std::string expected() const;
};

// Every option, in documentation order: the shared ones, then each compressor's own.
const std::vector<OptionSpec>& option_table();
// The option called `name` (or one of its aliases); nullptr if there is none.
const OptionSpec* find_option(const std::string& name);

// Checks `value` against the option and stores it; std::invalid_argument
// "<name>: expected <what>, got <value>" when it does not fit, or "<name>: unknown option".
void set_option(CompressorConfig& c, const std::string& name, const nlohmann::json& value);
nlohmann::json get_option(const CompressorConfig& c, const std::string& name);

// Builders of method-specific options (stored in CompressorConfig::params), for the `own_options`
// of a registry entry.
OptionSpec number_option(std::string name, double def, double min, double max, bool min_open, std::string help);
OptionSpec integer_option(std::string name, std::int64_t def, double min, double max, std::string help);
OptionSpec bool_option(std::string name, bool def, std::string help);
OptionSpec choice_option(std::string name, std::string def, std::vector<Choice> choices, std::string help);

// The configuration of compressor `name` with the options `given` (an object: option -> value):
// unknown compressor, an option it does not take, a bad value each throw std::invalid_argument
// naming the option. A "preset" among them is applied first (kernels/compressor_registry.hpp), so
// options given explicitly override it. The result is validated.
CompressorConfig build_config(const std::string& name, const nlohmann::json& given);

}  // namespace arcsim::kernels
