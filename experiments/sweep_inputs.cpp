#include "sweep_inputs.hpp"

#include <filesystem>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "common/sha256.hpp"
#include "experiments/compute_model.hpp"
#include "topologies/topology.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;

namespace {

// The argument the simulator takes for one topology, after checking it at every network point, and
// its node's transport.
std::pair<std::string, std::string> check_topology(const ExperimentSpec& spec, std::size_t i, const std::string& out_dir) {
  const auto& t = spec.topologies[i];
  std::string arg;
  if (t.spec.is_object()) {
    fs::create_directories(out_dir + "/topologies");
    arg = out_dir + "/topologies/" + io::safe_name(t.name) + ".json";
    const std::string text = t.spec.dump(2) + "\n";
    // Shards of one sweep run at once: rewriting identical bytes would race for nothing.
    if (!fs::exists(arg) || io::read_file(arg) != text) io::write_file_atomic(arg, text);
  } else {
    arg = t.spec.get<std::string>();
  }
  const std::string field = spec.file + ": topologies[" + std::to_string(i) + "]";
  std::string transport;
  try {
    const topo::TopologySpec ts = topo::load_topology(arg);
    for (int n : spec.nodes)
      for (double bw : spec.bandwidths_Bps)
        for (double lat : spec.latencies_s) {
          try {
            const topo::Resolved r = topo::resolve(ts, n, bw, lat);
            transport = r.transport;
            if (r.ranks < 2)
              throw std::invalid_argument("1 node of 1 GPU has nothing to communicate: one host needs a topology whose "
                                          "node has several GPUs (node.gpus >= 2)");
          } catch (const std::exception& e) {
            throw std::runtime_error(std::string(e.what()) + " (at nodes = " + std::to_string(n) + ")");
          }
        }
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw ConfigError(field + ": " + what);
  }
  return {arg, transport};
}

}  // namespace

SweepInputs check_inputs(const ExperimentSpec& spec, const std::string& out_dir) {
  SweepInputs in;
  try {
    in.trace = traces::validate_trace(spec.trace);
  } catch (const std::exception& e) {
    throw ConfigError(spec.file + ": trace: " + e.what());
  }
  if (!in.trace.compute)
    throw ConfigError(spec.file + ": trace: expected a trace with a compute profile, got " + spec.trace +
                      " without one");
  in.trace_checksum = io::sha256_hex(io::read_file(spec.trace + "/trace.json"));
  try {
    ComputeChoice c = choose_compute(spec.compute, in.trace);
    in.compute = std::move(c.profile);
    in.compute_source = std::move(c.source);
  } catch (const std::exception& e) {
    throw ConfigError(spec.file + ": compute: " + e.what());
  }

  traces::BucketOptions bopt;
  bopt.cap_bytes = static_cast<std::int64_t>(spec.bucket_cap_bytes);
  bopt.first_cap_bytes = static_cast<std::int64_t>(spec.first_bucket_cap_bytes);
  in.buckets = traces::ddp_buckets(in.trace.layout, bopt);

  if (spec.kernel_timing != "measured-cpu") {
    try {
      in.timer = kernels::KernelTimeModel::from_spec(spec.kernel_timing);
    } catch (const std::exception& e) {
      throw ConfigError(spec.file + ": kernel_timing: " + e.what());
    }
  }
  in.backend = &kernels::backend_by_name(spec.backend);  // cuda without a device: one line, exit 3
  // Measured durations are the backend's own: measured-cpu, or measured-gpu:<device> on cuda.
  in.timing_source = in.timer ? in.timer->source() : in.backend->duration_source();

  fs::create_directories(out_dir);
  for (std::size_t i = 0; i < spec.topologies.size(); ++i) {
    auto [arg, transport] = check_topology(spec, i, out_dir);
    in.topology_args.push_back(std::move(arg));
    in.topology_transports.push_back(std::move(transport));
  }
  return in;
}

}  // namespace arcsim::experiments
