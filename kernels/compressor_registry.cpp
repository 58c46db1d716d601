// The registry's table. A new compressor: write kernels/sparsifier_<name>.cpp with its factory
// (declared in sparsifier.hpp) and add one entry below, listing the shared options it takes and
// declaring its own with number_option/integer_option/bool_option/choice_option.
#include "kernels/compressor_registry.hpp"
#include "kernels/error_feedback.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace arcsim::kernels {

namespace {

using nlohmann::json;

// Options every compressing method takes (the dense method takes none).
std::vector<std::string> shared(std::initializer_list<const char*> more) {
  std::vector<std::string> o = {"ratio", "ef", "ef21_init", "momentum", "eta", "beta", "warmup", "value_dtype"};
  for (const char* m : more) o.emplace_back(m);
  return o;
}

std::vector<CompressorEntry> make_registry() {
  std::vector<CompressorEntry> r;
  r.push_back({"dense", "no compression: one all-reduce of the bucket, averaged", "elements", {}, {}, {},
               [](const CompressorConfig&) { return make_dense(); }});
  r.push_back({"topk", "exact magnitude top-k per tensor; values and indices all-gathered", "elements",
               shared({"ramp", "index_dtype", "preset"}), {}, {"reference"},
               [](const CompressorConfig&) { return make_topk(); }});
  r.push_back({"randk", "k shared random indices per tensor (shared seed); values all-reduced, index-free", "elements",
               shared({"ramp", "rescale", "preset"}), {}, {"reference"},
               [](const CompressorConfig& c) { return make_randk(c.seed, c.unbiased); }});
  // Threshold estimators: variable k per worker, values + indices all-gathered with the real
  // per-worker counts (docs/compressors/threshold.md).
  r.push_back({"dgc", "DGC: sampled threshold + adjustment, momentum correction and masking, local clipping; all-gather-v",
               "elements", shared({"index_dtype"}),
               {number_option("sample_ratio", 0.01, 0, 1, true, "DGC: fraction of each tensor sampled for the threshold (GRACE 0.01)"),
                integer_option("max_adjust", 10, 0, 100, "threshold re-adjustments at most (DGC: x1.3 / x0.7, GRACE 10; GaussianK: x0.5 / x1.5, 5)"),
                [] {
                  OptionSpec m = number_option("momentum_correction", 0.9, 0, 1, false,
                                               "DGC momentum m: u = m u + g, v += u (0 = plain accumulation v += g)");
                  m.max = std::nextafter(1.0, 0.0);
                  return m;
                }(),
                number_option("clip_norm", 0.0, 0, 1e30, false, "DGC local clipping: global norm c, each worker clips to c / sqrt(N) (0 = off)")},
               {}, [](const CompressorConfig& c) { return make_dgc(c); }});
  r.push_back({"gaussiank", "GaussianK: thr = mean + std * Phi^-1(1 - rho/2), re-adjusted x0.5 / x1.5; all-gather-v",
               "elements", shared({"index_dtype"}),
               {integer_option("max_adjust", 5, 0, 100, "threshold re-adjustments at most (DGC: x1.3 / x0.7, GRACE 10; GaussianK: x0.5 / x1.5, 5)")},
               {}, [](const CompressorConfig& c) { return make_gaussiank(c); }});
  r.push_back({"redsync", "RedSync: thr = mean + t (max - mean) of |g|, binary search on t; all-gather-v", "elements",
               shared({"index_dtype"}),
               {bool_option("trim", false, "RedSync: RedSyncTrim, one shot at t = 0.8 instead of the binary search")},
               {}, [](const CompressorConfig& c) { return make_redsync(c); }});
  r.push_back({"sidco", "SIDCo: multi-stage fit of the magnitudes (exponential | gamma | pareto); all-gather-v", "elements",
               shared({"index_dtype"}),
               {integer_option("stages", 2, 1, 10, "SIDCo: fitting stages (the first at first_ratio, the rest refit the exceedances)"),
                number_option("first_ratio", 0.25, 0, 1, true, "SIDCo: tail fraction of the first stage (SIDCo's FIRST_RATIO)"),
                choice_option("fit", "exponential",
                              {{"exponential", "SIDCo-E: exponential, excess mean * -ln p"},
                               {"gamma", "SIDCo-GA: gamma, Minka's shape estimate, exact quantile"},
                               {"pareto", "SIDCo-GP: generalized Pareto, method of moments"}},
                              "SIDCo: the distribution fitted at each stage")},
               {}, [](const CompressorConfig& c) { return make_sidco(c); }});
  r.push_back({"arctopk", "ARC-Top-K: rows chosen by an all-reduced random sketch; rows all-reduced, index-free",
               "rows", shared({"rank", "row_scores", "shape_rule", "sketch_allreduce", "preset"}), {}, {"reference"},
               [](const CompressorConfig& c) {
                 ArcOptions o;
                 o.rank = c.rank;
                 o.exact_scores = c.row_scores == "exact";
                 o.shape_rule = parse_shape_rule(c.shape_rule);
                 o.sketch_per_bucket = c.sketch_allreduce == "bucket";
                 o.seed = c.seed;
                 return make_arctopk(o);
               }});
  // ADTopk (all-dimension top-k) with FGBuff's buffering; defaults from the ADTopk code.
  r.push_back({"adtopk",
               "ADTopk: top-k of every row (k_row = max(1, floor(ratio m))); all-gathered, 1-D tensors sent whole",
               "elements", shared({"shape_rule", "index_dtype"}),
               {bool_option("interleave", false, "ADTopk-i: odd calls per-row top-k, even calls global top-k"),
                bool_option("threshold_reuse", false,
                            "reuse per-row thresholds between exact calls (15 exact, then every tau >= 5 calls)"),
                bool_option("fgbuff", false, "FGBuff: merge the all-gathers into buffers of fgbuff_elements entries"),
                integer_option("fgbuff_elements", 262144, 1, 4294967295.0,
                               "FGBuff buffer size, in selected entries per worker")},
               {},
               [](const CompressorConfig& c) { return make_adtopk(c); }});
  // PowerSGD: rank r, warm-started Q; `ratio` is accepted and has no effect (the rank sets the size).
  r.push_back({"powersgd",
               "PowerSGD: rank-r P Q^T per matrix, warm-started Q, two all-reduces per bucket; ratio unused",
               "rank", shared({"rank", "shape_rule"}), {}, {},
               [](const CompressorConfig& c) { return make_powersgd(c); }});
  // Ok-Topk
  r.push_back({"oktopk",
               "Ok-Topk: reused local/global thresholds, region-partitioned sparse reduce-scatter (all-to-all-v), "
               "balanced all-gather-v",
               "elements", shared({"index_dtype"}),
               {integer_option("tau", 32, 1, 1e6,
                               "calls between exact re-evaluations of the local and global thresholds (the authors' "
                               "scripts: 32; 128 in their BERT runs)"),
                integer_option("repartition_tau", 32, 1, 1e6,
                               "calls between recomputations of the region boundaries from the last global top-k "
                               "(the paper's tau')")},
               {},
               [](const CompressorConfig& c) { return make_oktopk(c); }});
  return r;
}

}  // namespace

