// arcsim simulate: one collective (--collective) or one training iteration (--plan + --compute)
// on a simulated cluster. Prints one JSON object on stdout.
#include <algorithm>
#include <cstdio>
#include <vector>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "commands.hpp"
#include "simulate_table.hpp"
#include "values.hpp"
#include "sim/collective.hpp"
#include "sim/iteration.hpp"
#include "sim/limits.hpp"
#include "sim/profile.hpp"
#include "common/units.hpp"
#include "common/format.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;

namespace {

double parse_bw(const std::string& s) {
  try {
    return units::parse_bandwidth_Bps(s);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--bandwidth: ") + e.what());
  }
}
double parse_lat(const std::string& s) {
  try {
    return units::parse_latency_s(s);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--latency: ") + e.what());
  }
}

// Which option applies to which network profile / mode: an option given where it does not apply is
// refused, never accepted and ignored (`--protocol` on ideal, `--fidelity` on tcp).
struct OptionUse {
  const char* option;
  std::vector<std::string> profiles;  // empty: any profile
  const char* mode;                   // nullptr: any mode; else "table" (needs --min/--max-bytes)
};
const OptionUse kOptionUses[] = {
    {"protocol", {"nccl"}, nullptr},
    {"fidelity", {"nccl"}, nullptr},
    {"channels", {"nccl"}, nullptr},
    {"step-factor", {}, "table"},
};

void check_option_uses(const po::variables_map& vm, const std::string& profile, bool table_mode) {
  for (const auto& u : kOptionUses) {
    if (!vm.count(u.option)) continue;
    if (!u.profiles.empty() && std::find(u.profiles.begin(), u.profiles.end(), profile) == u.profiles.end()) {
      std::string list;
      for (const auto& p : u.profiles) list += (list.empty() ? "" : ", ") + p;
      throw std::invalid_argument(std::string("--") + u.option + ": applies only to the " + list + " profile, not " +
                                  io::escape_text(profile));
    }
    if (u.mode && std::string(u.mode) == "table" && !table_mode)
      throw std::invalid_argument(std::string("--") + u.option +
                                  ": applies only to table mode (--min-bytes/--max-bytes), not a single size");
  }
}

}  // namespace

