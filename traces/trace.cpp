// trace.json: strict parsing (common/json_fields.hpp refuses unknown keys) and the structural
// checks that need no data file. Data checks are in trace_data.cpp.
#include "trace.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "common/atomic_file.hpp"
#include "synthetic.hpp"
#include "common/json_fields.hpp"

namespace arcsim::traces {
namespace {

using nlohmann::json;
using arcsim::json::Fields;

// Workers of one recorded run (and bucket indices): far above any data-parallel job, far below
// INT_MAX, so every count read from a trace fits the int it is kept in.
constexpr std::int64_t kMaxWorld = 1 << 20;

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& what) {
  throw TraceError(file + ": " + field + ": " + what);
}

std::vector<std::int64_t> shape_of(Fields& f, const std::string& key, bool allow_empty) {
  const json& v = f.required(key);
  if (!v.is_array() || (!allow_empty && v.empty())) f.fail(key, "a list of positive integers");
  std::vector<std::int64_t> out;
  std::int64_t product = 1;
  for (const auto& d : v) {
    if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<std::uint64_t>() > std::uint64_t(INT64_MAX)) ||
        d.get<std::int64_t>() < 1)
      f.fail(key, "a list of positive integers");
    out.push_back(d.get<std::int64_t>());
    // Checked: a product that wraps would pass every later size comparison.
    if (__builtin_mul_overflow(product, out.back(), &product) || product > kMaxElements)
      f.fail(key, "a shape of at most 2^40 elements");
  }
  return out;
}

