// arcsim calibrate --nccl-tests: reads nccl-tests text logs, fits what a NIC achieves, NCCL's
// latency scale and (from single-node logs) the intra-node bandwidth, writes a topology file that
// --topology and experiment specs accept, and prints the residual of every row.
#include "calibrate_nccl.hpp"

#include <boost/program_options.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "common/atomic_file.hpp"
#include "common/output_guard.hpp"
#include "common/validated_write.hpp"
#include "common/json_fields.hpp"
#include "common/units.hpp"
#include "sim/nccl_calibrate.hpp"
#include "sim/nccl_tests_log.hpp"
#include "simulate_table.hpp"
#include "topologies/topology.hpp"
#include "values.hpp"

namespace po = boost::program_options;

namespace arcsim::cli {

namespace {
// Out-of-place over in-place time above which the out-of-place sample is taken as a slow one.
constexpr double kSlowSample = 1.25;
}  // namespace

int calibrate_nccl_tests(int argc, char** argv) {
  po::options_description desc(
      "arcsim calibrate --nccl-tests: fit the nccl network model to your own nccl-tests logs\n\n"
      "  arcsim calibrate --nccl-tests all_reduce_2nodes.log [more.log ...] --gpus-per-node 8 \\\n"
      "                   --topology dgx-a100 --output my-cluster.json\n"
      "  arcsim simulate --collective allreduce --topology my-cluster.json --nodes 8 --profile nccl \\\n"
      "                  --min-bytes 1MiB --max-bytes 4GiB --step-factor 4\n"
      "  (or both at once: calibrate ... --output my-cluster.json --predict-nodes 8 16)\n\n"
      "Reads the standard text output of all_reduce_perf, all_gather_perf, reduce_scatter_perf or\n"
      "broadcast_perf (ranks and hosts from its '#  Rank' lines; out-of-place times; which test from\n"
      "its 'Collective test starting' line, the file name, --collective, or else the table's\n"
      "busbw/algbw factor). NCCL's choice of algorithm is taken as its tuner makes it. Fits:\n"
      "  nccl.nic_achievable   per-NIC bandwidth NCCL reaches (multi-node logs, large sizes)\n"
      "  nccl.latency_scale    scale of NCCL's latency constants (small sizes)\n"
      "  nccl.intra_achievable per-GPU intra-node bandwidth (single-node logs only)\n"
      "A constant the logs do not determine keeps the base topology's value. A row whose\n"
      "out-of-place time is over 1.25x its in-place time (one slow sample) is fitted on the in-place\n"
      "time, and says so.\n\nOptions");
  std::vector<std::string> logs;
  std::string output, base = "star", name, collective, nccl_algo = "auto", min_bytes, max_bytes;
  int gpus_per_node = 0, ranks = 0;
  std::vector<int> predict_nodes;
  desc.add_options()("help,h", "show this help")(
      "nccl-tests", po::value(&logs)->multitoken(), "nccl-tests output files (one test each)")(
      "gpus-per-node", po::value(&gpus_per_node), "GPUs per server (default: ranks / distinct hosts of the log)")(
      "ranks", po::value(&ranks), "total GPUs, for logs without '#  Rank' lines")(
      "collective", po::value(&collective), "allreduce|allgather|reduce_scatter|broadcast, when the log does not say")(
      "nccl-algo", po::value(&nccl_algo),
      "auto|ring|tree: the NCCL_ALGO the logs were run with (default auto: NCCL's own choice)")(
      "topology", po::value(&base), "base topology (preset, type or file) whose line rates and shape are kept (default star)")(
      "name", po::value(&name), "name of the written topology (default: <base>-calibrated)")(
      "min-bytes", po::value(&min_bytes), "fit only rows of at least this size, e.g. 64MiB (default: all)")(
      "max-bytes", po::value(&max_bytes), "fit only rows of at most this size (default: all)")(
      "output,o", po::value(&output), "topology file to write (atomically)")(
      "predict-nodes", po::value(&predict_nodes)->multitoken(),
      "then print the simulated nccl-tests table on the written topology at these server counts, e.g. 8 16 "
      "(the logs' sizes; NCCL's own choice of algorithm)");
  bool help = false;
  for (int i = 1; i < argc; ++i) help |= std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h";
  po::variables_map vm;
  if (!help) po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
  if (help) {
    std::cout << desc << "\n";
    return 0;
  }
  po::notify(vm);
  if (logs.empty()) throw std::invalid_argument("--nccl-tests: expected at least one nccl-tests log file");
  if (output.empty()) throw std::invalid_argument("--output: expected the topology file to write");
  {  // before any work: the written topology must not replace a log or the base topology file
    io::OutputGuard guard("calibrate");
    for (const auto& l : logs) guard.input("--nccl-tests", l);
    if (std::filesystem::exists(base)) guard.input("--topology", base);
    guard.output("--output", output).check();
  }
  if (vm.count("gpus-per-node") && gpus_per_node < 1)
    throw std::invalid_argument("--gpus-per-node: expected a positive integer, got " + std::to_string(gpus_per_node));
  for (int n : predict_nodes)
    if (n < 1) throw std::invalid_argument("--predict-nodes: expected positive server counts, got " + std::to_string(n));
  if (nccl_algo != "auto" && nccl_algo != "ring" && nccl_algo != "tree")
    throw std::invalid_argument("--nccl-algo: expected auto|ring|tree, got \"" + nccl_algo + "\"");
  const double lo = min_bytes.empty() ? 0 : parse_size_flag("--min-bytes", min_bytes);
  const double hi = max_bytes.empty() ? HUGE_VAL : parse_size_flag("--max-bytes", max_bytes);
  if (lo > hi) throw std::invalid_argument("--min-bytes: expected at most --max-bytes (" + max_bytes + "), got " + min_bytes);
  const auto spec = topo::load_topology(base);

  // One entry per log row (a few dozen bytes: no copy of the topology per row), and the fit's rows:
  // rows of the same collective, server count and size are one row of the fit, weighted by their
  // number, at the geometric mean of their times (the same minimum as fitting each).
  struct Meta { int file, nodes, ranks; bool in_place; sim::CollectiveOp op; double bytes, measured_s; };
  std::vector<Meta> meta;
  using Key = std::tuple<int, int, double>;  // collective, servers, size
  std::map<Key, std::size_t> fit_index;
  std::vector<sim::FitRow> fit_rows;
  for (std::size_t li = 0; li < logs.size(); ++li) {
    const auto& path = logs[li];
    const auto log = sim::load_nccl_tests_log(path, collective);
    const int R = log.ranks > 0 ? log.ranks : ranks;
    if (R < 1) throw std::invalid_argument(path + ": no '#  Rank' lines: give the GPU count with --ranks");
    const int G = gpus_per_node > 0 ? gpus_per_node : log.hosts > 0 ? R / log.hosts : spec.gpus_per_node;
    if (G < 1 || R % G != 0)
      throw std::invalid_argument(path + ": " + std::to_string(R) + " ranks are not a whole number of servers of " +
                                  std::to_string(G) + " GPUs (--gpus-per-node)");
    if (G != spec.gpus_per_node)
      throw std::invalid_argument(path + ": the log has " + std::to_string(G) + " GPUs per server, --topology " +
                                  spec.name + " has " + std::to_string(spec.gpus_per_node) +
                                  " (pick a base topology with the same node shape)");
    for (const auto& r : log.rows) {
      if (r.bytes < lo || r.bytes > hi) continue;
      // nccl-tests times each size twice; an out-of-place time far above the in-place one is a
      // slow sample of the same collective, not what the network does.
      const bool in_place = r.ip_time_us > 0 && r.time_us > kSlowSample * r.ip_time_us;
      const double t = (in_place ? r.ip_time_us : r.time_us) * 1e-6;
      meta.push_back({static_cast<int>(li), R / G, R, in_place, log.op, r.bytes, t});
      const auto [it, fresh] = fit_index.try_emplace(Key{static_cast<int>(log.op), R / G, r.bytes}, fit_rows.size());
      if (fresh) fit_rows.push_back({log.op, R / G, r.bytes, 0.0, 0.0});
      auto& f = fit_rows[it->second];
      f.measured_s += std::log(t);  // the sum of log times until all rows are read
      f.weight += 1;
    }
  }
  if (meta.empty())
    throw std::invalid_argument("--nccl-tests: no row of the logs lies within --min-bytes/--max-bytes");
  for (auto& f : fit_rows) f.measured_s = std::exp(f.measured_s / f.weight);
  // A fit of many distinct rows takes a while: say how far it is, every few seconds.
  const auto started = std::chrono::steady_clock::now();
  auto last = started;
  const auto fit = sim::fit_constants(spec, fit_rows, nccl_algo, [&](int done, int most) {
    const auto now = std::chrono::steady_clock::now();
    if (now - started < std::chrono::seconds(3) || now - last < std::chrono::seconds(3)) return;
    last = now;
    std::fprintf(stderr, "arcsim calibrate: fitting %zu rows (%zu distinct): evaluation %d of at most %d\n",
                 meta.size(), fit_rows.size(), done, most);
  });
  auto out = sim::apply_fit(spec, fit);
  out.name = name.empty() ? spec.name + "-calibrated" : name;
  out.fixed_nodes = 0;
  std::string files;
  nlohmann::json file_list = nlohmann::json::array();
  for (const auto& l : logs) {
    file_list.push_back(std::filesystem::path(l).filename().string());
    files += (files.empty() ? "" : ", ") + std::filesystem::path(l).filename().string();
  }
  out.description = "calibrated from nccl-tests logs (" + files + ") on base " + spec.name;
  const std::string by = "fitted by arcsim calibrate --nccl-tests to " + std::to_string(meta.size()) + " rows of " + files;
  if (fit.nic_fitted) out.nccl_sources["nic_achievable"] = by;
  if (fit.latency_fitted) out.nccl_sources["latency_scale"] = by;
  if (fit.intra_fitted) out.nccl_sources["intra_achievable"] = by;

  std::printf("# arcsim calibrate --nccl-tests: %zu rows from %zu log(s), base topology %s\n", meta.size(),
              logs.size(), spec.name.c_str());
  std::printf("# nic_achievable %s (%.3f of line rate)%s\n", units::format_bandwidth(out.nic_achievable_Bps).c_str(),
              fit.nic_eff, fit.nic_fitted ? "" : " [not determined by these logs: base value kept]");
  std::printf("# latency_scale %.4g\n", fit.latency_scale);
  std::printf("# intra_achievable %s (%.3f of intra_bandwidth)%s\n",
              units::format_bandwidth(out.intra_achievable_Bps > 0 ? out.intra_achievable_Bps : out.intra_bandwidth_Bps)
                  .c_str(),
              fit.intra_eff, fit.intra_fitted ? "" : " [not determined: needs a single-node log; base value kept]");
  std::printf("#%-28s %-14s %5s %5s %14s %12s %12s %8s  %s\n", "log", "collective", "nodes", "ranks", "bytes",
              "measured_us", "model_us", "error_%", "algorithm");
  double sum = 0, worst = 0;
  // The model's time once per (collective, servers, size), not once per row.
  struct Predicted { double t; std::string label; };
  std::vector<Predicted> predicted(fit_rows.size(), {-1, ""});
  for (const auto& m : meta) {
    auto& pr = predicted[fit_index.at(Key{static_cast<int>(m.op), m.nodes, m.bytes})];
    if (pr.t < 0) pr.t = sim::predict_point(out, m.op, m.nodes, m.bytes, &pr.label, nccl_algo);
    const double e = pr.t / m.measured_s - 1;
    sum += std::abs(e);
    worst = std::max(worst, std::abs(e));
    std::printf(" %-28s %-14s %5d %5d %14.0f %12.2f %12.2f %+8.2f  %s%s\n",
                std::filesystem::path(logs[m.file]).filename().string().substr(0, 28).c_str(), sim::to_string(m.op),
                m.nodes, m.ranks, m.bytes, m.measured_s * 1e6, pr.t * 1e6, 100 * e, pr.label.c_str(),
                m.in_place ? "  (in-place time: the out-of-place sample was slow)" : "");
  }
  const double mean = meta.empty() ? 0 : sum / meta.size();
  std::printf("# mean |error| %.2f %%, worst %.2f %%\n", 100 * mean, 100 * worst);
  // A constant at the edge of its range means the model cannot follow the logs there: say so.
  if (fit.nic_at_line_rate)
    std::fprintf(stderr,
                 "arcsim calibrate: warning: nic_achievable reached the NICs' line rate: the logs move data faster "
                 "than rings and trees over these NICs can (NVLSTree / NVLink SHARP, CollNet / IB SHARP, or more "
                 "channels than 2 per NIC as NCCL_MIN_CTAS gives: none modelled); predictions at other server "
                 "counts will be too fast. Logs run with NCCL_ALGO=Ring (--nccl-algo ring) avoid NVLSTree.\n");
  if (fit.latency_at_edge)
    std::fprintf(stderr,
                 "arcsim calibrate: warning: latency_scale %.3g is at the edge of its range (%g-%g): the small "
                 "sizes do not follow NCCL's per-step latency; fit a size range with --min-bytes/--max-bytes.\n",
                 fit.latency_scale, sim::kLatencyScaleRange[0], sim::kLatencyScaleRange[1]);
  if (worst > 0.25)
    std::fprintf(stderr,
                 "arcsim calibrate: warning: worst residual %.0f %%: rows the model does not follow (see error_%%); "
                 "predictions from this fit carry at least that error.\n",
                 100 * worst);
  nlohmann::json fitted = nlohmann::json::array();
  if (fit.nic_fitted) fitted.push_back("nic_achievable");
  if (fit.latency_fitted) fitted.push_back("latency_scale");
  if (fit.intra_fitted) fitted.push_back("intra_achievable");
  out.calibrated_from = {{"logs", file_list}, {"rows", meta.size()}, {"fitted", fitted}, {"nccl_algo", nccl_algo},
                         {"mean_abs_error", mean}, {"worst_abs_error", worst}, {"base", spec.name}};
  // The topology as `simulate --topology` will read it (its reader, then resolved at the logs'
  // server counts and at every --predict-nodes), checked before the old file is replaced.
  std::set<int> log_nodes;
  for (const auto& f : fit_rows) log_nodes.insert(f.nodes);
  std::vector<io::FlagFields> flags{{"--predict-nodes", {"--predict-nodes"}},
                                    {"--nccl-tests", {"nic_achievable", "intra_achievable", "latency", "bandwidth"}}};
  io::write_validated(
      topo::topology_to_json(out).dump(2) + "\n",
      [&](const std::string& text) {
        const auto back = topo::parse_topology(json::parse_text(text, output), output);
        for (int n : log_nodes) topo::resolve(back, n);
        for (int n : predict_nodes) {
          try {
            topo::resolve(back, n);
          } catch (const std::exception& e) {
            throw std::invalid_argument(std::string(e.what()) + " (at --predict-nodes " + std::to_string(n) + ")");
          }
        }
      },
      {"--output", output}, flags, logs);
  std::printf("wrote %s\n", output.c_str());
  if (predict_nodes.empty()) return 0;
  // The prediction the user came for: the written topology at the server counts they do not have,
  // simulated at the logs' sizes (smallest to largest, by the smallest step between them).
  std::map<sim::CollectiveOp, std::set<double>> sizes;
  for (const auto& f : fit_rows) sizes[f.op].insert(f.bytes);
  for (const auto& [op, sz] : sizes) {
    double step = 0;
    for (auto it = sz.begin(); std::next(it) != sz.end(); ++it) {
      const double r = *std::next(it) / *it;
      if (step == 0 || r < step) step = r;
    }
    for (int n : predict_nodes) {
      std::printf("\n");
      std::fflush(stdout);
      const sim::NetworkConfig net{output, n, 0, -1, "nccl", "auto", "auto", "flow"};
      if (const int rc = simulate_table(net, op, *sz.begin(), *sz.rbegin(), step > 1 ? step : 2, false); rc != 0) return rc;
    }
  }
  return 0;
}

}  // namespace arcsim::cli
