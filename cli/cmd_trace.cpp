// arcsim trace validate|info|buckets|synth: check, describe and use a trace directory (format v1,
// traces/trace.hpp). Bad input: one error line naming the file and field, exit status 2.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/format.hpp"

#include "commands.hpp"
#include "common/atomic_file.hpp"
#include "common/output_guard.hpp"
#include "common/validated_write.hpp"
#include "traces/buckets.hpp"
#include "common/npy.hpp"
#include "traces/synthetic.hpp"
#include "traces/trace.hpp"

namespace arcsim::cli {
namespace {

namespace tr = arcsim::traces;
using nlohmann::json;

const char* kUsage =
    "usage: arcsim trace validate DIR            check trace.json and every data file; exit 0 if valid\n"
    "       arcsim trace info DIR [--json]        layout, compute profile, samples, convergence logs\n"
    "       arcsim trace buckets DIR [--json] [--first-cap BYTES] [--cap BYTES] [--rule pytorch|strict]\n"
    "                                             DDP buckets of the layout (default 1 MiB, then 25 MiB)\n"
    "       arcsim trace synth DIR --out FILE.npy [--bucket B | --tensors a,b] [--workers N] [--step S]\n"
    "                                             synthetic gradients [N x elements] (docs/traces.md)\n"
    "       arcsim trace copy DIR --out DST [--dtype float32|float16]\n"
    "                                             re-write a valid trace (data files re-encoded)\n"
    "Bucket options also apply to info and synth. Errors: one line naming the file and field, exit 2.\n";

struct Options {
  std::string dir, out, rule = "pytorch", tensors, dtype;
  bool json = false;
  std::int64_t first_cap = 1 << 20, cap = 25LL << 20, step = 0, bucket = -1;
  int workers = 1;
  std::vector<std::string> given;  // the flags given, in order
};

// Which flag applies to which subcommand: any other use is refused, never ignored.
struct FlagUse {
  const char* flag;
  std::vector<std::string> subs;
};
const FlagUse kFlagUses[] = {
    {"--json", {"info", "buckets"}},
    {"--first-cap", {"info", "buckets", "synth"}},
    {"--cap", {"info", "buckets", "synth"}},
    {"--rule", {"info", "buckets", "synth"}},
    {"--out", {"synth", "copy"}},
    {"--bucket", {"synth"}},
    {"--tensors", {"synth"}},
    {"--workers", {"synth"}},
    {"--step", {"synth"}},
    {"--dtype", {"copy"}},
};
// Pairs of flags that exclude each other.
const std::pair<const char*, const char*> kExclusive[] = {{"--bucket", "--tensors"}};

void check_flags(const std::string& sub, const Options& o) {
  for (const auto& a : o.given)
    for (const auto& u : kFlagUses) {
      if (a != u.flag || std::find(u.subs.begin(), u.subs.end(), sub) != u.subs.end()) continue;
      std::string subs;
      for (const auto& s : u.subs) subs += (subs.empty() ? "" : ", ") + s;
      throw std::invalid_argument("command line: " + a + ": applies only to trace " + subs + ", not " + sub);
    }
  for (const auto& [a, b] : kExclusive)
    if (std::count(o.given.begin(), o.given.end(), a) && std::count(o.given.begin(), o.given.end(), b))
      throw std::invalid_argument(std::string("command line: ") + a + " and " + b + " exclude each other (give one)");
  for (const auto& a : o.given)
    if (std::count(o.given.begin(), o.given.end(), a) > 1)
      throw std::invalid_argument("command line: " + a + ": given more than once");
}

// A comma-separated list flag: empty lists, empty items and repeats are refused.
std::vector<std::string> split_list(const std::string& flag, const std::string& text) {
  if (text.empty()) throw std::invalid_argument("command line: " + flag + ": expected a comma-separated list, got an empty one");
  std::vector<std::string> items;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    items.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty())
      throw std::invalid_argument("command line: " + flag + ": item " + std::to_string(i + 1) + " of \"" +
                                  io::escape_text(text) + "\" is empty");
    if (std::find(items.begin(), items.begin() + i, items[i]) != items.begin() + i)
      throw std::invalid_argument("command line: " + flag + ": \"" + io::escape_text(items[i]) + "\" is listed twice");
  }
  return items;
}

