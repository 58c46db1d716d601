// arcsim sweep: runs an experiment spec (experiments/spec.hpp, docs/experiments.md) end to end and
// writes DIR/results.csv, DIR/results.json and DIR/plans/. Prints a speedup table at the end.
// --prepare / --shard I/N / --merge split the same sweep over processes or hosts; --slurm writes
// (and --submit submits) the Slurm jobs that run them.
// Exit status: 0 all points ok, 1 some points failed (the others are in the files), 2 bad input.
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <iostream>
#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "commands.hpp"
#include "experiment_guard.hpp"
#include "parse_options.hpp"
#include "experiments/limits.hpp"
#include "common/format.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/slurm.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_inputs.hpp"

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

// "1.17 [0.95,1.40]~i": the TTA speedup with its 95 % interval; "~" when the interval contains 1
// (not significant), "p" when some seeds missed the target (censored), "i"/"e" when the TTA was
// interpolated/extrapolated across ranks; "missed" when no seed reached the target.
std::string speedup_cell(const ex::ResultRow& r) {
  if (r.compressor.value("name", "") == "dense" && r.speedup_vs_dense == 1.0) return "baseline";
  std::string t = !r.speedup_vs_dense && r.tta_status == "none" ? "missed" : cell(r.speedup_vs_dense);
  if (r.tta_status == "partial") t += "p";
  if (r.speedup_vs_dense && r.speedup_vs_dense_lo && r.speedup_vs_dense_hi) {
    t += " [" + cell(r.speedup_vs_dense_lo) + "," + cell(r.speedup_vs_dense_hi) + "]";
    if (*r.speedup_vs_dense_lo <= 1 && 1 <= *r.speedup_vs_dense_hi) t += "~";
  }
  if (r.speedup_vs_dense && r.convergence_estimate == "interpolated") t += "i";
  if (r.speedup_vs_dense && r.convergence_estimate == "extrapolated") t += "e";
  return t + " (" + cell(r.iteration_speedup_vs_dense) + ")";
}

// Speedup over dense per (bandwidth, nodes): "TTA [95 % interval] (iteration)" for every configuration.
void print_table(const std::vector<ex::ResultRow>& rows) {
  std::set<std::tuple<std::string, std::string, double>> nets;  // topology, profile, latency
  for (const auto& r : rows) nets.insert({r.topology, r.profile, r.latency_s});
  bool any_ns = false, any_i = false, any_e = false, any_ci = false, any_p = false, any_m = false;
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
    int lw = 12;
    // Labels and topology names come from the spec: escaped (arcsim::io::escape_text) where printed.
    for (const auto& l : labels) lw = std::max(lw, static_cast<int>(arcsim::io::escape_text(l).size()));
    std::printf("\nspeedup over dense, time to accuracy [95 %% interval] (per iteration) -- %s, %s, %s us:\n",
                arcsim::io::escape_text(topo).c_str(), arcsim::io::escape_text(profile).c_str(), arcsim::io::format_number(std::round(lat * 1e6 * 1e6) / 1e6).c_str());
    for (double bw : bws) {
      std::printf("  %-*s", lw, (arcsim::io::format_number(std::round(bw * 8 / 1e9 * 1e6) / 1e6) + " Gbps").c_str());
      for (int n : nodes) std::printf(" %26s", ("N=" + std::to_string(n)).c_str());
      std::printf("\n");
      for (const auto& l : labels) {
        std::printf("  %-*s", lw, arcsim::io::escape_text(l).c_str());
        for (int n : nodes) {
          std::string text = "n/a";
          for (const auto& r : rows)
            if (r.topology == topo && r.profile == profile && r.latency_s == lat && r.bandwidth_Bps == bw &&
                r.nodes == n && r.compressor.value("label", "") == l) {
              text = r.status != "ok" ? "FAILED" : speedup_cell(r);
              any_ns = any_ns || text.find('~') != std::string::npos;
              any_ci = any_ci || r.speedup_vs_dense_lo.has_value();
              any_i = any_i || r.convergence_estimate == "interpolated";
              any_e = any_e || r.convergence_estimate == "extrapolated";
              any_p = any_p || r.tta_status == "partial";
              any_m = any_m || text.rfind("missed", 0) == 0;
            }
          std::printf(" %26s", text.c_str());
        }
        std::printf("\n");
      }
    }
  }
  std::printf("\n  %s", any_ci ? "intervals: 95 % over seeds (docs/experiments.md section 3)"
                              : "no intervals: one seed per configuration, or no time to accuracy");
  if (any_ns) std::printf("; ~ interval contains 1 (not significant)");
  if (any_i) std::printf("; i convergence interpolated across ranks");
  if (any_e) std::printf("; e convergence extrapolated beyond the recorded ranks");
  if (any_p) std::printf("; p some seeds missed the target (censored; tta_note)");
  if (any_m) std::printf("; missed: no seed reached the target");
  std::printf("\n");
}

}  // namespace

