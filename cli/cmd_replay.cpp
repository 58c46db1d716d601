// arcsim replay: a trace's gradients through one compressor (the real kernels), bucket by bucket:
// the communication plan, the kernel times and the compression quality. The same code path the
// sweep uses (experiments/replay.hpp), so what it prints is what the simulator will execute.
#include <boost/program_options.hpp>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "parse_options.hpp"
#include "compressor_flags.hpp"
#include "values.hpp"
#include "experiments/replay.hpp"
#include "kernels/backend.hpp"
#include "kernels/timing.hpp"
#include "common/units.hpp"
#include "common/format.hpp"
#include "common/atomic_file.hpp"
#include "common/output_guard.hpp"
#include "traces/buckets.hpp"
#include "traces/trace.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;
namespace ex = arcsim::experiments;
using nlohmann::json;

namespace {

std::string human_bytes(double b) {
  char buf[32];
  if (b >= 1 << 30) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1 << 30));
  else if (b >= 1 << 20) std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1 << 20));
  else if (b >= 1 << 10) std::snprintf(buf, sizeof buf, "%.1f KiB", b / (1 << 10));
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

}  // namespace

int cmd_replay(int argc, char** argv) {
  po::options_description opts(
      "usage: arcsim replay TRACE_DIR --compressor NAME [options] [--json]\n\n"
      "Runs the compressor's kernels on the trace's gradients (recorded samples, or the trace's\n"
      "synthetic distribution for layout-only traces), bucket by bucket, and prints per bucket the\n"
      "collectives (op, bytes per rank), the kernels and their durations, and the compression quality.\n\noptions");
  opts.add_options()("help,h", "this help")("compressor,c", po::value<std::string>(), compressor_flag_help().c_str())(
      "seed", po::value<std::string>()->default_value("1"), "shared seed (an integer >= 0)")(
      "workers", po::value<int>()->default_value(8), "emulated workers (at most the sampled ones)")(
      "sample", po::value<int>()->default_value(0), "which gradient sample step (index) to replay")(
      "kernel-timing", po::value<std::string>()->default_value(arcsim::kernels::kDefaultKernelTiming),
      "measured (the backend's own durations: measured-cpu, or measured-gpu:<device> on cuda) | "
      "measured-cpu (the same) | model:GPU | calibration:FILE")(
      "bucket-cap", po::value<std::string>()->default_value("25MiB"), "DDP bucket cap")(
      "first-bucket-cap", po::value<std::string>()->default_value("1MiB"), "DDP first bucket cap")(
      "plan-out", po::value<std::string>(), "also write the arcsim-plan/1 document here")(
      "backend", po::value<std::string>()->default_value(kernels::kDefaultBackend),
      "where the kernels run: auto (cuda when a device is present, else cpu) | cpu | cuda | reference")(
      "quiet,q", "no progress on stderr")(
      "json", "print one JSON object instead of the table");
  po::options_description copts("compressor options (each applies to the compressors that take it; "
                                "`arcsim compressors` lists them)");
  add_compressor_flags(copts);
  opts.add(copts);
  const auto parsed = parse_options(argc, argv, opts, "replay", "trace");
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("trace")) throw std::runtime_error("options: expected TRACE_DIR (arcsim replay --help)");
  if (!vm.count("compressor")) throw std::runtime_error("--compressor: expected one of " + compressor_flag_help());

  {  // before any work: the plan must not replace the trace, one of its files or the calibration file
    io::OutputGuard guard("replay");
    guard.input_trace("TRACE_DIR", vm["trace"].as<std::string>());
    const std::string timing = vm["kernel-timing"].as<std::string>(), cal = "calibration:";
    if (timing.rfind(cal, 0) == 0) guard.input("--kernel-timing", timing.substr(cal.size()));
    if (vm.count("plan-out")) guard.output("--plan-out", vm["plan-out"].as<std::string>());
    guard.check();
  }
  if (vm.count("plan-out")) io::check_output_path(vm["plan-out"].as<std::string>());  // before any work
  kernels::CompressorConfig cfg;
  try {
    cfg = compressor_config_from_flags(vm, vm["compressor"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  cfg.seed = parse_unsigned("--seed", vm["seed"].as<std::string>());
  const int workers = vm["workers"].as<int>();
  if (workers < 2) throw std::runtime_error("--workers: expected an integer >= 2, got " + std::to_string(workers));
  const int sample = vm["sample"].as<int>();
  if (sample < 0) throw std::runtime_error("--sample: expected an index >= 0, got " + std::to_string(sample));

  traces::BucketOptions bopt;
  // Each cap checked as its own flag (a zero cap used to surface as "bucket caps: expected positive").
  for (const char* flag : {"bucket-cap", "first-bucket-cap"}) {
    const std::string text = vm[flag].as<std::string>();
    double v = 0;
    try {
      v = units::parse_size_bytes(text);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("--") + flag + ": " + e.what());
    }
    if (!(v >= 1))
      throw std::runtime_error(std::string("--") + flag + ": expected a positive size, got \"" + io::escape_text(text) + "\"");
    (std::string(flag) == "bucket-cap" ? bopt.cap_bytes : bopt.first_cap_bytes) = static_cast<std::int64_t>(v);
  }
  std::optional<kernels::KernelTimeModel> timer;
  const std::string timing = vm["kernel-timing"].as<std::string>();
  if (timing != "measured-cpu" && timing != "measured") {
    try {
      timer = kernels::KernelTimeModel::from_spec(timing);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--kernel-timing: ") + e.what());
    }
  }

  kernels::Backend* backend = nullptr;
  try {
    backend = &kernels::backend_by_name(vm["backend"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--") + e.what());
  }  // BackendUnavailable (cuda without a device): one line, exit 3 (main.cpp)

  const traces::Trace trace = traces::read_trace(vm["trace"].as<std::string>());
  const auto buckets = traces::ddp_buckets(trace.layout, bopt);
  ex::GradientSource grads(trace, buckets, workers, cfg.compressor == "dense" ? "dense" : "");
  // An explicit --workers the trace cannot serve is refused; the default means "up to 8".
  if (!vm["workers"].defaulted() && grads.workers() < workers)
    throw std::runtime_error("--workers: expected at most " + std::to_string(grads.workers()) +
                             " (the workers whose gradients " + vm["trace"].as<std::string>() +
                             "/trace.json holds), got " + std::to_string(workers));
  if (sample >= grads.steps_available())
    throw std::runtime_error("--sample: expected an index below " + std::to_string(grads.steps_available()) +
                             " (the samples that cover the layout), got " + std::to_string(sample));
  const bool show = !vm.count("quiet");
  const bool tty = isatty(fileno(stderr)) != 0;
  double shown_s = 0.0;
  const ex::ShapePlan sp = ex::replay_shape(grads, cfg, sample, timer ? &*timer : nullptr, *backend,
                                            [&](const ex::ReplayProgress& p) {
                                              if (!show || (p.elapsed_s - shown_s < 1.0 && p.buckets_done < p.buckets)) return;
                                              shown_s = p.elapsed_s;
                                              std::fprintf(stderr, tty ? "\r\033[K[replay %s] %s%s" : "[replay %s] %s%s\n",
                                                           backend->name(), p.line().c_str(),
                                                           tty && p.buckets_done == p.buckets ? "\n" : "");
                                              std::fflush(stderr);
                                            });
  const std::string source = timer ? timer->source() : backend->duration_source();
  const json plan_doc = plan::to_json(sp.plan);  // the format's one writer

  if (vm.count("plan-out")) io::write_file_atomic(vm["plan-out"].as<std::string>(), plan_doc.dump(1) + "\n");

  json per_bucket = json::array();
  for (const auto& b : plan_doc["buckets"]) {
    double kernel_s = 0, bytes = 0;
    json collectives = json::array(), kernels = json::array();
    for (const auto& op : b["ops"]) {
      if (op["kind"] == "kernel") {
        kernel_s += op["duration_s"].get<double>();
        kernels.push_back({{"name", op["name"]}, {"elements", op["elements"]}, {"duration_s", op["duration_s"]}});
      } else {
        bytes += op["bytes_per_rank"].get<double>();
        collectives.push_back({{"op", op["op"]}, {"bytes_per_rank", op["bytes_per_rank"]}, {"blocking", op["blocking"]}});
      }
    }
    per_bucket.push_back({{"bucket", b["bucket"]},
                          {"elements", b["elements"]},
                          {"tensors", b["tensors"].size()},
                          {"collectives", collectives},
                          {"kernels", kernels},
                          {"kernel_s", kernel_s},
                          {"bytes_per_rank", bytes}});
  }
  if (vm.count("json")) {
    json out = {{"trace", trace.dir},
                {"gradients", grads.description()},
                {"workers", grads.workers()},
                {"compressor", plan_doc["compressor"]},
                {"kernel_timing", source},
                {"backend", sp.backend},
                {"buckets", per_bucket},
                {"totals",
                 {{"kernel_s", sp.kernel_s}, {"bytes_per_rank", sp.bytes_per_rank}, {"collectives", sp.collectives},
                  {"kernels", sp.kernels}}},
                {"relative_error", sp.relative_error ? json(*sp.relative_error) : json(nullptr)},
                {"retained_energy", sp.retained_energy ? json(*sp.retained_energy) : json(nullptr)},
                {"plan", plan_doc}};
    std::cout << out.dump(1) << "\n";
    return 0;
  }
  std::printf("trace %s (%s): %zu buckets, %lld elements; gradients: %s\n", trace.name.c_str(), trace.dir.c_str(),
              buckets.size(), static_cast<long long>(trace.layout.total_elements()), grads.description().c_str());
  std::printf("compressor %s; backend %s; kernel timing: %s\n\n", plan_doc["compressor"].dump().c_str(),
              sp.backend.c_str(), source.c_str());
  std::printf("%6s %12s %7s %12s %12s  %s\n", "bucket", "elements", "tensors", "kernels", "sent/rank", "collectives");
  for (const auto& b : per_bucket) {
    std::string coll;
    for (const auto& c : b["collectives"])
      coll += (coll.empty() ? "" : ", ") + c["op"].get<std::string>() + " " + human_bytes(c["bytes_per_rank"].get<double>());
    if (coll.size() > 90) coll = coll.substr(0, 87) + "...";
    std::printf("%6d %12lld %7zu %9.3f ms %12s  %s\n", b["bucket"].get<int>(), b["elements"].get<long long>(),
                b["tensors"].get<std::size_t>(), b["kernel_s"].get<double>() * 1e3,
                human_bytes(b["bytes_per_rank"].get<double>()).c_str(), coll.c_str());
  }
  std::printf("\ntotal: %d collectives, %d kernels, %.3f ms of kernels, %s sent per rank\n", sp.collectives, sp.kernels,
              sp.kernel_s * 1e3, human_bytes(sp.bytes_per_rank).c_str());
  if (sp.relative_error)
    std::printf("quality: relative error %.4g, retained energy %.4g\n", *sp.relative_error, *sp.retained_energy);
  return 0;
}

}  // namespace arcsim::cli