std::vector<std::string> strings_of(Fields& f, const std::string& key) {
  const json& v = f.required(key);
  if (!v.is_array()) f.fail(key, "a list of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) f.fail(key, "a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

double non_negative(Fields& f, const std::string& key) {
  const double v = f.number(key);
  if (v < 0) f.fail(key, "a non-negative number of seconds");
  return v;
}

// A relative path inside the trace directory: no absolute paths, no "..".
std::string relative_path(Fields& f, const std::string& key) {
  const std::string p = f.string(key);
  if (p.empty() || p.front() == '/' || p.find("..") != std::string::npos || p.find('\\') != std::string::npos)
    f.fail(key, "a relative path inside the trace directory (no '/' prefix, no '..')");
  return p;
}

FileRef parse_file_ref(const json& j, const std::string& file, const std::string& path) {
  Fields f(j, file, path);
  FileRef r;
  r.file = relative_path(f, "file");
  r.dtype = f.choice("dtype", {"float32", "float16"}, "");
  r.shape = shape_of(f, "shape", false);
  r.sha256 = f.string("sha256");
  if (r.sha256.size() != 64 || r.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
    f.fail("sha256", "64 lowercase hex digits");
  f.finish();
  return r;
}

Layout parse_layout(const json& j, const std::string& file) {
  Fields f(j, file, "layout");
  Layout l;
  l.model = f.string("model");
  const json& params = f.required("parameters");
  if (!params.is_array() || params.empty()) f.fail("parameters", "a non-empty list of parameters");
  std::set<std::string> names;
  for (std::size_t i = 0; i < params.size(); ++i) {
    Fields p(params[i], file, "layout.parameters[" + std::to_string(i) + "]");
    Parameter q;
    q.name = p.string("name");
    if (q.name.empty() || !names.insert(q.name).second) p.fail("name", "a unique, non-empty name");
    q.shape = shape_of(p, "shape", false);
    q.dtype = p.choice("dtype", {"float32", "float16", "bfloat16", "float64"}, "float32");
    q.layer = p.string("layer");
    p.finish();
    l.parameters.push_back(std::move(q));
    if (l.total_elements() > kMaxElements)
      p.fail("shape", "a layout of at most 2^40 elements in total");
  }
  f.finish();
  return l;
}

// The profile's own rules are the compute reader's; the trace adds that its parameters are
// exactly the layout's.
ComputeProfile parse_compute(const json& j, const std::string& file, const Layout& layout) {
  ComputeProfile c = compute::parse_compute_profile(j, file, "compute");
  std::set<std::string> owned;
  for (std::size_t i = 0; i < c.layers.size(); ++i)
    for (const auto& p : c.layers[i].params) {
      if (layout.index_of(p) < 0)
        fail(file, "compute.layers[" + std::to_string(i) + "].params",
             "names of layout parameters, got unknown \"" + p + "\"");
      owned.insert(p);
    }
  for (const auto& p : layout.parameters)
    if (!owned.count(p.name))
      fail(file, "compute.layers", "every layout parameter in a layer, \"" + p.name + "\" is in none");
  return c;
}

Sample parse_sample(const json& j, const std::string& file, std::size_t i, const Layout& layout) {
  const std::string at = "samples[" + std::to_string(i) + "]";
  Fields f(j, file, at);
  Sample s;
  s.config = f.string("config");
  // Ranges are checked on the 64-bit value, before it is narrowed (a huge value must not wrap).
  const std::int64_t world = f.integer("world");
  if (world < 1 || world > kMaxWorld) f.fail("world", "a number of workers in [1, " + std::to_string(kMaxWorld) + "]");
  s.world = static_cast<int>(world);
  s.step = f.integer("step");
  if (s.step < 0) f.fail("step", "a non-negative step");
  const std::int64_t bucket = f.integer_or("bucket", -1);
  if (bucket < -1 || bucket > kMaxWorld) f.fail("bucket", "a bucket index >= 0, or -1");
  s.bucket = static_cast<int>(bucket);
  s.tensors = strings_of(f, "tensors");
  if (s.tensors.empty()) f.fail("tensors", "a non-empty list of parameter names");
  std::int64_t elements = 0;
  for (const auto& name : s.tensors) {
    const int k = layout.index_of(name);
    if (k < 0) fail(file, at + ".tensors", "names of layout parameters, got unknown \"" + name + "\"");
    elements += layout.parameters[k].numel();
  }
  const json& w = f.required("workers");
  if (!w.is_array() || w.empty()) f.fail("workers", "a non-empty list of worker ranks");
  std::set<int> seen;
  for (const auto& r : w) {
    if (!r.is_number_integer() || r.get<std::int64_t>() < 0 || r.get<std::int64_t>() >= s.world ||
        !seen.insert(r.get<int>()).second)
      f.fail("workers", "distinct ranks in [0, world = " + std::to_string(s.world) + ")");
    s.workers.push_back(r.get<int>());
  }
  s.data = parse_file_ref(f.required("data"), file, at + ".data");
  const std::vector<std::int64_t> want = {std::int64_t(s.workers.size()), elements};
  if (s.data.shape != want)
    fail(file, at + ".data.shape",
         "expected " + shape_str(want) + " (workers x elements of the layout's tensors), got " + shape_str(s.data.shape));
  if (const json* a = f.optional("aggregate")) {
    s.aggregate = parse_file_ref(*a, file, at + ".aggregate");
    if (s.aggregate->shape != std::vector<std::int64_t>{elements})
      fail(file, at + ".aggregate.shape",
           "expected [" + std::to_string(elements) + "] (elements of the layout's tensors), got " +
               shape_str(s.aggregate->shape));
  }
  f.finish();
  return s;
}

ConvergenceLog parse_log(const json& j, const std::string& file, std::size_t i) {
  const std::string at = "convergence[" + std::to_string(i) + "]";
  Fields f(j, file, at);
  ConvergenceLog c;
  c.config = f.string("config");
  const std::int64_t world = f.integer("world");
  if (world < 1 || world > kMaxWorld) f.fail("world", "a number of workers in [1, " + std::to_string(kMaxWorld) + "]");
  c.world = static_cast<int>(world);
  c.compressor = f.required("compressor");
  {
    Fields k(c.compressor, file, at + ".compressor");
    k.string("compressor");
    for (const char* key : {"ratio"}) k.number_or(key, 1.0);
    k.integer_or("rank", 0);
    k.integer_or("seed", 0);
    k.integer_or("warmup", 0);
    k.boolean_or("ramp", false);
    k.boolean_or("unbiased", false);
    k.number_or("eta", 0.9);
    for (const char* key : {"ef", "row_scores", "shape_rule", "sketch_allreduce"}) k.string_or(key, "");
    // Every other option the compressor ran with (the recorder states each option the compressor
    // takes: preset, value_dtype, ef21_init, momentum, beta, index_dtype, a method's own, ...): a
    // scalar. The option table is the kernels' (traces knows only common); a log's options are
    // compared where a spec is matched to it.
    for (auto it = c.compressor.begin(); it != c.compressor.end(); ++it) {
      const json& v = k.required(it.key());
      if (!v.is_string() && !v.is_number() && !v.is_boolean())
        k.fail(it.key(), "an option value (a string, a number or true/false)");
    }
    k.finish();
  }
  if (const json* sd = f.optional("seed")) {
    if (!sd->is_number_integer() || sd->get<std::int64_t>() < 0) f.fail("seed", "a non-negative integer");
    c.seed = sd->get<std::int64_t>();
  } else {
    c.seed = -1;  // resolved by parse_trace: the compressor's seed, else the trace's
  }
  // The target: `target_accuracy` (accuracy, reached when >=) or a `target` object on any metric.
  if (f.has("target") == f.has("target_accuracy"))
    f.fail("target", "exactly one of target_accuracy (a fraction) or target ({metric, value, mode})");
  if (f.has("target_accuracy")) {
    c.target_accuracy = f.number("target_accuracy");
    if (c.target_accuracy < 0 || c.target_accuracy > 1) f.fail("target_accuracy", "a fraction in [0, 1]");
    c.target = CurveTarget{"accuracy", c.target_accuracy, "max"};
  } else {
    Fields tf(f.required("target"), file, at + ".target");
    c.target.metric = tf.string("metric");
    if (c.target.metric.empty() || c.target.metric == "step") tf.fail("metric", "the name of a logged metric");
    c.target.value = tf.number("value");
    if (!std::isfinite(c.target.value)) tf.fail("value", "a finite number");
    c.target.mode = tf.choice("mode", {"max", "min"}, "");
    tf.finish();
    if (c.target.metric == "accuracy" && c.target.mode == "max") c.target_accuracy = c.target.value;
  }
  const json& stt = f.required("steps_to_target");
  if (!stt.is_null() && !(stt.is_number_integer() && stt.get<std::int64_t>() >= 0))
    f.fail("steps_to_target", "a non-negative step or null (target not reached)");
  if (!stt.is_null()) c.steps_to_target = stt.get<std::int64_t>();
  c.max_steps = f.integer("max_steps");
  c.eval_every = f.integer("eval_every");
  if (c.eval_every < 1) f.fail("eval_every", "a positive number of steps");
  c.stopped = f.choice("stopped", {"target", "budget"}, "");
  c.wall_s = non_negative(f, "wall_s");
  const json& pts = f.required("points");
  if (!pts.is_array() || pts.empty()) f.fail("points", "a non-empty list of evaluations");
  for (std::size_t k = 0; k < pts.size(); ++k) {
    const std::string pat = at + ".points[" + std::to_string(k) + "]";
    const json& pj = pts[k];
    if (!pj.is_object()) fail(file, pat, "an object {step, metric: value, ...}");
    CurvePoint q;
    q.loss = q.accuracy = std::nan("");
    bool has_step = false;
    for (const auto& [key, v] : pj.items()) {
      if (key == "step") {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0) fail(file, pat + ".step", "a non-negative integer");
        q.step = v.get<std::int64_t>();
        has_step = true;
        continue;
      }
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        fail(file, pat + "." + key, "a finite number (a metric value), got " + arcsim::json::brief(v));
      const double x = v.get<double>();
      if (key == "loss") q.loss = x;
      else if (key == "accuracy") q.accuracy = x;
      else q.extra[key] = x;
    }
    if (!has_step) fail(file, pat + ".step", "required");
    if (!std::isnan(q.accuracy) && (q.accuracy < 0 || q.accuracy > 1))
      fail(file, pat + ".accuracy", "a fraction in [0, 1], got " + std::to_string(q.accuracy));
    if (std::isnan(q.metric(c.target.metric)))
      fail(file, pat + "." + c.target.metric, "the target metric in every evaluation");
    if (!c.points.empty() && q.step <= c.points.back().step)
      fail(file, pat + ".step", "steps in increasing order, got " + std::to_string(q.step) + " after " +
                                    std::to_string(c.points.back().step));
    c.points.push_back(q);
  }
  // steps_to_target is derived data; it must agree with the curve it summarises.
  std::optional<std::int64_t> first;
  const CurveTarget target = c.effective_target();
  for (const auto& p : c.points)
    if (target.reached_by(p.metric(target.metric))) { first = p.step; break; }
  if (first != c.steps_to_target)
    fail(file, at + ".steps_to_target",
         "the first evaluated step whose " + target.metric + " reaches the target (" +
             (first ? std::to_string(*first) : std::string("null")) + "), got " +
             (c.steps_to_target ? std::to_string(*c.steps_to_target) : std::string("null")));
  if ((c.stopped == "target") != c.steps_to_target.has_value())
    f.fail("stopped", std::string("\"") + (c.steps_to_target ? "target" : "budget") + "\" (agreeing with steps_to_target)");
  f.finish();
  return c;
}

json file_ref_json(const FileRef& r) {
  return {{"file", r.file}, {"dtype", r.dtype}, {"shape", r.shape}, {"sha256", r.sha256}};
}

}  // namespace

double CurvePoint::metric(const std::string& name) const {
  if (name == "accuracy") return accuracy;
  if (name == "loss") return loss;
  const auto it = extra.find(name);
  return it == extra.end() ? std::nan("") : it->second;
}

std::int64_t Parameter::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int dtype_size(const std::string& dtype) {
  if (dtype == "float32") return 4;
  if (dtype == "float16" || dtype == "bfloat16") return 2;
  if (dtype == "float64") return 8;
  return 0;
}

std::int64_t Parameter::bytes() const { return numel() * dtype_size(dtype); }

std::int64_t Layout::total_elements() const {
  std::int64_t n = 0;
  for (const auto& p : parameters) n += p.numel();
  return n;
}

int Layout::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < parameters.size(); ++i)
    if (parameters[i].name == name) return static_cast<int>(i);
  return -1;
}

