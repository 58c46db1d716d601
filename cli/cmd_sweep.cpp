// arcsim sweep: runs an experiment spec (experiments/spec.hpp, docs/experiments.md) end to end and
// writes DIR/results.csv, DIR/results.json and DIR/plans/. Prints a speedup table at the end.
// Exit status: 0 all points ok, 1 some points failed (the others are in the files), 2 bad input.
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "commands.hpp"
#include "experiments/limits.hpp"
#include "common/format.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;
namespace ex = arcsim::experiments;

namespace {

// The CSV columns as the markdown table of docs/experiments.md (README.md copies it).
void print_columns() {
  std::printf("| column | unit | meaning |\n|---|---|---|\n");
  for (const auto& c : ex::result_columns()) std::printf("| `%s` | %s | %s |\n", c.name, c.unit, c.meaning);
}

std::string cell(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *v);
  return buf;
}

// Speedup over dense per (bandwidth, nodes): "TTA (iteration)" for every configuration.
void print_table(const std::vector<ex::ResultRow>& rows) {
  std::set<std::tuple<std::string, std::string, double>> nets;  // topology, profile, latency
  for (const auto& r : rows) nets.insert({r.topology, r.profile, r.latency_s});
  for (const auto& [topo, profile, lat] : nets) {
    std::set<double> bws;
    std::set<int> nodes;
    std::vector<std::string> labels;
    for (const auto& r : rows) {
      if (r.topology != topo || r.profile != profile || r.latency_s != lat) continue;
      bws.insert(r.bandwidth_Bps);
      nodes.insert(r.nodes);
      const std::string l = r.compressor.value("label", "");
      if (std::find(labels.begin(), labels.end(), l) == labels.end()) labels.push_back(l);
    }
    std::printf("\nspeedup over dense, time to accuracy (per iteration) -- %s, %s, %s us:\n", topo.c_str(),
                profile.c_str(), arcsim::io::format_number(std::round(lat * 1e6 * 1e6) / 1e6).c_str());
    for (double bw : bws) {
      std::printf("  %-7s Gbps", arcsim::io::format_number(std::round(bw * 8 / 1e9 * 1e6) / 1e6).c_str());
      for (int n : nodes) std::printf(" %16s", ("N=" + std::to_string(n)).c_str());
      std::printf("\n");
      for (const auto& l : labels) {
        std::printf("  %-12s", l.c_str());
        for (int n : nodes) {
          std::string text = "n/a";
          for (const auto& r : rows)
            if (r.topology == topo && r.profile == profile && r.latency_s == lat && r.bandwidth_Bps == bw &&
                r.nodes == n && r.compressor.value("label", "") == l)
              text = r.status != "ok" ? "FAILED" : cell(r.speedup_vs_dense) + " (" + cell(r.iteration_speedup_vs_dense) + ")";
          std::printf(" %16s", text.c_str());
        }
        std::printf("\n");
      }
    }
  }
}

}  // namespace

int cmd_sweep(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim sweep EXPERIMENT.json --out DIR [--jobs N]\n\n"
      "Replays the experiment's trace through the compression kernels, simulates every point of the\n"
      "product (compressors x nodes x bandwidths x latencies x topologies x profiles), each in its own\n"
      "process, and writes DIR/results.csv and DIR/results.json after every point (docs/experiments.md).\n"
      "Re-running with the same DIR resumes from the finished points.\n\noptions");
  opts.add_options()("help,h", "this help")("out,o", po::value<std::string>(), "output directory (created)")(
      "jobs,j", po::value<int>()->default_value(0), "simulations at once (0: every CPU this process may use)")(
      "quiet,q", "no progress lines")(
      "force", "run a sweep of more than 10000 points (docs/limits.md)")(
      "replace", "overwrite a results directory that holds another experiment's results")("columns", "print the results.csv columns (markdown table) and exit");
  po::options_description hidden;
  hidden.add_options()("experiment", po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("experiment", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(std::string("options: ") + e.what() + " (arcsim sweep --help)");
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (vm.count("columns")) {
    print_columns();
    return 0;
  }
  if (!vm.count("experiment")) throw std::runtime_error("options: expected EXPERIMENT.json (arcsim sweep --help)");
  if (!vm.count("out")) throw std::runtime_error("options: --out: expected an output directory (arcsim sweep --help)");
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 0) throw std::runtime_error("options: --jobs: expected a number >= 0, got " + std::to_string(jobs));

  const ex::ExperimentSpec spec = ex::parse_spec_file(vm["experiment"].as<std::string>());
  ex::check_sweep_start(spec, vm["out"].as<std::string>(), vm.count("force") > 0, vm.count("replace") > 0);
  ex::SweepOptions so;
  so.out_dir = vm["out"].as<std::string>();
  so.jobs = jobs;
  so.progress = !vm.count("quiet");
  const auto t0 = std::chrono::steady_clock::now();
  const ex::SweepSummary sum = ex::run_sweep(spec, so);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::printf("arcsim sweep: %s: %zu points (%zu ok, %zu failed, %zu reused from an earlier run), %zu simulations, %.0f s\n",
              spec.name.c_str(), sum.points, sum.ok, sum.failed, sum.reused, sum.simulations, wall);
  std::printf("gradients: %s\n", sum.replay_note.c_str());
  print_table(sum.rows);
  for (const auto& r : sum.rows)
    if (r.status == "failed")
      std::fprintf(stderr, "arcsim sweep: point %zu (%s, %d nodes) failed: %s\n", r.point,
                   r.compressor.value("label", "").c_str(), r.nodes, r.error.c_str());
  std::printf("\nresults: %s/results.csv, %s/results.json (plots: arcsim plot %s)\n", so.out_dir.c_str(),
              so.out_dir.c_str(), so.out_dir.c_str());
  return sum.failed ? 1 : 0;
}

}  // namespace arcsim::cli
