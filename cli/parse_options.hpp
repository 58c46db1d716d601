#pragma once
// The command line of one subcommand: its options plus at most one positional argument, with the
// house's error shape ("options: <what> (arcsim CMD --help)") and --help handling, so each
// cmd_<name>.cpp declares only its options.
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/program_options.hpp>

namespace arcsim::cli {

// nullopt when --help was given (the options are printed); `positional` names the one positional
// argument (nullptr: none). Boost's parse errors become std::runtime_error naming the command.
inline std::optional<boost::program_options::variables_map> parse_options(
    int argc, char** argv, const boost::program_options::options_description& opts, const char* command,
    const char* positional = nullptr) {
  namespace po = boost::program_options;
  po::options_description all;
  all.add(opts);
  po::options_description hidden;
  po::positional_options_description pos;
  if (positional) {
    hidden.add_options()(positional, po::value<std::string>());
    all.add(hidden);
    pos.add(positional, 1);
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << opts << "\n";
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(std::string("options: ") + e.what() + " (arcsim " + command + " --help)");
  }
  return vm;
}

}  // namespace arcsim::cli