Trace parse_trace(const json& doc, const std::string& dir, const std::string& file) {
  try {
    Fields f(doc, file, "");
    // The version comes first: a future format must not be half-read with v1 rules.
    const json& fmt = f.required("format");
    if (!fmt.is_string() || fmt.get<std::string>() != kTraceFormat)
      f.fail("format", std::string("\"") + kTraceFormat + "\" (this arcsim reads trace format v1)");
    Trace t;
    t.dir = dir;
    t.name = f.string("name");
    t.description = f.string_or("description", "");
    t.layout = parse_layout(f.required("layout"), file);
    if (const json* c = f.optional("compute"); c && !c->is_null()) t.compute = parse_compute(*c, file, t.layout);
    if (const json* n = f.optional("compute_notes")) {
      if (!n->is_object()) f.fail("compute_notes", "an object");
      t.compute_notes = *n;
    }
    if (const json* s = f.optional("synthetic"); s && !s->is_null()) {
      if (!s->is_object()) f.fail("synthetic", "an object (traces/synthetic.hpp spec) or null");
      synthetic_spec(*s, file);  // strict check of the spec's keys and ranges
      t.synthetic = *s;
    }
    const json& samples = f.required("samples");
    if (!samples.is_array()) f.fail("samples", "a list (empty for a layout-only trace)");
    // One entry per (config, world, step, bucket, tensors) and per data file: a repeated sample would
    // be replayed twice as if it were two, and two entries sharing a file hide a missing one.
    std::set<std::tuple<std::string, int, std::int64_t, int, std::vector<std::string>>> seen_samples;
    std::set<std::string> seen_files;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      t.samples.push_back(parse_sample(samples[i], file, i, t.layout));
      const Sample& s = t.samples.back();
      if (!seen_samples.insert({s.config, s.world, s.step, s.bucket, s.tensors}).second)
        fail(file, "samples[" + std::to_string(i) + "]",
             "expected each (config, world, step, bucket, tensors) once, got a repeat of an earlier entry");
      if (!seen_files.insert(s.data.file).second)
        fail(file, "samples[" + std::to_string(i) + "].data.file",
             "expected a data file no other entry names, got \"" + s.data.file + "\" again");
    }
    const json& logs = f.required("convergence");
    if (!logs.is_array()) f.fail("convergence", "a list (empty for a layout-only trace)");
    std::set<std::pair<std::string, int>> ids;
    for (std::size_t i = 0; i < logs.size(); ++i) {
      t.convergence.push_back(parse_log(logs[i], file, i));
      ids.insert({t.convergence.back().config, t.convergence.back().world});
    }
    for (std::size_t i = 0; i < t.samples.size(); ++i)
      if (!t.convergence.empty() && !ids.count({t.samples[i].config, t.samples[i].world}))
        fail(file, "samples[" + std::to_string(i) + "].config",
             "a (config, world) that has a convergence log, got \"" + t.samples[i].config + "\" at world " +
                 std::to_string(t.samples[i].world));
    t.provenance = f.required("provenance");
    {
      Fields p(t.provenance, file, "provenance");
      const std::int64_t trace_seed = p.integer("seed");
      // A log without its own seed is the run of its compressor's seed, else of the trace's.
      std::set<std::tuple<std::string, int, std::int64_t>> runs;
      for (std::size_t i = 0; i < t.convergence.size(); ++i) {
        auto& c = t.convergence[i];
        if (c.seed < 0) {
          const json* cs = c.compressor.is_object() && c.compressor.contains("seed") ? &c.compressor["seed"] : nullptr;
          c.seed = cs && cs->is_number_integer() && cs->get<std::int64_t>() >= 0 ? cs->get<std::int64_t>() : trace_seed;
        }
        if (!runs.insert({c.config, c.world, c.seed}).second)
          fail(file, "convergence[" + std::to_string(i) + "].seed",
               "a unique (config, world, seed), got \"" + c.config + "\" at world " + std::to_string(c.world) +
                   " seed " + std::to_string(c.seed) + " twice");
      }
      p.string("command");
      p.string_or("dataset", "");
      if (const json* b = p.optional("batch_per_worker"); b && !b->is_null() && !b->is_number_integer())
        p.fail("batch_per_worker", "an integer or null");
      p.string_or("optimizer", "");
      p.string_or("created_utc", "");
      p.string_or("notes", "");
      if (const json* s = p.optional("software")) {
        if (!s->is_object()) p.fail("software", "an object of name -> version strings");
        for (const auto& [k, v] : s->items())
          if (!v.is_string()) p.fail("software", "version strings, \"" + k + "\" is " + arcsim::json::brief(v));
      }
      // Continuations of the recording (`record --resume`): what each added, in order.
      if (const json* r = p.optional("resumed")) {
        if (!r->is_array()) p.fail("resumed", "an array of {command, created_utc, seeds}");
        for (std::size_t i = 0; i < r->size(); ++i) {
          Fields e((*r)[i], file, "provenance.resumed[" + std::to_string(i) + "]");
          e.string("command");
          e.string_or("created_utc", "");
          if (const json* s = e.optional("seeds")) {
            if (!s->is_array()) e.fail("seeds", "an array of integer seeds");
            for (const auto& v : *s)
              if (!v.is_number_integer()) e.fail("seeds", "integer seeds, got " + arcsim::json::brief(v));
          }
          e.finish();
        }
      }
      p.finish();
    }
    f.finish();
    return t;
  } catch (const arcsim::json::ConfigError& e) {
    throw TraceError(e.what());
  }
}

