// arcsim breakeven SPEC.json --over bandwidth|nodes|ratio --out DIR: where each compressor's
// speedup over dense crosses 1 (time to accuracy and iteration time), by bisection with real
// simulations (experiments/breakeven.hpp). Writes DIR/breakeven.csv atomically.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "common/fs_error.hpp"
#include "commands.hpp"
#include "parse_options.hpp"
#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/units.hpp"
#include "experiment_guard.hpp"
#include "experiments/breakeven.hpp"
#include "experiments/spec.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;
namespace ex = arcsim::experiments;

int cmd_breakeven(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim breakeven SPEC.json --over bandwidth|nodes|ratio --out DIR [--range LO HI] [--tol F] [--jobs N]\n\n"
      "For every compressor of the spec and every value of the other axes, finds where its speedup\n"
      "over dense (time to accuracy, and iteration time) crosses 1 along the axis: the spec's values\n"
      "on the axis are simulated, then the first bracket around 1 is bisected with real simulations\n"
      "until it is narrower than the tolerance (bandwidth, ratio: relative --tol; nodes: one node).\n"
      "Writes DIR/breakeven.csv (breakeven_<axis> in Gbit/s, nodes or fraction; empty with a note\n"
      "when there is no crossing in the range); the sweeps run in DIR/breakeven-work.\n"
      "--range LO HI: the search range (bandwidths with units, e.g. 1Gbps 400Gbps; nodes; ratios).\n\noptions");
  opts.add_options()("help,h", "this help")("over", po::value<std::string>(), "axis: bandwidth, nodes or ratio")(
      "out,o", po::value<std::string>(), "output directory")(
      "range", po::value<std::vector<std::string>>()->multitoken(), "LO HI")(
      "tol", po::value<double>()->default_value(0.01), "relative tolerance (bandwidth, ratio)")(
      "jobs,j", po::value<int>()->default_value(0), "simulations at once (0: every CPU)")("quiet,q", "no progress lines");
  const auto parsed = parse_options(argc, argv, opts, "breakeven", "experiment");
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("experiment")) throw std::runtime_error("options: expected SPEC.json (arcsim breakeven --help)");
  if (!vm.count("over")) throw std::runtime_error("options: --over: expected bandwidth, nodes or ratio");
  if (!vm.count("out")) throw std::runtime_error("options: --out: expected an output directory");
  ex::BreakevenOptions bo;
  bo.axis = vm["over"].as<std::string>();
  if (bo.axis != "bandwidth" && bo.axis != "nodes" && bo.axis != "ratio")
    throw std::runtime_error("options: --over: expected bandwidth, nodes or ratio, got \"" + bo.axis + "\"");
  bo.out_dir = vm["out"].as<std::string>();
  bo.jobs = vm["jobs"].as<int>();
  bo.progress = !vm.count("quiet");
  bo.rel_tol = vm["tol"].as<double>();
  if (!(bo.rel_tol > 0 && bo.rel_tol < 1)) throw std::runtime_error("options: --tol: expected a fraction in (0, 1)");
  if (vm.count("range")) {
    const auto r = vm["range"].as<std::vector<std::string>>();
    if (r.size() != 2) throw std::runtime_error("options: --range: expected two values LO HI");
    auto value = [&](const std::string& s) {
      try {
        if (bo.axis == "bandwidth") return arcsim::units::parse_bandwidth_Bps(s);
        std::size_t used = 0;
        const double v = std::stod(s, &used);
        if (used != s.size()) throw std::invalid_argument("trailing text");
        return v;
      } catch (const std::exception& e) {
        if (bo.axis == "bandwidth") throw std::runtime_error(std::string("options: --range: ") + e.what());
        throw std::runtime_error("options: --range: expected a number, got \"" + s + "\"");
      }
    };
    bo.range_lo = value(r[0]);
    bo.range_hi = value(r[1]);
    if (!(*bo.range_lo > 0 && *bo.range_hi > *bo.range_lo))
      throw std::runtime_error("options: --range: expected 0 < LO < HI");
  }
  const ex::ExperimentSpec spec = ex::parse_spec_file(vm["experiment"].as<std::string>());
  guard_experiment_outputs("breakeven", spec, vm["experiment"].as<std::string>(), bo.out_dir);
  const auto t0 = std::chrono::steady_clock::now();
  const ex::BreakevenResult res = ex::run_breakeven(spec, bo);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  io::create_output_directory("--out", bo.out_dir);
  const std::string file = bo.out_dir + "/breakeven.csv";
  io::write_file_atomic(file, ex::breakeven_csv(res, bo.axis));
  std::printf("arcsim breakeven: %s over %s: %zu sweeps, %zu points simulated, %.0f s\n", spec.name.c_str(),
              bo.axis.c_str(), res.sweeps, res.simulated_points, wall);
  const char* unit = bo.axis == "bandwidth" ? " Gbit/s" : bo.axis == "nodes" ? " nodes" : "";
  // Three significant digits: the crossing is known to the bisection's tolerance, not to five.
  auto sig3 = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return std::string(buf);
  };
  auto crossing = [&](const ex::BreakevenRow& r) {
    if (bo.axis == "nodes")
      return "between " + sig3(*r.bracket_lo) + " and " + sig3(*r.bracket_hi) + unit + " (faster " + r.faster + ")";
    std::string t = sig3(*r.breakeven) + unit;
    if (r.metric == "tta")
      t += " [" + (r.breakeven_lo ? sig3(*r.breakeven_lo) : std::string("below range")) + ", " +
           (r.breakeven_hi ? sig3(*r.breakeven_hi) : std::string("above range")) + "]";
    return t + " (faster " + r.faster + ")";
  };
  for (const auto& r : res.rows) {
    std::string where = bo.axis == "bandwidth" ? "N=" + std::to_string(r.nodes)
                                               : io::format_number(std::round(r.bandwidth_Bps * 8 / 1e9 * 1e6) / 1e6) + " Gbps";
    if (bo.axis == "ratio") where = "N=" + std::to_string(r.nodes) + " " + where;
    const std::string text = r.breakeven ? crossing(r) + (r.note.empty() ? "" : "; " + r.note) : r.note;
    std::printf("  %-14s %-10s %-9s %s\n", r.label.c_str(), where.c_str(), r.metric.c_str(), text.c_str());
  }
  std::printf("  (tta: [95 %% interval from the seeds]; docs/experiments.md section 3b)\n");
  std::printf("\nwrote %s\n", file.c_str());
  return 0;
}

}  // namespace arcsim::cli
