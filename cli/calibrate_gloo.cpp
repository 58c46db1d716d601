// arcsim calibrate --gloo-bench: reads the micro-benchmark a testbed cluster ran (DIR/bench-rank<R>.csv:
// op, bytes, repeat, seconds), fits the gloo profile's constants (sim/gloo_model.hpp), checks
// the fit by predicting every other size from the rest, and writes a topology file whose "gloo"
// section `simulate --profile gloo` and experiment specs read.
#include "calibrate_gloo.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "common/atomic_file.hpp"
#include "common/json_fields.hpp"
#include "common/output_guard.hpp"
#include "common/units.hpp"
#include "common/validated_write.hpp"
#include "sim/gloo_model.hpp"
#include "topologies/topology.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace arcsim::cli {

namespace {

// Per (call, bytes, repeat): the slowest rank's time. The benchmark's `hook:<label>` rows (the comm
// hook's own cost, not a gloo call; testbed/validate.py reads them) are skipped.
using Key = std::tuple<int, double, int>;

void read_rank(const fs::path& file, std::map<Key, double>& slowest) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(file.string() + ": cannot read");
  std::string line;
  if (!std::getline(in, line) || line.rfind("op,bytes,repeat,seconds", 0) != 0)
    throw std::invalid_argument(file.string() + ": line 1: expected the header op,bytes,repeat,seconds");
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string op, bytes, repeat, seconds;
    std::getline(ss, op, ',');
    std::getline(ss, bytes, ',');
    std::getline(ss, repeat, ',');
    std::getline(ss, seconds, ',');
    const std::string at = file.string() + ": line " + std::to_string(n) + ": ";
    if (op.rfind("hook", 0) == 0) continue;
    double b = 0, t = 0;
    int r = 0;
    try {
      b = std::stod(bytes);
      r = std::stoi(repeat);
      t = std::stod(seconds);
    } catch (const std::exception&) {
      throw std::invalid_argument(at + "expected numbers in bytes, repeat and seconds, got \"" + line + "\"");
    }
    if (!(b > 0) || !(t > 0) || !std::isfinite(t))
      throw std::invalid_argument(at + "expected positive bytes and seconds, got \"" + line + "\"");
    sim::gloo::Call call;
    try {
      call = sim::gloo::parse_bench_op(op);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(at + e.what());
    }
    auto& s = slowest[Key{static_cast<int>(call), b, r}];
    s = std::max(s, t);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

struct Point {
  sim::gloo::Call call;
  double bytes, measured_s;
  bool held_back;  // every other size of its op: predicted by the fit of the others
};

}  // namespace

