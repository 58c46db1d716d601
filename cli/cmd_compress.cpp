// arcsim compress: applies one compressor (kernels/compressor.hpp) to per-worker gradients read
// from a .npy file, carrying error-feedback state across steps, and writes the last step's
// aggregate (.npy) and a JSON report: k, quality metrics, the communication plan and the kernels.
//
// Input layouts: [N, d] or [N, n, m] (one step of N workers), or with --steps S: [S, N, d] or
// [S, N, n, m]. Every problem with the input or the options is one std::runtime_error line naming
// the file or option and what was expected (main() prints it and exits 2).
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "compressor_flags.hpp"
#include "kernels/compressor_registry.hpp"
#include "values.hpp"
#include "experiments/spec.hpp"
#include "kernels/backend.hpp"
#include "kernels/compressor.hpp"
#include "common/atomic_file.hpp"
#include "common/output_guard.hpp"
#include "common/npy.hpp"
#include "common/format.hpp"
#include "common/validated_write.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

struct Input {
  std::int64_t steps = 1, workers = 0;
  std::vector<std::int64_t> worker_shape;  // (d) or (n, m)
  std::vector<float> values;               // [steps][workers][numel]
  std::size_t numel() const {
    std::size_t n = 1;
    for (auto d : worker_shape) n *= static_cast<std::size_t>(d);
    return n;
  }
};

Input read_input(const std::string& path, std::optional<std::int64_t> steps) {
  const io::NpyArray a = io::read_npy(path);
  if (a.dtype != "f4" && a.dtype != "f2" && a.dtype != "f8")
    fail(path + ": dtype: expected a float array (float32), got '" + a.dtype + "'");
  Input in;
  std::size_t lead = 1;
  if (steps) {
    if (a.shape.size() != 3 && a.shape.size() != 4)
      fail(path + ": shape: expected [S, N, d] or [S, N, n, m] with --steps, got " + shape_str(a.shape));
    if (a.shape[0] != *steps)
      fail(path + ": shape: expected " + std::to_string(*steps) + " steps in dim 0 (--steps " +
           std::to_string(*steps) + "), got " + shape_str(a.shape));
    in.steps = *steps;
  } else {
    if (a.shape.size() != 2 && a.shape.size() != 3)
      fail(path + ": shape: expected [N, d] or [N, n, m] (or [S, N, ...] with --steps S), got " + shape_str(a.shape));
    lead = 0;
  }
  in.workers = a.shape[lead];
  in.worker_shape.assign(a.shape.begin() + static_cast<std::ptrdiff_t>(lead) + 1, a.shape.end());
  if (in.workers < 1) fail(path + ": shape: expected at least 1 worker, got " + shape_str(a.shape));
  if (in.numel() == 0) fail(path + ": shape: expected a non-empty gradient per worker, got " + shape_str(a.shape));
  in.values = io::to_float32(a, path);
  const std::size_t n = in.numel(), W = static_cast<std::size_t>(in.workers);
  for (std::size_t i = 0; i < in.values.size(); ++i)
    if (!std::isfinite(in.values[i])) {
      const std::size_t per_step = W * n;
      fail(path + ": values: expected finite numbers, got " + std::to_string(in.values[i]) + " at step " +
           std::to_string(i / per_step) + ", worker " + std::to_string(i % per_step / n) + ", element " +
           std::to_string(i % n));
    }
  return in;
}

}  // namespace

