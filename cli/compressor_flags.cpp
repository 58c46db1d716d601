#include "compressor_flags.hpp"

#include <cmath>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"

namespace po = boost::program_options;

namespace arcsim::cli {

namespace {

std::string flag_of(std::string name) {
  for (auto& ch : name)
    if (ch == '_') ch = '-';
  return name;
}

std::string help_of(const kernels::OptionSpec& o) {
  std::string h = o.help;
  if (o.type == kernels::OptionType::kChoice) {
    h += ": ";
    for (std::size_t i = 0; i < o.choices.size(); ++i) h += (i ? " | " : "") + o.choices[i].name;
  }
  if (o.type != kernels::OptionType::kBool) {
    const std::string d = o.default_value.is_string() ? o.default_value.get<std::string>() : o.default_value.dump();
    h += " (default " + d + ")";
  }
  return h;
}

// "ratio: expected ..." -> "--ratio: expected ...", with the flag as the user wrote it.
std::string as_flag_message(const std::string& what) {
  const auto colon = what.find(':');
  if (colon == std::string::npos || what.find(' ') < colon) return what;
  std::string rest = what.substr(colon);
  const auto w = rest.find(" without ef ");
  if (w != std::string::npos) rest.replace(w, 12, " without --ef ");
  return "--" + flag_of(what.substr(0, colon)) + rest;
}

}  // namespace

void add_compressor_flags(po::options_description& opts) {
  for (const auto& o : kernels::option_table()) {
    std::vector<std::string> names = {o.name};
    names.insert(names.end(), o.aliases.begin(), o.aliases.end());
    for (const auto& n : names) {
      const std::string flag = flag_of(n), help = n == o.name ? help_of(o) : "alias of --" + flag_of(o.name);
      if (o.type == kernels::OptionType::kBool) opts.add_options()(flag.c_str(), po::bool_switch(), help.c_str());
      else opts.add_options()(flag.c_str(), po::value<std::string>(), help.c_str());
    }
  }
}

nlohmann::json given_compressor_flags(const po::variables_map& vm) {
  nlohmann::json given = nlohmann::json::object();
  for (const auto& o : kernels::option_table()) {
    std::vector<std::string> names = {o.name};
    names.insert(names.end(), o.aliases.begin(), o.aliases.end());
    for (const auto& n : names) {
      const std::string flag = flag_of(n);
      if (!vm.count(flag) || vm[flag].defaulted()) continue;
      if (o.type == kernels::OptionType::kBool) {
        if (vm[flag].as<bool>()) given[n] = true;
        continue;
      }
      const std::string text = vm[flag].as<std::string>();
      if (o.type == kernels::OptionType::kChoice) {
        given[n] = text;
        continue;
      }
      std::size_t used = 0;
      double x = NAN;
      try {
        x = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != text.size() || text.empty() || !std::isfinite(x))
        throw std::invalid_argument("--" + flag + ": expected " + o.expected() + ", got \"" + text + "\"");
      if (o.type == kernels::OptionType::kInteger && std::floor(x) == x && std::abs(x) < 9e15)
        given[n] = static_cast<std::int64_t>(x);
      else
        given[n] = x;
    }
  }
  return given;
}

kernels::CompressorConfig compressor_config_from_flags(const po::variables_map& vm, const std::string& compressor,
                                                       const nlohmann::json& extra) {
  nlohmann::json given = given_compressor_flags(vm);
  for (auto it = extra.begin(); it != extra.end(); ++it) given[it.key()] = it.value();
  try {
    return kernels::build_config(compressor, given);
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("compressor:", 0) == 0) throw std::invalid_argument("--" + what);
    throw std::invalid_argument(as_flag_message(what));
  }
}

std::string compressor_flag_help() { return kernels::compressor_choices(" | "); }

}  // namespace arcsim::cli
