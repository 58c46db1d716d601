// arcsim compressors: the registry as a user reads it — each compressor with its description and
// options, or (--json) the registry and the option table for scripts and the docs generator.
#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "parse_options.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"

namespace po = boost::program_options;

namespace arcsim::cli {

namespace {
// The options an entry takes, its own declarations first: two methods may each declare an option
// of the same name with their own default (dgc's and gaussiank's max_adjust).
std::vector<const kernels::OptionSpec*> options_of(const kernels::CompressorEntry& e) {
  std::vector<const kernels::OptionSpec*> out;
  for (const auto& o : kernels::option_table())
    if (e.takes(o.name) && !o.in_params) out.push_back(&o);
  for (const auto& o : e.own_options) out.push_back(&o);
  return out;
}
}  // namespace

int cmd_compressors(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim compressors [NAME] [--json]\n\n"
      "Lists the compressors (the kernels' registry), the options each takes, with defaults and\n"
      "accepted values. The same names are the spec's compressor entries, the CLI flags (--name,\n"
      "'_' written '-') and the Python binding's keywords.\n\noptions");
  opts.add_options()("help,h", "this help")("json", "one JSON object: compressors and options");
  const auto parsed = parse_options(argc, argv, opts, "compressors", "name");
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  std::vector<const kernels::CompressorEntry*> shown;
  if (vm.count("name")) {
    shown.push_back(&kernels::compressor_entry(vm["name"].as<std::string>()));
  } else {
    for (const auto& e : kernels::compressor_registry()) shown.push_back(&e);
  }
  if (vm.count("json")) {
    nlohmann::json j = {{"compressors", nlohmann::json::array()}, {"options", nlohmann::json::array()}};
    for (const auto* e : shown) {
      nlohmann::json opts_of = nlohmann::json::array();
      for (const auto& o : options_of(*e)) opts_of.push_back({{"name", o->name}, {"default", o->default_value}});
      j["compressors"].push_back({{"name", e->name}, {"description", e->description}, {"k_unit", e->k_unit},
                                  {"options", opts_of}, {"presets", e->presets}});
    }
    for (const auto& o : kernels::option_table()) {
      nlohmann::json choices = nlohmann::json::array();
      for (const auto& c : o.choices) choices.push_back({{"name", c.name}, {"help", c.help}});
      j["options"].push_back({{"name", o.name}, {"default", o.default_value}, {"expected", o.expected()},
                              {"help", o.help}, {"choices", choices}, {"aliases", o.aliases},
                              {"only_with_ef", o.only_with_ef}});
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  for (const auto* e : shown) {
    std::cout << e->name << ": " << e->description << " (k counts " << e->k_unit << ")\n";
    for (const auto* o : options_of(*e)) {
      const std::string d = o->default_value.is_string() ? o->default_value.get<std::string>() : o->default_value.dump();
      std::cout << "  " << o->name << " = " << d << "  " << o->expected() << ": " << o->help << "\n";
    }
  }
  return 0;
}

}  // namespace arcsim::cli