int calibrate_gloo_bench(int argc, char** argv) {
  po::options_description desc(
      "arcsim calibrate --gloo-bench: fit the gloo profile to a micro-benchmark of your cluster\n\n"
      "  arcsim calibrate --gloo-bench DIR/star-n4-1000mbit/bench --topology star --bandwidth 1Gbps \\\n"
      "                   --output my-gloo.json\n"
      "  arcsim simulate --collective allreduce --bytes 1MiB --topology my-gloo.json --nodes 4 --profile gloo\n\n"
      "Reads bench-rank<R>.csv of every rank (what `arcsim testbed run` writes: op, bytes, repeat,\n"
      "seconds; ops allreduce, allgather, alltoall, broadcast through arcsim's transport). A point is\n"
      "the median (or --statistic mean) over repeats of the slowest rank's time. Fits, minimising the\n"
      "squared relative error:\n"
      "  gloo.call_overhead     per collective call (Python dispatch, gloo's worker-thread hand-off)\n"
      "  gloo.message_overhead  per message a rank posts (gloo's rendezvous, syscalls)\n"
      "  gloo.ring_efficiency, direct_efficiency, binomial_efficiency\n"
      "                         payload share of the link rate over TCP, per traffic pattern\n"
      "First on every other size of each op, predicting the sizes held back (the check, printed and\n"
      "written by --check), then on all sizes (the written constants).\n\nOptions");
  std::string bench, output, base = "star", name, bandwidth, latency, check, statistic = "median", burst;
  desc.add_options()("help,h", "show this help")("gloo-bench", po::value(&bench), "directory of bench-rank<R>.csv")(
      "topology", po::value(&base), "base topology (preset, type or file) of the benchmarked cluster (default star)")(
      "bandwidth", po::value(&bandwidth), "the links' rate, e.g. 1Gbps (default: the base topology's)")(
      "latency", po::value(&latency), "one message's latency between two ranks, e.g. 50us (default: the base's)")(
      "burst", po::value(&burst),
      "the links' token bucket, e.g. 16KiB (tc tbf's burst; the testbed's: docs/testbed.md section 1); default: the "
      "base topology's gloo.burst, 0 for a real link")(
      "name", po::value(&name), "name of the written topology (default: <base>-gloo)")(
      "statistic", po::value(&statistic),
      "a point's time over its repeats: median (default; robust to a late-scheduled rank) or mean (what a "
      "sum of many calls sees)")(
      "check", po::value(&check), "also write the held-back check as CSV (op, bytes, measured_s, predicted_s, "
                                  "error_pct, role)")("output,o", po::value(&output), "topology file to write (atomically)");
  bool help = false;
  for (int i = 1; i < argc; ++i) help |= std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h";
  if (help) {
    std::cout << desc << "\n";
    return 0;
  }
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
  po::notify(vm);
  if (bench.empty()) throw std::invalid_argument("--gloo-bench: expected the benchmark directory");
  if (output.empty()) throw std::invalid_argument("--output: expected the topology file to write");
  if (statistic != "median" && statistic != "mean")
    throw std::invalid_argument("--statistic: expected median|mean, got \"" + statistic + "\"");
  int ranks = 0;
  while (fs::exists(fs::path(bench) / ("bench-rank" + std::to_string(ranks) + ".csv"))) ++ranks;
  if (ranks < 2)
    throw std::invalid_argument("--gloo-bench: " + bench + ": expected bench-rank0.csv, bench-rank1.csv, ... of at "
                                "least 2 ranks, found " + std::to_string(ranks));
  {
    io::OutputGuard guard("calibrate");
    for (int r = 0; r < ranks; ++r)
      guard.input("--gloo-bench", (fs::path(bench) / ("bench-rank" + std::to_string(r) + ".csv")).string());
    if (fs::exists(base)) guard.input("--topology", base);
    guard.output("--output", output);
    if (!check.empty()) guard.output("--check", check);
    guard.check();
  }
  auto spec = topo::load_topology(base);
  try {
    if (!bandwidth.empty()) spec.bandwidth_Bps = units::parse_bandwidth_Bps(bandwidth);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--bandwidth: ") + e.what());
  }
  try {
    if (!latency.empty()) spec.latency_s = units::parse_latency_s(latency);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--latency: ") + e.what());
  }
  try {
    if (!burst.empty()) spec.gloo_burst_bytes = units::parse_size_bytes(burst);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--burst: ") + e.what());
  }
  if (spec.gpus_per_node != 1)
    throw std::invalid_argument("--topology: the gloo profile needs one rank per node, " + spec.name + " has " +
                                std::to_string(spec.gpus_per_node) + " GPUs per node");

  std::map<Key, double> slowest;
  for (int r = 0; r < ranks; ++r) read_rank(fs::path(bench) / ("bench-rank" + std::to_string(r) + ".csv"), slowest);
  std::map<std::pair<int, double>, std::vector<double>> repeats;
  for (const auto& [k, t] : slowest) repeats[{std::get<0>(k), std::get<1>(k)}].push_back(t);
  std::vector<Point> points;
  std::map<int, int> index_in_op;
  for (const auto& [k, ts] : repeats) {
    const int i = index_in_op[k.first]++;
    points.push_back(
        {static_cast<sim::gloo::Call>(k.first), k.second, statistic == "mean" ? mean(ts) : median(ts), i % 2 == 1});
  }
  auto samples = [&](bool all) {
    std::vector<sim::gloo::Sample> s;
    for (const auto& p : points)
      if (all || !p.held_back) s.push_back({p.call, p.bytes, p.measured_s});
    return s;
  };
  const double B = spec.bandwidth_Bps, lat = spec.latency_s;
  auto fit = [&](bool all) {
    try {
      return sim::gloo::fit(samples(all), ranks, lat, B, spec.gloo_burst_bytes);
    } catch (const std::invalid_argument& e) {  // "gloo fit: ..." -> the flag that gave the points
      throw std::invalid_argument("--gloo-bench " + bench + ": " + std::string(e.what()).substr(10) +
                                  (all ? "" : " on every other size (the held-back check)"));
    }
  };
  const auto half = fit(false);
  const auto costs = fit(true);

  std::printf("# arcsim calibrate --gloo-bench: %d ranks, %zu points, base %s at %s, latency %s, burst %.0f B\n",
              ranks, points.size(), spec.name.c_str(), units::format_bandwidth(B).c_str(),
              units::format_time(lat).c_str(), spec.gloo_burst_bytes);
  auto show = [](const char* what, const sim::gloo::Costs& c) {
    std::printf("# %s: call %.1f us, message %.1f us, efficiency ring %.3f, direct %.3f, binomial %.3f\n", what,
                c.call_s * 1e6, c.message_s * 1e6, c.efficiency[0], c.efficiency[1], c.efficiency[2]);
  };
  show("fit on every other size", half);
  show("fit on all sizes (written)", costs);
  std::printf("%-10s %10s %12s %12s %8s  %s\n", "op", "bytes", "measured_s", "predicted_s", "error_%", "role");
  std::string csv = "op,bytes,measured_s,predicted_s,error_pct,role\n";
  double held_sum = 0, held_worst = 0, fit_sum = 0;
  int held_n = 0;
  for (const auto& p : points) {
    const double pred = sim::gloo::seconds(sim::gloo::part(p.call, ranks, p.bytes), half, lat, B);
    const double e = 100 * (pred / p.measured_s - 1);
    const char* role = p.held_back ? "held-back" : "fitted";
    if (p.held_back) {
      held_sum += std::abs(e);
      held_worst = std::max(held_worst, std::abs(e));
      ++held_n;
    } else {
      fit_sum += std::abs(e);
    }
    std::printf("%-10s %10.0f %12.6f %12.6f %+8.1f  %s\n", sim::gloo::bench_op_name(p.call), p.bytes, p.measured_s,
                pred, e, role);
    char row[160];
    std::snprintf(row, sizeof row, "%s,%.0f,%.6g,%.6g,%.2f,%s\n", sim::gloo::bench_op_name(p.call), p.bytes,
                  p.measured_s, pred, e, role);
    csv += row;
  }
  const double held_mean = held_n ? held_sum / held_n : 0;
  std::printf("# held-back sizes: |error| mean %.1f %%, worst %.1f %% (%d points)\n", held_mean, held_worst, held_n);

  auto out = spec;
  out.name = name.empty() ? spec.name + "-gloo" : name;
  out.fixed_nodes = 0;
  out.description = "gloo costs fitted to " + std::to_string(ranks) + " ranks' micro-benchmark (" + bench + ")";
  out.gloo_call_s = std::max(costs.call_s, 1e-9);
  out.gloo_message_s = std::max(costs.message_s, 1e-9);
  for (int i = 0; i < sim::gloo::kPatterns; ++i) out.gloo_efficiency[i] = costs.efficiency[i];
  out.gloo_calibrated_from = {{"bench", bench}, {"ranks", ranks}, {"points", points.size()}, {"statistic", statistic},
                              {"held_back_mean_abs_error_pct", held_mean}, {"held_back_worst_abs_error_pct", held_worst},
                              {"base", spec.name}};
  io::write_validated(
      topo::topology_to_json(out).dump(2) + "\n",
      [&](const std::string& text) { topo::resolve(topo::parse_topology(json::parse_text(text, output), output), ranks); },
      {"--output", output}, {{"--bandwidth", {"bandwidth"}}, {"--latency", {"latency"}}});
  if (!check.empty()) io::write_file_atomic(check, csv);
  std::printf("wrote %s%s%s\n", output.c_str(), check.empty() ? "" : " and ", check.c_str());
  return 0;
}

}  // namespace arcsim::cli