bool CompressorEntry::takes(const std::string& option) const {
  return std::find(options.begin(), options.end(), option) != options.end() ||
         std::any_of(own_options.begin(), own_options.end(), [&](const OptionSpec& o) { return o.name == option; });
}

const std::vector<CompressorEntry>& compressor_registry() {
  static const std::vector<CompressorEntry> registry = make_registry();
  return registry;
}

std::vector<std::string> compressor_names() {
  std::vector<std::string> n;
  for (const auto& e : compressor_registry()) n.push_back(e.name);
  return n;
}

std::string compressor_choices(const char* sep) {
  std::string s;
  for (const auto& e : compressor_registry()) s += (s.empty() ? "" : sep) + e.name;
  return s;
}

const CompressorEntry& compressor_entry(const std::string& name) {
  for (const auto& e : compressor_registry())
    if (e.name == name) return e;
  throw std::invalid_argument("compressor: expected " + compressor_choices("|") + ", got '" + name + "'");
}

json preset_options(const std::string& name, const std::string& preset) {
  const CompressorEntry& e = compressor_entry(name);
  if (preset == "none") return json::object();
  if (std::find(e.presets.begin(), e.presets.end(), preset) == e.presets.end())
    throw std::invalid_argument("preset: expected " + std::string(e.presets.empty() ? "none" : "none|reference") +
                                " for " + name + ", got '" + preset + "'");
  // preset == "reference": the authors' hooks (compressor_registry.hpp).
  json p = {{"warmup", 10}, {"ef21_init", "zero"}, {"momentum", "heavy-ball"}, {"beta", 0.5}};
  if (e.takes("shape_rule")) p["shape_rule"] = "reference";
  if (e.takes("ramp")) p["ramp"] = true;
  return p;
}

