// arcsim init TRACE --out SPEC.json: writes an experiment spec whose compressors match the
// trace's convergence logs exactly (experiments/init_spec.hpp), checked by the spec parser
// before it is written (atomically).
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "parse_options.hpp"
#include "common/atomic_file.hpp"
#include "common/fs_error.hpp"
#include "common/json_fields.hpp"
#include "common/output_guard.hpp"
#include "common/validated_write.hpp"
#include "experiments/compute_model.hpp"
#include "experiments/init_spec.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"
#include "sim/profile.hpp"
#include "traces/trace.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace ex = arcsim::experiments;

int cmd_init(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim init TRACE --out SPEC.json [--nodes N ...] [--bandwidths B ...] [--topologies T ...]\n"
      "                   [--compute trace|model:GPU]\n\n"
      "Writes an experiment spec for TRACE with one compressor per convergence config of the trace\n"
      "(its options copied from the log, \"convergence\" naming it), the recorded worker counts as\n"
      "nodes (or --nodes), 1/10/100 Gbit/s (or --bandwidths) and the trace's target, so that\n"
      "`arcsim sweep SPEC.json` has a time to accuracy for every recorded configuration.\n\noptions");
  opts.add_options()("help,h", "this help")("out,o", po::value<std::string>(), "spec file to write")(
      "nodes", po::value<std::vector<int>>()->multitoken(), "node counts (default: those every configuration was recorded at)")(
      "bandwidths", po::value<std::vector<std::string>>()->multitoken(), "bandwidths, e.g. 1Gbps 100Gbps")(
      "topologies", po::value<std::vector<std::string>>()->multitoken(),
      "topology presets or files (default star); --nodes 1 needs one whose node has several GPUs, e.g. host-4x4090-shm")(
      "compute", po::value<std::string>()->default_value("trace"), "compute source: trace or model:GPU");
  const auto parsed = parse_options(argc, argv, opts, "init", "trace");
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("trace")) throw std::runtime_error("options: expected TRACE (a trace directory; arcsim init --help)");
  if (!vm.count("out")) throw std::runtime_error("options: --out: expected the spec file to write (arcsim init --help)");
  const std::string trace_dir = vm["trace"].as<std::string>(), out = vm["out"].as<std::string>();
  io::OutputGuard("init").input_trace("TRACE", trace_dir).output("--out", out).check();  // before reading
  const traces::Trace trace = traces::read_trace(trace_dir);
  ex::InitOptions iopt;
  if (vm.count("nodes")) {
    // Checked here, as the flag, not as "nodes[0]" of the spec it would write (the spec's bound).
    iopt.nodes = vm["nodes"].as<std::vector<int>>();
    for (const int n : iopt.nodes)
      if (n < 1 || n > 65536)
        throw std::runtime_error("--nodes: expected node counts, integers in [1, 65536], got " + std::to_string(n));
  }
  if (vm.count("bandwidths")) iopt.bandwidths = vm["bandwidths"].as<std::vector<std::string>>();
  iopt.compute = vm["compute"].as<std::string>();
  // The trace and topology files as the spec will resolve them: relative to the spec's directory.
  const fs::path spec_dir = fs::absolute(fs::path(out)).parent_path();
  if (vm.count("topologies"))
    for (const auto& t : vm["topologies"].as<std::vector<std::string>>())
      iopt.topologies.push_back(t.size() > 5 && t.substr(t.size() - 5) == ".json"
                                    ? fs::relative(fs::absolute(t), spec_dir).lexically_normal().string()
                                    : t);
  const std::string rel = fs::relative(fs::absolute(trace_dir), spec_dir).lexically_normal().string();
  std::vector<std::string> skipped;
  const nlohmann::json spec = ex::spec_from_trace(trace, rel, iopt, &skipped);
  // What the sweep checks before it starts (the spec parser on the text as written, then every
  // input it names: trace, compute source, kernel timing, every topology at every node count),
  // before anything is written; a refusal names the flag that caused it.
  const std::string spec_path = (spec_dir / fs::path(out).filename()).string();
  std::vector<io::FlagFields> flags;
  if (vm["compute"].defaulted() == false) flags.push_back({"--compute", {"compute"}});
  if (vm.count("bandwidths")) flags.push_back({"--bandwidths", {"bandwidth"}});
  if (vm.count("nodes")) flags.push_back({"--nodes", {"nodes", "ranks", "nothing to communicate"}});
  if (vm.count("topologies")) flags.push_back({"--topologies", {"topologies", "topology"}});
  io::create_output_directory("--out", spec_dir);
  io::write_validated(
      spec.dump(2) + "\n",
      [&](const std::string& text) {
        const ex::ExperimentSpec parsed = ex::parse_spec(json::parse_text(text, spec_path), spec_path);
        // check_inputs writes inline topologies under its directory: a scratch one, removed after.
        std::string scratch = (fs::temp_directory_path() / "arcsim-init.tmp.XXXXXX").string();
        if (!::mkdtemp(scratch.data())) throw std::runtime_error("cannot create a scratch directory in /tmp");
        struct Remove {
          std::string dir;
          ~Remove() { std::error_code ec; fs::remove_all(dir, ec); }
        } remove{scratch};
        ex::check_inputs(parsed, scratch);
      },
      {"--out", out}, flags, {trace_dir, rel, spec_path});
  for (const auto& s : skipped) std::fprintf(stderr, "arcsim init: left out %s\n", s.c_str());
  // The written spec's profiles are the default (nccl): a GPU cluster's network.
  if (const auto w = ex::cpu_compute_warning(ex::compute_settings(iopt.compute), trace, {sim::kDefaultProfile}); !w.empty())
    std::fprintf(stderr, "arcsim init: warning: %s\n", w.c_str());
  std::printf("arcsim init: wrote %s: %zu compressor(s) from %s, nodes %s\n", out.c_str(), spec["compressors"].size(),
              trace_dir.c_str(), spec["nodes"].dump().c_str());
  return 0;
}

}  // namespace arcsim::cli
