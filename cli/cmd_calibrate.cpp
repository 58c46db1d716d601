// arcsim calibrate: times the GPU kernels over a grid of sizes and writes a calibration file
// (arcsim-calibration/1, kernels/timing.hpp) that the simulator uses when no GPU is present.
// Without a GPU it says so in one line and fails, unless --model names a GPU: then it writes a
// calibration-format file from the bytes/bandwidth model, marked "measured": false, whose source
// string says "modelled" wherever it is used.
#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "arcsim/version.hpp"
#include "calibrate_gloo.hpp"
#include "calibrate_nccl.hpp"
#include "calibrate_step_time.hpp"
#include "commands.hpp"
#include "kernels/catalogue.hpp"
#include "kernels/timing.hpp"
#include "common/atomic_file.hpp"
#include "common/output_guard.hpp"

#if ARCSIM_HAVE_CUDA
#include "kernels/cuda/calibrate_gpu.hpp"
#include "kernels/cuda/device_kernels.hpp"
#endif

namespace po = boost::program_options;

namespace arcsim::cli {

namespace {

// The model written on the same grid as a measurement would be (the catalogue's work formulas).
kernels::CalibrationFile modelled_file(const std::string& gpu, int min_log2, int max_log2, double ratio) {
  const auto model = kernels::KernelTimeModel::model(gpu);
  kernels::CalibrationFile f;
  f.measured = false;
  f.device = "model:" + gpu + " (modelled, not measured)";
  f.driver = "none";
  f.cuda_runtime = "none";
  f.arcsim_commit = kGitCommit;
  f.method = "written by `arcsim calibrate --model " + gpu +
             "` from the bytes/bandwidth + launch-overhead model (docs/gpu.md); no GPU was used";
  f.copy_bandwidth_Bps = model.hbm_bandwidth_Bps() * 0.90;
  for (const auto& spec : kernels::kernel_catalogue()) {
    const std::string name = spec.name;
    std::vector<kernels::CalibrationPoint> pts;
    for (int lg = min_log2; lg <= max_log2; lg += 2) {
      const std::size_t n = std::size_t{1} << lg;
      const auto k = static_cast<std::size_t>(std::max(1.0, std::floor(ratio * static_cast<double>(n))));
      // The sizes the measurement uses (kernels/cuda/calibrate_gpu.cpp: one worker, rows of 1024,
      // rank 4, row selection over n / 64 rows), through the catalogue's formulas.
      const std::size_t rows_k = static_cast<std::size_t>(std::max(1.0, std::floor(ratio * static_cast<double>(n) / 1024)));
      kernels::KernelWork w{.n = n, .k = k, .workers = 1};
      if (spec.id == kernels::KernelId::kArcSketch) w.sketch = 4 * (n / 1024);
      if (spec.id == kernels::KernelId::kArcSelectRows) w.rows = n / 64, w.sketch = 4 * (n / 64);
      if (spec.id == kernels::KernelId::kArcGatherRows || spec.id == kernels::KernelId::kArcScatterRows) w.k = rows_k * 1024;
      const auto e = static_cast<double>(spec.elements(w));
      const auto b = static_cast<double>(spec.bytes_moved(w));
      if (!pts.empty() && b <= pts.back().bytes_moved) continue;
      const double s = model.seconds(name, static_cast<std::int64_t>(e), b);
      pts.push_back({static_cast<std::int64_t>(e), b, s, s, s, 0});
    }
    f.kernels[name] = std::move(pts);
  }
  return f;
}

}  // namespace

int cmd_calibrate(int argc, char** argv) {
  // Network calibrations are their own commands (cli/calibrate_nccl.cpp, cli/calibrate_gloo.cpp).
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--nccl-tests") return calibrate_nccl_tests(argc, argv);
    if (std::string(argv[i]) == "--gloo-bench") return calibrate_gloo_bench(argc, argv);
    if (std::string(argv[i]) == "--step-time") return calibrate_step_time(argc, argv);
  }
  po::options_description desc(
      "arcsim calibrate: time every GPU kernel over a grid of sizes and write a calibration file\n"
      "(the simulator uses it as the kernel-timing source calibration:FILE when no GPU is present)\n"
      "Network: arcsim calibrate --nccl-tests LOG... --topology BASE --output TOPO.json (see --nccl-tests --help)\n"
      "         arcsim calibrate --gloo-bench DIR --topology BASE --output TOPO.json (see --gloo-bench --help)\n"
      "Compute: arcsim calibrate --step-time S --trace T --compute model:GPU --topology TOPO --nodes N --output C.json\n"
      "         (see --step-time --help)\n\nOptions");
  std::string output, model;
  int runs = 20, min_log2 = 14, max_log2 = 26;
  double ratio = 0.01;
  desc.add_options()("help,h", "show this help")(
      "output,o", po::value(&output)->default_value("calibration.json"), "calibration file to write (atomically)")(
      "runs", po::value(&runs)->default_value(20), "samples per point (>= 20; median, p10 and p90 are kept)")(
      "min-log2", po::value(&min_log2)->default_value(14), "smallest size: 2^N elements")(
      "max-log2", po::value(&max_log2)->default_value(26), "largest size: 2^N elements (28 needs ~5 GB of GPU memory)")(
      "ratio", po::value(&ratio)->default_value(0.01, "0.01"), "selected fraction for top-k, Rand-K and row kernels")(
      "model", po::value(&model),
      "no GPU: write a calibration-format file from the model of this GPU instead "
      "(V100, A100, A100-40GB, H100-SXM, H100-PCIe, H200, RTX4090), labelled as modelled");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  po::notify(vm);
  io::OutputGuard("calibrate").output("--output", output).check();  // never into a trace, before any work
  if (runs < 20) throw std::invalid_argument("--runs: expected >= 20, got " + std::to_string(runs));
  if (min_log2 < 4 || max_log2 > 30 || min_log2 > max_log2)
    throw std::invalid_argument("--min-log2/--max-log2: expected 4 <= min <= max <= 30, got " +
                                std::to_string(min_log2) + ", " + std::to_string(max_log2));
  if (!(ratio > 0.0 && ratio <= 1.0)) throw std::invalid_argument("--ratio: expected a value in (0, 1], got " + std::to_string(ratio));

