// A mutation fuzzer for every parser arcsim has: experiment specs, topology files, trace.json (and
// the .npy files it names), .npy headers, communication plans, compute profiles, calibration
// files and nccl-tests logs. Built with ASan + UBSan (tests/fuzz/CMakeLists.txt).
//
//   fuzz_parsers [--seconds 60] [--seed 1] [--crash-dir DIR] [--target NAME]
//
// Inputs start from the shipped files and small seeds below, and are mutated byte-wise (flips,
// inserts, deletes, splices of hostile tokens such as 1e999 or 2^64) and structurally (a JSON
// value replaced, a key duplicated, nesting deepened). Each input must either parse or be rejected
// with a std::exception whose message is one non-empty line. A sanitizer report, any other
// exception, a message of several lines or an input that runs longer than 10 s is a finding: the
// input is written to --crash-dir and the run fails. Prints the executions per target.
#include <algorithm>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/json_fields.hpp"
#include "common/npy.hpp"
#include "experiments/spec.hpp"
#include "kernels/timing.hpp"
#include "sim/compute_profile.hpp"
#include "sim/nccl_tests_log.hpp"
#include "sim/plan.hpp"
#include "topologies/topology.hpp"
#include "traces/trace.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---- Where a finding is written (also from the sanitizer's death callback and SIGALRM). -------
std::string g_crash_dir = "fuzz-findings";
std::string g_target;
std::string g_input;

void save_input(const char* why) {
  std::error_code ec;
  fs::create_directories(g_crash_dir, ec);
  const std::string path = g_crash_dir + "/" + g_target + "-" + why + ".bin";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(g_input.data(), 1, g_input.size(), f);
    std::fclose(f);
  }
  std::fprintf(stderr, "fuzz: %s: %s finding, input saved to %s\n", g_target.c_str(), why, path.c_str());
}

void on_sanitizer_death() { save_input("sanitizer"); }

void on_alarm(int) {
  save_input("hang");
  ::_exit(3);
}

// ---- Seeds --------------------------------------------------------------------------------
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kPlanSeed = R"({"format": "arcsim-plan/1", "compressor": {"name": "topk", "ratio": 0.1}, "world_size": 4,
 "buckets": [{"bucket": 0, "elements": 1000, "tensors": ["a", "b"],
   "ops": [{"kind": "kernel", "name": "topk_select", "elements": 1000, "bytes_moved": 4800, "duration_s": 1e-5,
            "duration_source": "model:H100-SXM"},
           {"kind": "collective", "op": "allgather", "bytes_per_rank": 800, "dtype": "float32", "blocking": true},
           {"kind": "collective", "op": "allgatherv", "bytes_per_rank": 800, "bytes_by_rank": [800, 400, 0, 8]}]},
  {"bucket": 1, "ops": [{"kind": "collective", "op": "allreduce", "bytes_per_rank": 4e6}]}]})";

const char* kComputeSeed = R"({"format": "arcsim-compute/1", "device": "test", "forward_s": 0.01, "optimizer_s": 0.001,
 "layers": [{"name": "l0", "params": ["a"], "forward_s": 0.001, "backward_s": 0.002},
            {"name": "l1", "params": ["b"], "forward_s": 0.001, "backward_s": 0.002}]})";

const char* kCalibrationSeed = R"({"format": "arcsim-calibration/1", "measured": true, "device": "d", "driver": "1",
 "cuda_runtime": "13.0", "arcsim_commit": "x", "method": "m", "copy_bandwidth_Bps": 3e12,
 "kernels": {"topk_select": [{"elements": 1024, "bytes_moved": 4096, "median_s": 1e-5, "p10_s": 0.9e-5,
                              "p90_s": 1.2e-5, "runs": 20},
                             {"elements": 1048576, "bytes_moved": 4194304, "median_s": 4e-5, "runs": 20}],
             "arc_sketch": [{"elements": 16, "bytes_moved": 64, "median_s": 2e-6, "runs": 3}]}})";

// An all_reduce_perf log without its test's name (the reader infers it from the table), with a
// launcher prefix on one line, and the older header layout's all_gather rows.
const char* kNcclTestsSeed =
    "# nThread 1 nGpus 1 minBytes 1048576 maxBytes 4294967296 step: 4(factor) warmup iters: 5 iters: 20\n"
    "#  Rank  0 Group  0 Pid  1 on node0 device  0 [0x07] NVIDIA A100-SXM4-40GB\n"
    "#  Rank  1 Group  0 Pid  2 on node1 device  0 [0x07] NVIDIA A100-SXM4-40GB\n"
    "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n"
    "     1048576        262144     float     sum      -1    85.30   12.29   12.29      0    83.21   12.60   12.60      0\n"
    "[1,0]<stdout>:    16777216       4194304     float     sum      -1    295.9   56.69   56.69      0    295.5   56.77   56.77    N/A\n"
    "0:   4294967296    1073741824     float     sum      -1    42381  101.34  101.34      0    42379  101.35  101.35      0\n"
    "# Avg bus bandwidth    : 56.7\n";
