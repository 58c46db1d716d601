// arcsim plot: figures from a results directory, by running plots/plot_results.py with Debian's
// /usr/bin/python3 (the interpreter that has matplotlib). The script is looked up in
// $ARCSIM_PLOTS_DIR, then the source tree this binary was built from, then next to the binary.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <cerrno>
#include <cstring>

#include "arcsim/version.hpp"
#include "commands.hpp"
#include "parse_options.hpp"
#include "common/atomic_file.hpp"
#include "common/output_guard.hpp"
#include "common/json_fields.hpp"

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

// What the script needs, checked here so that every problem is one line naming the file, and no
// Python traceback can be the first thing a user sees.
void check_inputs(const std::string& results) {
  if (!fs::is_directory(results))
    throw std::runtime_error(results + ": expected a results directory written by `arcsim sweep`");
  const std::string csv = (fs::path(results) / "results.csv").string();
  if (!fs::exists(csv))
    throw std::runtime_error(csv + ": no such file (run `arcsim sweep ... --out " + results + "` first)");
  const std::string text = io::read_file(csv, json::kMaxJsonBytes);
  if (text.rfind("point,", 0) != 0 || text.find('\n') == std::string::npos)
    throw std::runtime_error(csv + ": expected the results.csv header line (point,compressor,...), got " +
                             (text.empty() ? std::string("an empty file") : "something else"));
  const std::string js = (fs::path(results) / "results.json").string();
  if (fs::exists(js)) {
    const auto doc = json::load_file(js);  // truncated or malformed: one line naming the file
    if (!doc.is_object()) throw std::runtime_error(js + ": (root): expected a JSON object");
  }
}

// The figures' directory: an existing writable directory, or a new one in a writable parent.
void check_out_dir(const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) throw std::runtime_error("--out: " + out + ": expected a directory");
    if (::access(out.c_str(), W_OK | X_OK) != 0)
      throw std::runtime_error("--out: " + out + ": directory is not writable");
    return;
  }
  fs::path parent = fs::path(out).parent_path();
  if (parent.empty()) parent = ".";
  while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec) || ::access(parent.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error("--out: " + out + ": cannot create the directory (" + parent.string() +
                             " is not a writable directory)");
}

// Runs the script with its stderr captured: on success it is passed on; on failure the user
// gets one line, the script's own last line (its "error: ..." or a traceback's final line), or
// a sentence saying how the interpreter ended when it said nothing.
int run_script(std::vector<std::string> args) {
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("cannot create a pipe for the plotting script");
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 2);
    ::close(fds[1]);
    ::execv(cargs[0], cargs.data());
    std::fprintf(stderr, "cannot run %s: %s\n", cargs[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string err;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (err.size() < (1u << 20)) err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    std::fputs(err.c_str(), stderr);
    return 0;
  }
  std::string last;
  std::size_t end = err.find_last_not_of(" \n\r\t");
  if (end != std::string::npos) {
    const std::size_t begin = err.rfind('\n', end);
    last = err.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
    const std::string prefix = "plot_results.py: error: ";
    if (last.rfind(prefix, 0) == 0) last = last.substr(prefix.size());
  }
  const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  if (last.empty()) last = "plots/plot_results.py run with " + args[0] + " " + how + " and printed nothing (expected a Python 3 with matplotlib, see --python)";
  throw std::runtime_error(last);
}

}  // namespace

int cmd_plot(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim plot RESULTS_DIR [--out DIR] [--traffic simulated|authors]\n\n"
      "Writes speedup_vs_nodes, speedup_vs_bandwidth, iteration_breakdown and, when the results have a\n"
      "time to accuracy, accuracy_vs_time, accuracy_vs_bytes and tta_vs_nodes, as PDF and PNG (into\n"
      "RESULTS_DIR unless --out), from what `arcsim sweep` wrote; break-even crossings from\n"
      "RESULTS_DIR/breakeven.csv (`arcsim breakeven`) are marked. figures.txt lists what was drawn.\n\noptions");
  // The x axis of accuracy_vs_bytes: what one node sent in the simulated collectives, or the
  // authors' global bit counter (all ranks, ring rules), the convention of their loss-vs-bits figure.
  const std::vector<std::string> traffic_choices = {"simulated", "authors"};
  opts.add_options()("help,h", "this help")("out,o", po::value<std::string>(), "directory for the figures")(
      "python", po::value<std::string>()->default_value("/usr/bin/python3"), "Python with matplotlib")(
      "traffic", po::value<std::string>()->default_value("simulated"),
      "x axis of accuracy_vs_bytes: simulated (GB one node sent, as simulated) or authors (Gbit of all ranks "
      "in the ARC-Top-K authors' convention: 2(N-1) x bits per all-reduce, N(N-1) x bits per all-gather)");
  const auto parsed = parse_options(argc, argv, opts, "plot", "results");
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("results")) throw std::runtime_error("options: expected RESULTS_DIR (arcsim plot --help)");
  const std::string results = vm["results"].as<std::string>();
  const std::string python = vm["python"].as<std::string>();
  const std::string out = vm.count("out") ? vm["out"].as<std::string>() : results;
  const std::string traffic = vm["traffic"].as<std::string>();
  if (std::find(traffic_choices.begin(), traffic_choices.end(), traffic) == traffic_choices.end())
    throw std::runtime_error("--traffic: expected simulated or authors, got '" + traffic + "'");
  // The figures' directory: never an input file (results.csv, results.json) nor inside a trace.
  io::OutputGuard("plot")
      .input("RESULTS_DIR", (fs::path(results) / "results.csv").string())
      .input("RESULTS_DIR", (fs::path(results) / "results.json").string())
      .input("RESULTS_DIR", (fs::path(results) / "breakeven.csv").string())
      .output_dir("--out", out)
      .check();
  check_inputs(results);
  check_out_dir(out);
  if (::access(python.c_str(), X_OK) != 0 || fs::is_directory(python))
    throw std::runtime_error("--python: " + python + ": expected an executable Python 3 with matplotlib (/usr/bin/python3)");

  std::vector<std::string> args = {python, find_script(), results};
  if (vm.count("out")) {
    args.push_back("--out");
    args.push_back(out);
  }
  args.push_back("--traffic");
  args.push_back(traffic);
  return run_script(args);
}

}  // namespace arcsim::cli
