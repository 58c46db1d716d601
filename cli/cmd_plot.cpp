// arcsim plot: figures from a results directory, by running plots/plot_results.py with Debian's
// /usr/bin/python3 (the interpreter that has matplotlib). The script is looked up in
// $ARCSIM_PLOTS_DIR, then the source tree this binary was built from, then next to the binary.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "arcsim/version.hpp"
#include "commands.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::string find_script() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("ARCSIM_PLOTS_DIR")) dirs.emplace_back(env);
  dirs.emplace_back(fs::path(kSourceDir) / "plots");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path() / "plots");
    dirs.push_back(exe.parent_path().parent_path() / "plots");
  }
  for (const auto& d : dirs)
    if (fs::exists(d / "plot_results.py")) return (d / "plot_results.py").string();
  throw std::runtime_error("plots/plot_results.py: not found (looked in $ARCSIM_PLOTS_DIR, " +
                           (fs::path(kSourceDir) / "plots").string() + " and next to the binary)");
}

}  // namespace

int cmd_plot(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim plot RESULTS_DIR [--out DIR]\n\n"
      "Writes speedup_vs_nodes, speedup_vs_bandwidth, iteration_breakdown and, when the results have a\n"
      "time to accuracy, accuracy_vs_time, accuracy_vs_bytes and tta_vs_nodes, as PDF and PNG (into\n"
      "RESULTS_DIR unless --out), from what `arcsim sweep` wrote; break-even crossings from\n"
      "RESULTS_DIR/breakeven.csv (`arcsim breakeven`) are marked. figures.txt lists what was drawn.\n\noptions");
  opts.add_options()("help,h", "this help")("out,o", po::value<std::string>(), "directory for the figures")(
      "python", po::value<std::string>()->default_value("/usr/bin/python3"), "Python with matplotlib");
  po::options_description hidden;
  hidden.add_options()("results", po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("results", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(std::string("options: ") + e.what() + " (arcsim plot --help)");
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("results")) throw std::runtime_error("options: expected RESULTS_DIR (arcsim plot --help)");
  const std::string results = vm["results"].as<std::string>();
  if (!fs::exists(fs::path(results) / "results.csv"))
    throw std::runtime_error(results + "/results.csv: no such file (run `arcsim sweep ... --out " + results + "` first)");
  const std::string python = vm["python"].as<std::string>();
  if (!fs::exists(python)) throw std::runtime_error("--python: " + python + ": not found (python3-matplotlib is needed)");

  std::vector<std::string> args = {python, find_script(), results};
  if (vm.count("out")) {
    args.push_back("--out");
    args.push_back(vm["out"].as<std::string>());
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::execv(cargs[0], cargs.data());
    std::fprintf(stderr, "arcsim plot: error: cannot run %s\n", cargs[0]);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  // The script has printed its own one-line error; pass its status on.
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 2;
}

}  // namespace arcsim::cli