int cmd_simulate(int argc, char** argv) {
  po::options_description opts(
      "arcsim simulate: one collective or one training iteration on a simulated cluster\n\n"
      "  arcsim simulate --collective allreduce --algorithm ring --bytes 1e8 --nodes 64 \\\n"
      "                  --bandwidth 100Gbps --latency 5us [--topology star] [--profile nccl] --json\n"
      "  arcsim simulate --collective allreduce --min-bytes 1MiB --max-bytes 4GiB --step-factor 2 \\\n"
      "                  --topology dgx-a100 --nodes 2 --profile nccl [--json]   (nccl-tests-style table)\n"
      "  arcsim simulate --plan plan.json --compute compute.json --topology ib-fattree --nodes 16 \\\n"
      "                  [--bandwidth 100Gbps] [--latency 5us] [--profile nccl] [--blocking|--async]\n\n"
      "Options");
  std::string collective, algorithm = "auto", bytes, topology = "star", profile = sim::kDefaultProfile, bandwidth,
                          latency, plan, compute, protocol = "auto", fidelity = "flow", min_bytes, max_bytes;
  double step_factor = 2;
  int nodes = 0, channels = 0;
  opts.add_options()("help,h", "this help")
      ("collective", po::value(&collective),
       (vocab::names(plan::collective_ops()) + " (allgatherv needs per-rank sizes: --plan only)").c_str())
      ("algorithm", po::value(&algorithm), ("collective algorithm (default auto):\n" + vocab::help(sim::algorithms(), "\n")).c_str())
      ("protocol", po::value(&protocol), "nccl profile: LL|LL128|Simple|auto (default auto: NCCL's choice)")
      ("fidelity", po::value(&fidelity), "nccl profile: flow (default: aggregated steps) | message (every chunk)")
      ("channels", po::value(&channels), "nccl profile: NCCL's channel count, as NCCL_MIN_NCHANNELS = NCCL_MAX_NCHANNELS set it (default: the topology's nccl.channels, else 2 per NIC)")
      ("min-bytes", po::value(&min_bytes), "table mode: smallest size (nccl-tests -b), e.g. 1MiB")
      ("max-bytes", po::value(&max_bytes), "table mode: largest size (nccl-tests -e), e.g. 4GiB")
      ("step-factor", po::value(&step_factor), "table mode: size multiplier between rows (nccl-tests -f, default 2)")
      ("bytes", po::value(&bytes), "size: all-reduce vector per rank; all-gather total gathered (nccl-tests)")
      ("nodes", po::value(&nodes), "number of nodes (machines)")
      ("bandwidth", po::value(&bandwidth), "per-NIC link bandwidth with unit, e.g. 100Gbps, 12.5GBps (default: the topology's)")
      ("latency", po::value(&latency), "end-to-end latency of one message between two nearest nodes, e.g. 5us (default: the topology's)")
      ("topology", po::value(&topology), "type (star|fattree|torus|dragonfly), preset name, or topology JSON file (default star)")
      ("profile", po::value(&profile),
       (std::string("network model (default ") + sim::kDefaultProfile + "):\n" + vocab::help(sim::profiles(), "\n")).c_str())
      ("plan", po::value(&plan), "communication plan (arcsim-plan/1) for one iteration")
      ("compute", po::value(&compute), "compute profile (arcsim-compute/1)")
      ("blocking", "treat every collective of the plan as blocking")
      ("async", "treat every collective of the plan as asynchronous")
      ("no-overlap", "what-if: start all communication after the backward pass")
      ("json", "print JSON (table mode: text by default; otherwise JSON is the only format)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(std::string("command line: ") + e.what() + " (arcsim simulate --help)");
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (collective.empty() == plan.empty())
    throw std::invalid_argument("expected exactly one of --collective or --plan (see --help)");
  // An option of the other mode is a mistake, not a no-op.
  for (const char* o : {"compute", "blocking", "async", "no-overlap"})
    if (!collective.empty() && vm.count(o))
      throw std::invalid_argument(std::string("--") + o + ": applies to --plan only, not to --collective");
  if (!plan.empty() && vm.count("bytes"))
    throw std::invalid_argument("--bytes: applies to --collective only (a plan carries its own sizes)");
  if (vm.count("blocking") && vm.count("async"))
    throw std::invalid_argument("--blocking and --async exclude each other");
  sim::parse_profile(profile);  // an unknown profile is named before what depends on it
  check_option_uses(vm, profile, !collective.empty() && (!min_bytes.empty() || !max_bytes.empty()));
  if (!vm.count("nodes")) throw std::invalid_argument("--nodes: expected a positive node count (required)");
  if (nodes < 1) throw std::invalid_argument("--nodes: expected a positive node count, got " + std::to_string(nodes));

  sim::NetworkConfig net;
  net.topology = topology;
  net.nodes = nodes;
  net.bandwidth_Bps = bandwidth.empty() ? 0 : parse_bw(bandwidth);
  net.latency_s = latency.empty() ? -1 : parse_lat(latency);
  net.profile = profile;
  net.algorithm = algorithm;
  net.protocol = protocol;
  net.fidelity = fidelity;
  net.channels = channels;

  nlohmann::json out;
  if (!collective.empty() && (!min_bytes.empty() || !max_bytes.empty())) {
    if (!bytes.empty()) throw std::invalid_argument("--bytes excludes --min-bytes/--max-bytes");
    if (min_bytes.empty() || max_bytes.empty())
      throw std::invalid_argument("--min-bytes and --max-bytes: expected both (table mode)");
    const auto op = sim::parse_op(collective);
    sim::check_message_bytes(parse_size_flag("--max-bytes", max_bytes), "--max-bytes");
    return simulate_table(net, op, parse_size_flag("--min-bytes", min_bytes), parse_size_flag("--max-bytes", max_bytes),
                          step_factor, vm.count("json") > 0);
  }
  if (!collective.empty()) {
    if (bytes.empty()) throw std::invalid_argument("--bytes: expected a size (required with --collective)");
    const auto op = sim::parse_op(collective);
    const double b = parse_size_flag("--bytes", bytes);
    sim::check_message_bytes(b, "--bytes");
    out = sim::to_json(sim::simulate_collective(net, op, b));
  } else {
    if (compute.empty()) throw std::invalid_argument("--compute: expected a compute profile file (required with --plan)");
    const auto p = sim::load_plan(plan);
    const auto c = sim::load_compute_profile(compute);
    sim::IterationOptions o;
    if (vm.count("blocking")) o.blocking = true;
    if (vm.count("async")) o.blocking = false;
    o.overlap = !vm.count("no-overlap");
    out = sim::to_json(sim::simulate_iteration(net, p, c, o));
    out["plan"] = plan;
    out["compute"] = compute;
  }
  std::cout << out.dump(2) << std::endl;
  return 0;
}

}  // namespace arcsim::cli