  if (!model.empty()) {
    const auto f = modelled_file(model, min_log2, max_log2, ratio);
    io::write_file_atomic(output, f.to_json());
    std::printf("wrote %s: MODELLED timings of %s (no GPU measured), %zu kernels\n", output.c_str(),
                model.c_str(), f.kernels.size());
    return 0;
  }
#if ARCSIM_HAVE_CUDA
  if (cuda::device_count() == 0) {
    std::fprintf(stderr,
                 "arcsim calibrate: no CUDA device on this machine; nothing measured (use --model GPU for a "
                 "modelled file)\n");
    return 3;
  }
  cuda::CalibrateOptions o;
  o.runs = runs;
  o.min_log2 = min_log2;
  o.max_log2 = max_log2;
  o.ratio = ratio;
  o.arcsim_commit = kGitCommit;
  const auto f = cuda::measure_calibration(o, [](const std::string& line) {
    std::fprintf(stderr, "calibrate: %s\n", line.c_str());
  });
  io::write_file_atomic(output, f.to_json());
  std::printf("wrote %s: measured on %s (driver %s, CUDA runtime %s), %zu kernels\n", output.c_str(),
              f.device.c_str(), f.driver.c_str(), f.cuda_runtime.c_str(), f.kernels.size());
  return 0;
#else
  std::fprintf(stderr,
               "arcsim calibrate: this arcsim was built without CUDA (no nvcc); nothing measured (use --model GPU "
               "for a modelled file)\n");
  return 3;
#endif
}

}  // namespace arcsim::cli