// --- CompressorConfig ---------------------------------------------------------------------

std::int64_t ramp_steps(const CompressorConfig& c) {
  if (!c.ramp || !compressor_entry(c.compressor).takes("ramp")) return 0;
  return static_cast<std::int64_t>(c.warmup) + kRampExtraSteps;
}

double ramp_ratio(const CompressorConfig& c, double t) {
  const std::int64_t L = ramp_steps(c);
  if (L <= 0 || t >= static_cast<double>(L)) return c.ratio;
  return std::max(c.ratio, kRampFrom - (kRampFrom - c.ratio) * t / static_cast<double>(L));
}

namespace {
const OptionSpec& param_spec(const CompressorConfig& c, const std::string& name) {
  // A method's own option first: two methods may each have an option of one name with their
  // own defaults (max_adjust: DGC 10, GaussianK 5); the shared table holds only the first.
  for (const auto& own : compressor_entry(c.compressor).own_options)
    if (own.name == name) return own;
  const OptionSpec* o = find_option(name);
  if (!o || !compressor_entry(c.compressor).takes(name))
    throw std::logic_error("option '" + name + "' is not an option of " + c.compressor);
  return *o;
}
}  // namespace

double CompressorConfig::param_number(const std::string& name) const {
  return param_spec(*this, name).load(*this).get<double>();
}
std::int64_t CompressorConfig::param_integer(const std::string& name) const {
  return param_spec(*this, name).load(*this).get<std::int64_t>();
}
bool CompressorConfig::param_bool(const std::string& name) const {
  return param_spec(*this, name).load(*this).get<bool>();
}
std::string CompressorConfig::param_choice(const std::string& name) const {
  return param_spec(*this, name).load(*this).get<std::string>();
}

void CompressorConfig::validate() const {
  const CompressorEntry& e = compressor_entry(compressor);
  // Each typed member and each given param must be a value its option accepts.
  CompressorConfig probe;
  probe.compressor = compressor;
  for (const auto& o : option_table())
    if (!o.in_params) set_option(probe, o.name, o.load(*this));
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (!e.takes(it.key())) throw std::invalid_argument(it.key() + ": does not apply to " + compressor);
    set_option(probe, it.key(), it.value());
  }
  if (preset != "none") preset_options(compressor, preset);
}

json CompressorConfig::to_json() const {
  const CompressorEntry& e = compressor_entry(compressor);
  json j = {{"name", compressor}, {"ratio", ratio}, {"ef", ef}, {"seed", seed}, {"warmup", warmup}};
  if (e.takes("rank")) j["rank"] = rank;
  if (e.takes("row_scores")) j["row_scores"] = row_scores;
  if (e.takes("shape_rule")) j["shape_rule"] = shape_rule;
  if (e.takes("sketch_allreduce")) j["sketch_allreduce"] = sketch_allreduce;
  if (e.takes("ramp")) j["ramp"] = ramp;
  if (e.takes("rescale")) j["unbiased"] = unbiased;
  const ErrorFeedback variant = error_feedback(ef);
  const bool ef21 = is_ef21_family(variant);
  if (variant == ErrorFeedback::ef21m && momentum == "ema") j["eta"] = eta;
  // Options added with the registry appear only when they differ from their defaults, so plans
  // written before them keep their bytes.
  if (ef21 && ef21_init != "dense") j["ef21_init"] = ef21_init;
  if (variant == ErrorFeedback::ef21m && momentum != "ema") {
    j["momentum"] = momentum;
    j["beta"] = beta;
  }
  if (value_dtype != "fp32") j["value_dtype"] = value_dtype;
  if (index_dtype != "int32") j["index_dtype"] = index_dtype;
  if (preset != "none") j["preset"] = preset;
  for (const auto& o : e.own_options) j[o.name] = o.load(*this);
  return j;
}

}  // namespace arcsim::kernels