namespace {

void print_failures(const ex::SweepSummary& sum) {
  for (const auto& r : sum.rows)
    if (r.status == "failed")
      std::fprintf(stderr, "arcsim sweep: point %zu (%s, %d nodes) failed: %s\n", r.point,
                   arcsim::io::escape_text(r.compressor.value("label", "")).c_str(), r.nodes,
                   arcsim::io::escape_text(r.error, 4000).c_str());
}

// The spec's network points (its product without the compressors): the default number of Slurm
// array tasks is one per network point (shards never split one), at most 1000.
std::size_t network_points(const ex::ExperimentSpec& spec) {
  return spec.nodes.size() * spec.bandwidths_Bps.size() * spec.latencies_s.size() * spec.topologies.size() *
         spec.profiles.size();
}

int slurm(const ex::ExperimentSpec& spec, const po::variables_map& vm) {
  ex::SlurmOptions o;
  std::error_code ec;
  o.arcsim = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw std::runtime_error("--slurm: cannot find the arcsim binary's path (/proc/self/exe): " + ec.message());
  o.workdir = std::filesystem::current_path().string();
  o.spec_arg = vm["experiment"].as<std::string>();
  o.out_arg = vm["out"].as<std::string>();
  o.job_name = "arcsim-" + arcsim::io::safe_name(spec.name);
  const std::size_t units = network_points(spec);
  o.shards = vm.count("shards") ? vm["shards"].as<int>() : static_cast<int>(std::min<std::size_t>(units, 1000));
  o.cpus_per_task = vm["cpus-per-task"].as<int>();
  o.array_max = vm["array-max"].as<int>();
  if (vm.count("partition")) o.partition = vm["partition"].as<std::string>();
  if (vm.count("time")) o.time = vm["time"].as<std::string>();
  if (vm.count("account")) o.account = vm["account"].as<std::string>();
  ex::check_slurm_options(o);
  // The trace and topologies are checked now: a bad input found by the prepare job would leave
  // the array and the merge pending behind a dependency that can never be met.
  ex::check_inputs(spec, o.out_arg);
  const ex::SlurmScripts s = ex::write_slurm_scripts(o);
  std::printf("arcsim sweep: Slurm scripts for %s in %s/: prepare.sbatch, shards.sbatch (array 1-%d, %d CPU(s) "
              "each), merge.sbatch, submit.sh\n", spec.name.c_str(), s.dir.c_str(), o.shards, o.cpus_per_task);
  if (static_cast<std::size_t>(o.shards) > units)
    std::printf("note: %d shards for %zu network points: %zu array task(s) will have nothing to simulate "
                "(a shard never splits a network point)\n", o.shards, units, o.shards - units);
  if (!vm.count("submit")) {
    std::printf("submit the chain with: sh %s   (or: arcsim sweep ... --slurm --submit)\n", s.submit.c_str());
    return 0;
  }
  const ex::SlurmJobs j = ex::submit_slurm(s);
  std::printf("submitted: prepare %s, shards %s (array 1-%d), merge %s (each after the previous succeeded)\n",
              j.prepare.c_str(), j.shards.c_str(), o.shards, j.merge.c_str());
  std::printf("watch:     squeue -j %s,%s,%s\n", j.prepare.c_str(), j.shards.c_str(), j.merge.c_str());
  std::printf("after:     sacct -j %s,%s,%s --format=JobID,JobName,State,Elapsed,ExitCode\n", j.prepare.c_str(),
              j.shards.c_str(), j.merge.c_str());
  std::printf("logs:      %s/logs/   results: %s/results.csv once the merge ends\n", s.dir.c_str(), o.out_arg.c_str());
  return 0;
}

}  // namespace