const char* kNcclTestsOldSeed =
    "# Collective test starting: all_gather_perf\n#  Rank  0 Pid 1 on a device 0 [0x07] X\n"
    "#  Rank  1 Pid 2 on a device 1 [0x07] X\n"
    "     8388608        262144   float    none    95.10   88.21   44.10  0e+00    94.94   88.36   44.18  0e+00\n";

// ---- Mutations --------------------------------------------------------------------------------
const std::vector<std::string> kTokens = {
    "1e999", "-1e999", "-1", "0", "-0", "1e-400", "18446744073709551616", "18446744073709551615",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "4294967296", "2147483648",
    "1e30", "0.5", "NaN", "null", "true", "\"\"", "[]", "{}", "[[[[[[[[", "]]]]", "\"\\u0000\"", "\"\\ud800\"",
    "\"../../etc/passwd\"", "\"/dev/zero\"", "\"5us\"", "\"1e308Tbps\"", "\"1e30B\"", "\"-5Gbps\"", "\"100\"",
    ",", ":", "\"", "\\", "\xff", "(", ")", "'", "(18446744073709551615, 2)", "(4294967296, 4294967296, 2)",
    "'<f4'", "'>f8'", "'|O'", "True", "(-1,)", "()"};

struct Mutator {
  std::mt19937_64 rng;
  std::size_t below(std::size_t n) { return n ? std::uniform_int_distribution<std::size_t>(0, n - 1)(rng) : 0; }

  json interesting_value() {
    switch (below(12)) {
      case 0: return json(nullptr);
      case 1: return json(-1);
      case 2: return json(0);
      case 3: return json(std::numeric_limits<std::uint64_t>::max());
      case 4: return json(std::numeric_limits<std::int64_t>::min());
      case 5: return json(1e300);
      case 6: return json("");
      case 7: return json::array();
      case 8: return json::object();
      case 9: return json(4294967296LL);
      case 10: return json(0.5);
      default: return json(std::string(kTokens[below(kTokens.size())]));
    }
  }

  // Replaces, removes or duplicates one random node of a parsed document.
  bool mutate_json(json& j, int depth = 0) {
    if ((!j.is_structured() || j.empty()) || (depth > 0 && below(4) == 0)) {
      j = interesting_value();
      return true;
    }
    if (j.is_array()) {
      const std::size_t i = below(j.size());
      switch (below(6)) {
        case 0: j.erase(i); return true;
        case 1: j.push_back(j[i]); return true;
        case 2: j[i] = json::array({j[i]}); return true;
        default: return mutate_json(j[i], depth + 1);
      }
    }
    auto it = j.begin();
    std::advance(it, static_cast<long>(below(j.size())));
    switch (below(7)) {
      case 0: j.erase(it); return true;
      case 1: j[it.key() + "x"] = *it; return true;
      case 2: *it = json::object({{it.key(), *it}}); return true;
      default: return mutate_json(*it, depth + 1);
    }
  }

  std::string mutate_bytes(std::string s) {
    const int n = 1 + static_cast<int>(below(4));
    for (int k = 0; k < n; ++k) {
      const std::size_t at = below(s.size() + 1);
      switch (below(8)) {
        case 0:
          if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
          break;
        case 1:
          if (!s.empty()) s.erase(at, 1 + below(16));
          break;
        case 2: s.insert(at, 1, static_cast<char>(below(256))); break;
        case 3: {  // duplicate a chunk (repeated keys, longer shapes)
          if (s.empty()) break;
          const std::size_t from = below(s.size()), len = 1 + below(std::min<std::size_t>(64, s.size() - from));
          s.insert(at, s.substr(from, len));
          break;
        }
        case 4: s.resize(below(s.size() + 1)); break;  // truncation
        case 5: {  // a duplicate key: copy `"key": value,` right after a `{`
          const std::size_t brace = s.find('{', at);
          const std::size_t comma = brace == std::string::npos ? brace : s.find(',', brace);
          if (comma != std::string::npos && comma - brace < 200) s.insert(brace + 1, s.substr(brace + 1, comma - brace));
          break;
        }
        default: {  // a hostile token over a number or a value
          const std::string& t = kTokens[below(kTokens.size())];
          std::size_t end = at;
          while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '.' ||
                                    s[end] == '-' || s[end] == '+'))
            ++end;
          s.replace(at, end - at, t);
        }
      }
    }
    return s;
  }

  std::string mutate(const std::string& seed) {
    if (below(2) == 0) {
      try {
        json j = json::parse(seed);
        for (int k = 1 + static_cast<int>(below(3)); k > 0; --k) mutate_json(j);
        std::string out = j.dump(below(2) ? -1 : 1);
        return below(3) == 0 ? mutate_bytes(out) : out;
      } catch (const json::exception&) {
      }
    }
    return mutate_bytes(seed);
  }
};