std::int64_t to_int(const std::string& flag, const std::string& v) {
  try {
    std::size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used == v.size() && x >= 0) return x;
  } catch (...) {
  }
  throw std::invalid_argument("command line: " + flag + ": expected a non-negative integer, got \"" + io::escape_text(v) + "\"");
}

std::int64_t to_positive(const std::string& flag, const std::string& v) {
  const std::int64_t x = to_int(flag, v);
  if (x < 1) throw std::invalid_argument("command line: " + flag + ": expected a positive byte count, got " + v);
  return x;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("command line: " + a + ": expected a value");
      return argv[++i];
    };
    if (!a.empty() && a[0] == '-') o.given.push_back(a);
    if (a == "--json") o.json = true;
    else if (a == "--first-cap") o.first_cap = to_positive(a, value());
    else if (a == "--cap") o.cap = to_positive(a, value());
    else if (a == "--rule") o.rule = value();
    else if (a == "--out") o.out = value();
    else if (a == "--bucket") o.bucket = to_int(a, value());
    else if (a == "--tensors") o.tensors = value();
    else if (a == "--dtype") o.dtype = value();
    else if (a == "--workers") o.workers = static_cast<int>(to_int(a, value()));
    else if (a == "--step") o.step = to_int(a, value());
    else if (!a.empty() && a[0] == '-') throw std::invalid_argument("command line: " + a + ": unknown option (arcsim trace --help)");
    else if (o.dir.empty()) o.dir = a;
    else throw std::invalid_argument("command line: " + a + ": expected one trace directory");
  }
  if (o.dir.empty()) throw std::invalid_argument("command line: DIR: expected a trace directory (arcsim trace --help)");
  check_flags(argv[1], o);
  return o;
}

std::vector<tr::Bucket> buckets_of(const tr::Trace& t, const Options& o) {
  tr::BucketOptions b;
  b.first_cap_bytes = o.first_cap;
  b.cap_bytes = o.cap;
  b.rule = tr::bucket_rule(o.rule);
  return tr::ddp_buckets(t.layout, b);
}

json buckets_json(const std::vector<tr::Bucket>& bs, const Options& o) {
  json out = {{"rule", o.rule}, {"first_cap_bytes", o.first_cap}, {"cap_bytes", o.cap}, {"buckets", json::array()}};
  for (const auto& b : bs)
    out["buckets"].push_back({{"bucket", b.index}, {"tensors", b.tensors}, {"params", b.params},
                              {"elements", b.elements}, {"bytes", b.bytes}, {"dtype", b.dtype}});
  return out;
}