int cmd_sweep(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim sweep EXPERIMENT.json --out DIR [--jobs N]\n"
      "       arcsim sweep EXPERIMENT.json --out DIR --prepare | --shard I/N | --merge\n"
      "       arcsim sweep EXPERIMENT.json --out DIR --slurm [--shards N] [--partition P] [--time T]\n"
      "                    [--cpus-per-task C] [--array-max M] [--account A] [--submit]\n\n"
      "Replays the experiment's trace through the compression kernels, simulates every point of the\n"
      "product (compressors x nodes x bandwidths x latencies x topologies x profiles), each in its own\n"
      "process, and writes DIR/results.csv and DIR/results.json after every point (docs/experiments.md).\n"
      "Re-running with the same DIR resumes from the finished points.\n\n"
      "More than one machine: --prepare replays once into DIR/plans/; --shard I/N (1 <= I <= N, on any\n"
      "host sharing DIR) simulates part I of N into DIR/shards/I-of-N/ and resumes like a sweep; --merge\n"
      "checks every shard and writes DIR/results.csv and results.json, byte-identical to an unsharded\n"
      "run. --slurm writes DIR/slurm/{prepare,shards,merge}.sbatch (one job array) and submit.sh.\n\noptions");
  opts.add_options()("help,h", "this help")("out,o", po::value<std::string>(), "output directory (created)")(
      "jobs,j", po::value<int>()->default_value(0), "simulations at once (0: every CPU this process may use)")(
      "quiet,q", "no progress lines")("columns", "print the results.csv columns (markdown table) and exit")(
      "force", "run a sweep of more than 10000 points (docs/limits.md)")(
      "replace", "overwrite a results directory that holds another experiment's results")(
      "write-interval", po::value<double>()->default_value(1.0, "1"),
      "seconds between rewrites of the results files while points finish (0: after every point)")(
      "prepare", "only the replay: fill DIR/plans/ for --shard and --merge")(
      "shard", po::value<std::string>(), "I/N: simulate only part I of N, into DIR/shards/I-of-N/ (needs --prepare)")(
      "merge", "check DIR/shards/*-of-N/ and write DIR/results.csv and results.json")(
      "slurm", "write Slurm batch scripts for prepare, a shard job array and merge into DIR/slurm/")(
      "shards", po::value<int>(), "--slurm: array tasks N (default: one per network point, at most 1000)")(
      "partition", po::value<std::string>(), "--slurm: partition (default: the cluster's)")(
      "time", po::value<std::string>(), "--slurm: time limit of each job (MM, HH:MM:SS, D-HH:MM:SS)")(
      "cpus-per-task", po::value<int>()->default_value(1), "--slurm: CPUs of each array task (its --jobs)")(
      "array-max", po::value<int>()->default_value(0), "--slurm: array tasks running at once (0: no limit)")(
      "account", po::value<std::string>(), "--slurm: account to charge")(
      "submit", "--slurm: submit the chain with sbatch and print the job ids");
  const auto parsed = parse_options(argc, argv, opts, "sweep", "experiment");
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (vm.count("columns")) {
    print_columns();
    return 0;
  }
  if (!vm.count("experiment")) throw std::runtime_error("options: expected EXPERIMENT.json (arcsim sweep --help)");
  if (!vm.count("out")) throw std::runtime_error("options: --out: expected an output directory (arcsim sweep --help)");
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 0) throw std::runtime_error("options: --jobs: expected a number >= 0, got " + std::to_string(jobs));
  const int modes = static_cast<int>(vm.count("prepare") + vm.count("shard") + vm.count("merge") + vm.count("slurm"));
  if (modes > 1)
    throw std::runtime_error("options: expected at most one of --prepare, --shard, --merge, --slurm (arcsim sweep --help)");
  if (!vm.count("slurm"))
    for (const char* o : {"shards", "partition", "time", "account", "submit"})
      if (vm.count(o)) throw std::runtime_error(std::string("options: --") + o + ": only with --slurm");
  if (!vm.count("slurm") && (!vm["cpus-per-task"].defaulted() || !vm["array-max"].defaulted()))
    throw std::runtime_error("options: --cpus-per-task and --array-max: only with --slurm");
  std::optional<ex::ShardId> shard;
  if (vm.count("shard")) shard = ex::parse_shard(vm["shard"].as<std::string>());

  const ex::ExperimentSpec spec = ex::parse_spec_file(vm["experiment"].as<std::string>());
  guard_experiment_outputs("sweep", spec, vm["experiment"].as<std::string>(), vm["out"].as<std::string>());
  ex::check_sweep_start(spec, vm["out"].as<std::string>(), vm.count("force") > 0, vm.count("replace") > 0);
  if (vm.count("slurm")) return slurm(spec, vm);
  ex::SweepOptions so;
  so.out_dir = vm["out"].as<std::string>();
  so.jobs = jobs;
  so.progress = !vm.count("quiet");
  so.shard = shard;
  so.write_interval_s = vm["write-interval"].as<double>();
  if (!(so.write_interval_s >= 0) || so.write_interval_s > 3600)
    throw std::runtime_error("options: --write-interval: expected seconds in [0, 3600]");
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  if (vm.count("prepare")) {
    const ex::PrepareSummary p = ex::prepare_sweep(spec, so);
    std::printf("arcsim sweep: %s: prepared %s/plans: %zu distinct plan(s) (%zu shape(s) replayed, %zu reused) for "
                "%zu points, %.0f s\n", arcsim::io::escape_text(spec.name).c_str(), arcsim::io::escape_text(so.out_dir).c_str(), p.plans, p.replayed, p.reused, p.points,
                elapsed());
    std::printf("gradients: %s\nnext: arcsim sweep %s --out %s --shard I/N  (I = 1..N, any hosts sharing %s), then --merge\n",
                p.replay_note.c_str(), spec.file.c_str(), so.out_dir.c_str(), so.out_dir.c_str());
    return 0;
  }
  const bool merge = vm.count("merge") > 0;
  const ex::SweepSummary sum = merge ? ex::merge_sweep(spec, so) : ex::run_sweep(spec, so);
  const std::string what = merge ? "merged" : shard ? "shard " + ex::shard_name(*shard) : "";
  std::printf("arcsim sweep: %s%s%s: %zu points (%zu ok, %zu failed, %zu reused from an earlier run), %zu simulations, %.0f s\n",
              arcsim::io::escape_text(spec.name).c_str(), what.empty() ? "" : " ", what.c_str(), sum.points, sum.ok, sum.failed, sum.reused,
              sum.simulations, elapsed());
  std::printf("gradients: %s\n", sum.replay_note.c_str());
  if (!shard) print_table(sum.rows);  // a shard's speedups lack the baselines other shards hold
  print_failures(sum);
  if (shard) {
    std::printf("\nshard results: %s/results.csv, %s/results.json (all shards done: arcsim sweep %s --out %s --merge)\n",
                sum.results_dir.c_str(), sum.results_dir.c_str(), spec.file.c_str(), so.out_dir.c_str());
  } else {
    std::printf("\nresults: %s/results.csv, %s/results.json (plots: arcsim plot %s)\n", so.out_dir.c_str(),
                so.out_dir.c_str(), so.out_dir.c_str());
  }
  return sum.failed ? 1 : 0;
}

}  // namespace arcsim::cli