// ---- Targets ------------------------------------------------------------------------------------
struct Target {
  std::string name;
  std::vector<std::string> seeds;
  std::function<void(const std::string&)> run;
  std::size_t execs = 0, accepted = 0, rejected = 0;
};

std::string tmp_root() {
  const std::string dir = (fs::temp_directory_path() / ("arcsim-fuzz-" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  return dir;
}

std::vector<Target> make_targets(const std::string& tmp) {
  const fs::path src = ARCSIM_SOURCE_DIR;
  std::vector<Target> ts;

  Target spec{"spec", {}, nullptr};
  for (const auto& e : fs::directory_iterator(src / "experiments"))
    if (e.path().extension() == ".json") spec.seeds.push_back(slurp(e.path()));
  const std::string spec_file = (src / "experiments" / "fuzz-input.json").string();
  spec.run = [spec_file](const std::string& in) {
    const auto s = arcsim::experiments::parse_spec(arcsim::json::parse_text(in, spec_file), spec_file);
    (void)arcsim::experiments::expand_points(s).size();
  };
  ts.push_back(std::move(spec));

  Target topo{"topology", {}, nullptr};
  for (const auto& e : fs::directory_iterator(src / "topologies" / "presets"))
    if (e.path().extension() == ".json") topo.seeds.push_back(slurp(e.path()));
  topo.run = [](const std::string& in) {
    const auto s = arcsim::topo::parse_topology(arcsim::json::parse_text(in, "topology.json"), "topology.json");
    for (int n : {1, 2, 7, 8, 64, 72, 1024, 4096}) {
      try {
        (void)arcsim::topo::resolve(s, n);
      } catch (const std::invalid_argument& e) {
        if (std::strchr(e.what(), '\n') || !*e.what()) throw std::logic_error("resolve: multi-line message");
      }
    }
  };
  ts.push_back(std::move(topo));

  // trace.json: the default trace cut to two samples, its samples directory linked in.
  Target trace{"trace", {}, nullptr};
  {
    json doc = json::parse(slurp(src / "traces" / "default" / "trace.json"));
    doc["samples"] = json::array({doc["samples"][0], doc["samples"][1]});
    trace.seeds.push_back(doc.dump(1));
    const std::string dir = tmp + "/trace";
    fs::create_directories(dir);
    fs::create_directory_symlink(src / "traces" / "default" / "samples", dir + "/samples");
    trace.run = [dir](const std::string& in) {
      const std::string file = dir + "/trace.json";
      const auto t = arcsim::traces::parse_trace(arcsim::json::parse_text(in, file), dir, file);
      arcsim::traces::validate_data(t);
      (void)arcsim::traces::to_json(t).dump();
    };
  }
  ts.push_back(std::move(trace));

  Target npy{"npy", {}, nullptr};
  {
    int k = 0;
    for (const auto& e : fs::directory_iterator(src / "traces" / "default" / "samples"))
      if (k++ < 3) npy.seeds.push_back(slurp(e.path()).substr(0, 4096));  // headers matter; data cut short
    std::vector<float> v(64, 1.5f);
    npy.seeds.push_back(arcsim::io::npy_bytes_f32({4, 16}, v));
    npy.seeds.push_back(arcsim::io::npy_bytes_f32({64}, v));
    const std::string path = tmp + "/x.npy";
    npy.run = [path](const std::string& in) {
      {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(in.data(), static_cast<std::streamsize>(in.size()));
      }
      const auto a = arcsim::io::read_npy(path);
      if (a.dtype == "f4" || a.dtype == "f2" || a.dtype == "f8") (void)arcsim::io::to_float32(a, path).size();
    };
  }
  ts.push_back(std::move(npy));

  Target plan{"plan", {kPlanSeed}, [](const std::string& in) {
                (void)arcsim::sim::parse_plan(arcsim::json::parse_text(in, "plan.json"), "plan.json");
              }};
  ts.push_back(std::move(plan));

  Target compute{"compute", {kComputeSeed}, [](const std::string& in) {
                   (void)arcsim::sim::parse_compute_profile(arcsim::json::parse_text(in, "compute.json"),
                                                            "compute.json");
                 }};
  {
    const json doc = json::parse(slurp(src / "traces" / "default" / "trace.json"));
    compute.seeds.push_back(doc["compute"].dump());
  }
  ts.push_back(std::move(compute));

  Target cal{"calibration", {kCalibrationSeed}, [](const std::string& in) {
               using arcsim::kernels::CalibrationFile;
               const auto f = CalibrationFile::parse(in, "cal.json");
               // Whatever arcsim reads, it writes back readably (the writer's round trip).
               const auto g = CalibrationFile::parse(f.to_json(), "cal-roundtrip.json");
               for (const auto& [name, pts] : g.kernels)
                 for (double b : {0.0, 1.0, 1e6, 1e15}) (void)arcsim::kernels::interpolate_seconds(pts, b);
             }};
  ts.push_back(std::move(cal));

  Target nccl{"nccl-tests", {kNcclTestsSeed, kNcclTestsOldSeed}, [](const std::string& in) {
                const auto log = arcsim::sim::parse_nccl_tests_log(in, "run.log");
                (void)log.rows.size();
              }};
  ts.push_back(std::move(nccl));

  // The log reader at scale: the mutated log appended to itself until about 2 MB (a run repeated
  // thousands of times, as appended logs are; a second header with other ranks must be refused in
  // one line), so a reader step that is quadratic in rows or lines shows up as a slow input.
  Target nccl_scale{"nccl-tests-at-scale", {kNcclTestsSeed, kNcclTestsOldSeed}, [](const std::string& in) {
                      std::string text;
                      const std::size_t copies = in.empty() ? 1 : std::min<std::size_t>(5000, (2u << 20) / in.size() + 1);
                      text.reserve(copies * (in.size() + 1));
                      for (std::size_t i = 0; i < copies; ++i) {
                        text += in;
                        if (!in.empty() && in.back() != '\n') text += '\n';
                      }
                      const auto log = arcsim::sim::parse_nccl_tests_log(text, "run.log");
                      if (log.rows.size() > arcsim::sim::kMaxLogRows) throw "row limit not applied";  // a finding
                    }};
  ts.push_back(std::move(nccl_scale));
  return ts;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60;
  std::uint64_t seed = 1;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fuzz_parsers: %s: expected a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") seconds = std::stod(value());
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--crash-dir") g_crash_dir = value();
    else if (a == "--target") only = value();
    else {
      std::fprintf(stderr, "usage: fuzz_parsers [--seconds S] [--seed N] [--crash-dir DIR] [--target NAME]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  __sanitizer_set_death_callback(on_sanitizer_death);
  ::signal(SIGALRM, on_alarm);

  const std::string tmp = tmp_root();
  std::vector<Target> targets = make_targets(tmp);
  if (!only.empty()) std::erase_if(targets, [&](const Target& t) { return t.name != only; });
  if (targets.empty()) {
    std::fprintf(stderr, "fuzz_parsers: --target %s: no such target\n", only.c_str());
    return 2;
  }
  Mutator m{std::mt19937_64(seed)};
  std::size_t findings = 0;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const double slice = 0.25;  // seconds per target in turn
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    for (auto& t : targets) {
      g_target = t.name;
      const auto t0 = Clock::now();
      while (std::chrono::duration<double>(Clock::now() - t0).count() < slice) {
        const std::string& s = t.seeds[m.below(t.seeds.size())];
        g_input = t.execs % 16 == 0 ? s : m.mutate(s);  // the seeds themselves must keep parsing
        ::alarm(10);
        try {
          t.run(g_input);
          ++t.accepted;
        } catch (const std::exception& e) {
          ++t.rejected;
          const std::string msg = e.what();
          if (msg.empty() || msg.find('\n') != std::string::npos) {
            save_input("message");
            std::fprintf(stderr, "fuzz: %s: rejection is not one line: [%s]\n", t.name.c_str(), msg.c_str());
            ++findings;
          }
        } catch (...) {
          save_input("exception");
          ++findings;
        }
        ::alarm(0);
        ++t.execs;
      }
    }
  }
  std::size_t total = 0;
  for (const auto& t : targets) {
    std::printf("fuzz: %-12s %8zu executions (%zu accepted, %zu rejected with one line)\n", t.name.c_str(), t.execs,
                t.accepted, t.rejected);
    total += t.execs;
  }
  std::printf("fuzz: %zu executions in %.0f s, %zu findings\n", total,
              std::chrono::duration<double>(Clock::now() - start).count(), findings);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return findings ? 1 : 0;
}