int info(const Options& o) {
  const tr::Trace t = tr::read_trace(o.dir);
  json doc = tr::to_json(t);
  doc["dir"] = o.dir;
  doc["layout"]["tensors"] = t.layout.parameters.size();
  doc["layout"]["total_elements"] = t.layout.total_elements();
  doc["buckets"] = buckets_json(buckets_of(t, o), o);
  doc["layout_only"] = t.samples.empty();
  if (o.json) {
    std::cout << doc.dump(1) << "\n";
    return 0;
  }
  // Names and paths come from the input: escaped (no terminal escapes, no bidi reordering, capped).
  std::printf("trace %s (%s): model %s, %zu tensors, %lld elements, %zu DDP buckets (%s rule)\n",
              io::escape_text(t.name).c_str(), io::escape_text(o.dir).c_str(), io::escape_text(t.layout.model).c_str(), t.layout.parameters.size(),
              static_cast<long long>(t.layout.total_elements()), doc["buckets"]["buckets"].size(), o.rule.c_str());
  if (t.compute) {
    double bwd = 0;
    for (const auto& l : t.compute->layers) bwd += l.backward_s;
    std::printf("compute: %s, forward %.6g s, backward %.6g s, optimizer %.6g s, %zu layers\n",
                io::escape_text(t.compute->device).c_str(), t.compute->forward_s, bwd, t.compute->optimizer_s, t.compute->layers.size());
    double flops = 0;
    std::size_t counted = 0, unknown = 0;
    for (const auto& l : t.compute->layers) {
      if (!l.cost) continue;
      if (!l.cost->unknown.empty()) { ++unknown; continue; }
      ++counted;
      flops += l.cost->flops_forward + l.cost->flops_backward;
    }
    if (counted || unknown)
      std::printf("cost: %zu layers counted (%.6g FLOPs forward+backward per micro-batch), %zu not counted\n", counted,
                  flops, unknown);
  } else {
    std::printf("compute: none\n");
  }
  std::printf("samples: %zu%s\n", t.samples.size(), t.samples.empty() ? " (layout-only: synthetic gradients)" : "");
  for (const auto& c : t.convergence) {
    const auto target = c.effective_target();
    std::printf("  %-24s N=%-3d seed %-3lld steps_to_target %s (target %s %s %.6g, budget %lld, %zu points)\n",
                io::escape_text(c.config).c_str(), c.world, static_cast<long long>(c.seed),
                c.steps_to_target ? std::to_string(*c.steps_to_target).c_str() : "not reached", io::escape_text(target.metric).c_str(),
                target.mode == "max" ? ">=" : "<=", target.value, static_cast<long long>(c.max_steps), c.points.size());
  }
  return 0;
}

int synth(const Options& o) {
  if (o.out.empty()) throw std::invalid_argument("command line: --out: expected an output .npy path");
  io::OutputGuard("trace").input_trace("DIR", o.dir).output("--out", o.out).check();  // before reading
  const tr::Trace t = tr::read_trace(o.dir);
  if (o.workers < 1) throw std::invalid_argument("command line: --workers: expected at least 1");
  std::vector<std::string> tensors;
  if (std::count(o.given.begin(), o.given.end(), "--tensors")) {
    tensors = split_list("--tensors", o.tensors);
  } else {
    const auto bs = buckets_of(t, o);
    const std::int64_t b = o.bucket < 0 ? 0 : o.bucket;
    if (b >= static_cast<std::int64_t>(bs.size()))
      throw std::invalid_argument("command line: --bucket: expected 0.." + std::to_string(bs.size() - 1) + ", got " + std::to_string(b));
    tensors = bs[b].tensors;
  }
  std::vector<int> workers(o.workers);
  for (int w = 0; w < o.workers; ++w) workers[w] = w;
  const auto spec = tr::synthetic_spec(t.synthetic, o.dir + "/trace.json");
  const auto g = tr::synthetic_gradients(t.layout, tensors, workers, o.step, spec);
  const std::int64_t elements = static_cast<std::int64_t>(g.size()) / o.workers;
  io::write_file_atomic(o.out, io::npy_bytes_f32({o.workers, elements}, g));
  std::printf("%s: %d x %lld synthetic gradients (%s, seed %llu, step %lld)\n", io::escape_text(o.out).c_str(), o.workers,
              static_cast<long long>(elements), spec.distribution.c_str(),
              static_cast<unsigned long long>(spec.seed), static_cast<long long>(o.step));
  return 0;
}