Trace read_trace(const std::string& dir) {
  const std::string file = (std::filesystem::path(dir) / "trace.json").string();
  if (!std::filesystem::is_directory(dir)) throw TraceError(dir + ": not a directory: expected a trace directory");
  json doc;
  try {
    doc = arcsim::json::load_file(file);
  } catch (const arcsim::json::ConfigError& e) {
    throw TraceError(e.what());
  }
  return parse_trace(doc, dir, file);
}

json to_json(const Trace& t) {
  json params = json::array();
  for (const auto& p : t.layout.parameters)
    params.push_back({{"name", p.name}, {"shape", p.shape}, {"dtype", p.dtype}, {"layer", p.layer}});
  json doc = {{"format", kTraceFormat},
              {"name", t.name},
              {"layout", {{"model", t.layout.model}, {"parameters", params}}},
              {"samples", json::array()},
              {"convergence", json::array()},
              {"provenance", t.provenance.is_null() ? json::object() : t.provenance}};
  if (!t.description.empty()) doc["description"] = t.description;
  if (t.compute) doc["compute"] = compute::to_json(*t.compute);
  if (!t.compute_notes.is_null()) doc["compute_notes"] = t.compute_notes;
  if (!t.synthetic.is_null()) doc["synthetic"] = t.synthetic;
  for (const auto& s : t.samples) {
    json j = {{"config", s.config}, {"world", s.world}, {"step", s.step}, {"bucket", s.bucket},
              {"tensors", s.tensors}, {"workers", s.workers}, {"data", file_ref_json(s.data)}};
    if (s.aggregate) j["aggregate"] = file_ref_json(*s.aggregate);
    doc["samples"].push_back(j);
  }
  for (const auto& c : t.convergence) {
    json pts = json::array();
    for (const auto& p : c.points) {
      json pj = {{"step", p.step}};
      if (!std::isnan(p.loss)) pj["loss"] = p.loss;
      if (!std::isnan(p.accuracy)) pj["accuracy"] = p.accuracy;
      for (const auto& [k, v] : p.extra) pj[k] = v;
      pts.push_back(std::move(pj));
    }
    json lj = {{"config", c.config}, {"world", c.world}, {"seed", c.seed}, {"compressor", c.compressor},
               {"steps_to_target", c.steps_to_target ? json(*c.steps_to_target) : json(nullptr)},
               {"max_steps", c.max_steps}, {"eval_every", c.eval_every}, {"stopped", c.stopped},
               {"wall_s", c.wall_s}, {"points", pts}};
    const CurveTarget target = c.effective_target();
    if (target.metric == "accuracy" && target.mode == "max")
      lj["target_accuracy"] = target.value;
    else
      lj["target"] = {{"metric", target.metric}, {"value", target.value}, {"mode", target.mode}};
    doc["convergence"].push_back(std::move(lj));
  }
  return doc;
}

void write_trace(const std::string& dir, const Trace& t) {
  std::filesystem::create_directories(dir);
  io::write_file_atomic((std::filesystem::path(dir) / "trace.json").string(), to_json(t).dump(1) + "\n");
}

}  // namespace arcsim::traces