int cmd_compress(int argc, char** argv) {
  std::string name, input, output, report_path, seed_text, backend_name;
  std::optional<std::int64_t> steps, k_abs;
  po::options_description opts(
      "arcsim compress: apply a compressor to per-worker gradients\n\n"
      "usage: arcsim compress --compressor NAME --ratio R --input G.npy --output AGG.npy\n"
      "                       [--report REPORT.json] [options]\n\n"
      "G.npy: float32 [N, d] or [N, n, m] (one step, N workers), or [S, N, ...] with --steps S.\n"
      "AGG.npy: the last step's aggregate, one worker's shape. `arcsim compressors` describes each\n"
      "compressor and the options it takes. Options");
  opts.add_options()
      ("help,h", "show this help")
      ("compressor", po::value(&name)->required(), compressor_flag_help().c_str())
      ("k", po::value<std::int64_t>(), "absolute k instead of --ratio: elements, or rows (arctopk)")
      ("seed", po::value(&seed_text)->default_value("1"), "shared seed (Rand-K indices, ARC's V, samples), an integer >= 0")
      ("steps", po::value<std::int64_t>(), "number of steps S in dim 0 of the input")
      ("input", po::value(&input)->required(), "G.npy")
      ("output", po::value(&output)->required(), "AGG.npy")
      ("report", po::value(&report_path), "REPORT.json")
      ("backend", po::value(&backend_name)->default_value(kernels::kDefaultBackend),
       "where the kernels run: auto (cuda when a device is present, else cpu) | cpu | cuda | reference");
  po::options_description copts("compressor options (each applies to the compressors that take it)");
  add_compressor_flags(copts);
  opts.add(copts);
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  po::notify(vm);
  const std::uint64_t seed = parse_unsigned("--seed", seed_text);
  io::OutputGuard("compress").input("--input", input).output("--output", output).output("--report", report_path).check();
  io::check_output_path(output);
  if (!report_path.empty()) io::check_output_path(report_path);
  if (vm.count("steps")) {
    steps = vm["steps"].as<std::int64_t>();
    if (*steps < 1) fail("--steps: expected an integer >= 1, got " + std::to_string(*steps));
  }
  if (vm.count("k")) k_abs = vm["k"].as<std::int64_t>();
  const bool has_ratio = vm.count("ratio") && !vm["ratio"].defaulted();
  if (has_ratio && k_abs) fail("--k: expected either --ratio or --k, got both");
  try {
    kernels::compressor_entry(name);
  } catch (const std::invalid_argument& e) {
    fail(std::string("--") + e.what());
  }
  if (k_abs && !kernels::compressor_entry(name).takes("ratio")) fail("--k: does not apply to " + name);
  kernels::CompressorConfig cfg;
  try {  // options that do not apply to this compressor are refused, as in experiment specs
    nlohmann::json extra = nlohmann::json::object();
    if (k_abs) extra["ratio"] = 1.0;  // replaced below by the ratio that selects k units
    cfg = compressor_config_from_flags(vm, name, extra);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  // PowerSGD's size is its rank (k counts "rank"): it takes no --ratio to be given.
  if (!has_ratio && !k_abs && kernels::compressor_entry(name).takes("ratio") &&
      kernels::compressor_entry(name).k_unit != "rank")
    fail("--ratio: expected a number in (0, 1], got nothing");
  cfg.seed = seed;

  kernels::Backend* backend = nullptr;
  try {
    backend = &kernels::backend_by_name(backend_name);
  } catch (const std::invalid_argument& e) {
    fail(std::string("--") + e.what());
  }  // BackendUnavailable (cuda without a device): one line, exit 3 (main.cpp)

  const Input in = read_input(input, steps);
  kernels::BucketLayout layout;
  layout.shapes = {in.worker_shape};
  layout.names = {"input"};
  const std::size_t n = in.numel(), W = static_cast<std::size_t>(in.workers);
  if (k_abs) {
    // The unit k counts in: elements, or rows of the ARC view of the tensor.
    std::size_t units = n;
    if (kernels::compressor_entry(cfg.compressor).k_unit == "rows")
      units = kernels::row_view(in.worker_shape, kernels::parse_shape_rule(cfg.shape_rule), cfg.rank,
                                cfg.row_scores == "exact", "input").rows;
    if (*k_abs < 1 || static_cast<std::size_t>(*k_abs) > units)
      fail("--k: expected 1 <= k <= " + std::to_string(units) + " (" +
           kernels::compressor_entry(cfg.compressor).k_unit + " of " + input + "), got " + std::to_string(*k_abs));
    // floor(ratio * units) == k exactly: half a unit of margin against rounding.
    cfg.ratio = std::min(1.0, (static_cast<double>(*k_abs) + 0.5) / static_cast<double>(units));
  }
  if (cfg.compressor == "arctopk") {
    try {  // a shape the rule cannot view (reference rule, size not divisible by 2 t^2)
      kernels::row_view(in.worker_shape, kernels::parse_shape_rule(cfg.shape_rule), cfg.rank, false, "input");
    } catch (const std::invalid_argument& e) {
      fail(input + ": " + e.what());
    }
  }

  kernels::Compressor comp(static_cast<int>(W), cfg, *backend);
  std::vector<float> agg(n);
  nlohmann::json per_step = nlohmann::json::array();
  kernels::StepReport last;
  for (std::int64_t s = 0; s < in.steps; ++s) {
    std::vector<const float*> grads(W);
    for (std::size_t w = 0; w < W; ++w) grads[w] = in.values.data() + (static_cast<std::size_t>(s) * W + w) * n;
    last = comp.step(0, layout, grads, agg.data());
    // The aggregate of finite inputs can still overflow float32 (a sum over workers): refused here,
    // naming the input, step, bucket and element, before anything is written.
    io::check_finite_values(agg.data(), n, io::escape_text(input) + ": step " + std::to_string(s) + ", bucket 0 (\"input\")",
                            "the aggregate overflowed float32 (inputs too large to sum over " + std::to_string(W) +
                                " workers)");
    nlohmann::json j = last.to_json(layout);
    per_step.push_back({{"step", s}, {"phase", j["phase"]}, {"k", j["k"]}, {"ratio", j["ratio"]},
                        {"relative_error", j["relative_error"]}, {"retained_energy", j["retained_energy"]}});
    if (last.row_recall) per_step.back()["row_recall"] = *last.row_recall;
  }
  nlohmann::json report = last.to_json(layout);
  report["format"] = "arcsim-compress-report/1";
  report["input"] = input;
  report["output"] = output;
  report["workers"] = W;
  report["steps"] = in.steps;
  report["shape"] = in.worker_shape;
  report["compressor"] = cfg.to_json();
  report["shape_rule"] = cfg.shape_rule;
  report["backend"] = backend->name();
  report["per_step"] = per_step;
  nlohmann::json doc = comp.plan_header();
  doc["buckets"] = nlohmann::json::array({kernels::Compressor::plan_bucket(last, layout)});
  report["plan_document"] = doc;
  report.erase("plan_bucket");
  // Both outputs or neither: a report that cannot be written must not leave a new aggregate.
  std::vector<std::pair<std::string, std::string>> outputs = {{output, io::npy_bytes_f32(in.worker_shape, agg)}};
  if (!report_path.empty()) outputs.emplace_back(report_path, report.dump(2) + "\n");
  io::write_files_atomic(outputs);
  std::printf("arcsim compress: %s on the %s backend, %zu workers x %lld steps, k = %zu %s, relative_error = %s, "
              "retained_energy = %s\n",
              cfg.compressor.c_str(), backend->name(), W, static_cast<long long>(in.steps), last.k, last.k_unit.c_str(),
              report["relative_error"].dump().c_str(), report["retained_energy"].dump().c_str());
  return 0;
}

}  // namespace arcsim::cli