// Reads and checks with the C++ reader, writes with the C++ writer: converts sample precision and
// gives the Python <-> C++ round-trip test a C++-written trace.
int copy(const Options& o) {
  if (o.out.empty()) throw std::invalid_argument("command line: --out: expected a destination directory");
  if (!o.dtype.empty() && o.dtype != "float32" && o.dtype != "float16")
    throw std::invalid_argument("command line: --dtype: expected float32 or float16, got " + o.dtype);
  // The destination is a new trace: never the source, inside it, or over another trace.
  io::OutputGuard("trace").input_trace("DIR", o.dir).output_dir("--out", o.out).check();
  tr::Trace t = tr::validate_trace(o.dir);
  // Validation before writing: the copy is staged in a temporary directory beside --out, read back
  // with the reader every consumer uses (validate_trace), and renamed to --out only when it passes;
  // a refused copy (float16 of gradients above 65504) leaves nothing and names the flag.
  namespace fs = std::filesystem;
  const fs::path dest = fs::path(o.out).lexically_normal();
  if (fs::exists(dest) && !(fs::is_directory(dest) && fs::is_empty(dest)))
    throw std::invalid_argument("--out " + o.out + ": expected a new or empty directory for the copied trace");
  std::string stage = (dest.has_filename() ? dest : dest.parent_path()).string() + ".tmp.XXXXXX";
  if (!::mkdtemp(stage.data())) throw std::runtime_error("--out " + o.out + ": cannot create a staging directory beside it");
  struct Remove {
    std::string dir;
    bool keep = false;
    ~Remove() { if (!keep) { std::error_code ec; fs::remove_all(dir, ec); } }
  } remove{stage};
  for (std::size_t i = 0; i < t.samples.size(); ++i) {
    auto& s = t.samples[i];
    const std::string at = "samples[" + std::to_string(i) + "]";
    s.data = tr::write_data_file(stage, s.data.file, s.data.shape, tr::load_file(t, s.data, at + ".data"),
                                 o.dtype.empty() ? s.data.dtype : o.dtype);
    if (s.aggregate)
      s.aggregate = tr::write_data_file(stage, s.aggregate->file, s.aggregate->shape,
                                        tr::load_file(t, *s.aggregate, at + ".aggregate"),
                                        o.dtype.empty() ? s.aggregate->dtype : o.dtype);
  }
  tr::write_trace(stage, t);
  std::vector<io::FlagFields> flags;
  if (!o.dtype.empty()) flags.push_back({"--dtype " + o.dtype, {"samples", "finite", "float16"}});
  io::check_before_writing(
      [&] {
        try {
          tr::validate_trace(stage);
        } catch (const std::exception& e) {
          std::string m = e.what();  // the staging directory, as the copy would have been named
          for (std::size_t at = m.find(stage); at != std::string::npos; at = m.find(stage, at + o.out.size()))
            m.replace(at, stage.size(), o.out);
          throw std::runtime_error(m);
        }
      },
      {"--out", o.out}, flags, {o.dir});
  if (fs::exists(dest)) fs::remove(dest);  // an empty directory (checked above)
  fs::rename(stage, dest);
  remove.keep = true;
  std::printf("%s: copied %s (%zu data files)\n", io::escape_text(o.out).c_str(), io::escape_text(o.dir).c_str(), t.samples.size());
  return 0;
}

}  // namespace

int cmd_trace(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string sub = argv[1];
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  if (sub == "validate") {
    const Options o = parse(argc, argv);
    const tr::Trace t = tr::validate_trace(o.dir);
    std::printf("%s: valid %s trace: %zu tensors, %zu samples, %zu convergence logs\n", io::escape_text(o.dir).c_str(),
                tr::kTraceFormat, t.layout.parameters.size(), t.samples.size(), t.convergence.size());
    return 0;
  }
  if (sub == "info") return info(parse(argc, argv));
  if (sub == "synth") return synth(parse(argc, argv));
  if (sub == "copy") return copy(parse(argc, argv));
  if (sub == "buckets") {
    const Options o = parse(argc, argv);
    const tr::Trace t = tr::read_trace(o.dir);
    const auto bs = buckets_of(t, o);
    if (o.json) {
      std::cout << buckets_json(bs, o).dump(1) << "\n";
    } else {
      for (const auto& b : bs)
        std::printf("bucket %d: %zu tensors, %lld elements, %lld bytes (%s ... %s)\n", b.index, b.tensors.size(),
                    static_cast<long long>(b.elements), static_cast<long long>(b.bytes), io::escape_text(b.tensors.front()).c_str(),
                    io::escape_text(b.tensors.back()).c_str());
    }
    return 0;
  }
  throw std::invalid_argument("command line: " + sub + ": expected validate, info, buckets, synth or copy");
}

}  // namespace arcsim::cli
