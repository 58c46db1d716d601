#include "kernels/compressor_options.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "common/json_fields.hpp"
#include "kernels/compressor_registry.hpp"
#include "kernels/error_feedback.hpp"

namespace arcsim::kernels {

namespace {

using nlohmann::json;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Accessors of a typed member of CompressorConfig.
template <class T>
void bind_member(OptionSpec& o, T CompressorConfig::*m) {
  o.store = [m](CompressorConfig& c, const json& v) { c.*m = v.get<T>(); };
  o.load = [m](const CompressorConfig& c) { return json(c.*m); };
}
// Accessors of an entry of CompressorConfig::params (method-specific options).
void bind_param(OptionSpec& o) {
  const std::string name = o.name;
  o.store = [name](CompressorConfig& c, const json& v) { c.params[name] = v; };
  o.in_params = true;
  const json def = o.default_value;
  o.load = [name, def](const CompressorConfig& c) { return c.params.contains(name) ? c.params.at(name) : def; };
}

OptionSpec number(std::string name, double def, double min, double max, bool min_open, std::string help) {
  OptionSpec o;
  o.name = std::move(name);
  o.type = OptionType::kNumber;
  o.default_value = def;
  o.min = min;
  o.max = max;
  o.min_open = min_open;
  o.help = std::move(help);
  return o;
}
OptionSpec integer(std::string name, std::int64_t def, double min, double max, std::string help) {
  OptionSpec o = number(std::move(name), 0, min, max, false, std::move(help));
  o.type = OptionType::kInteger;
  o.default_value = def;
  return o;
}
OptionSpec boolean(std::string name, bool def, std::string help) {
  OptionSpec o;
  o.name = std::move(name);
  o.type = OptionType::kBool;
  o.default_value = def;
  o.help = std::move(help);
  return o;
}
OptionSpec choice(std::string name, std::string def, std::vector<Choice> choices, std::string help) {
  OptionSpec o;
  o.name = std::move(name);
  o.type = OptionType::kChoice;
  o.default_value = std::move(def);
  o.choices = std::move(choices);
  o.help = std::move(help);
  return o;
}

std::vector<OptionSpec> make_table() {
  std::vector<OptionSpec> t;
  auto add = [&t](OptionSpec o, auto member) {
    bind_member(o, member);
    t.push_back(std::move(o));
  };
  // Shared by the compressing methods.
  add(number("ratio", 0.2, 0, 1, true, "fraction kept: of elements, or of rows for arctopk"), &CompressorConfig::ratio);
  {
    std::vector<Choice> variants;
    for (const auto& e : kErrorFeedbacks) variants.push_back({std::string(e.name), std::string(e.description)});
    add(choice("ef", "none", std::move(variants), "error feedback"), &CompressorConfig::ef);
  }
  add(choice("ef21_init", "dense",
             {{"dense", "the first compressed call all-reduces g densely and sets e = g"},
              {"zero", "e starts at 0 and the first call is compressed (the authors' hooks' synthetic script)"}},
             "EF21/EF21M: how the error state starts"),
      &CompressorConfig::ef21_init);
  add(choice("momentum", "ema",
             {{"ema", "v = (1 - eta) v + eta g (EF21-SGDM's form, parameter eta)"},
              {"heavy-ball", "v = beta v + g (the authors' synthetic script; ema with eta = 1 - beta, scaled by 1/eta)"}},
             "EF21M: the momentum's form"),
      &CompressorConfig::momentum);
  add(number("eta", 0.9, 0, 1, true, "EF21M ema: weight of the new gradient, in (0, 1]"), &CompressorConfig::eta);
  {
    OptionSpec b = number("beta", 0.5, 0, 1, false, "EF21M heavy-ball: weight of the old momentum, in [0, 1)");
    b.max = std::nextafter(1.0, 0.0);
    add(std::move(b), &CompressorConfig::beta);
  }
  for (auto& o : t) {
    if (o.name == "eta" || o.name == "beta" || o.name == "momentum") o.only_with_ef = {"ef21m"};
    if (o.name == "ef21_init")
      for (const auto& e : kErrorFeedbacks)
        if (is_ef21_family(e.value)) o.only_with_ef.emplace_back(e.name);
  }
  add(integer("warmup", 0, 0, 1e9, "dense steps per bucket before compressing"), &CompressorConfig::warmup);
  add(choice("preset", "none",
             {{"none", "every option at its default"},
              {"reference", "the ARC-Top-K authors' hooks: shape_rule reference, warmup 10, Top-K/Rand-K ramp, "
                            "ef21_init zero, heavy-ball momentum beta 0.5"}},
             "a set of option values; explicit options override it"),
      &CompressorConfig::preset);
  add(choice("value_dtype", "fp32",
             {{"fp32", "4 bytes"}, {"fp16", "2 bytes, IEEE half, round to nearest even"},
              {"bf16", "2 bytes, bfloat16, round to nearest even"}},
             "type of the values sent"),
      &CompressorConfig::value_dtype);
  add(choice("index_dtype", "int32", {{"int32", "4 bytes"}, {"int64", "8 bytes"}}, "type of the indices sent"),
      &CompressorConfig::index_dtype);
  // Top-K / Rand-K.
  add(boolean("ramp", false, "ratio ramp 0.8 -> ratio over warmup + 100 steps after the warm-up"),
      &CompressorConfig::ramp);
  {
    OptionSpec r = boolean("rescale", false, "Rand-K: scale the values by d/k (unbiased)");
    r.aliases = {"unbiased"};
    add(std::move(r), &CompressorConfig::unbiased);
  }
  // ARC-Top-K (rank also PowerSGD's).
  add(integer("rank", 4, 1, 1024, "sketch rank r (ARC-Top-K), approximation rank (PowerSGD)"), &CompressorConfig::rank);
  add(choice("row_scores", "sketch",
             {{"sketch", "rows scored by the all-reduced sketch"}, {"exact", "rows scored by the exact mean (ablation)"}},
             "ARC-Top-K row scores"),
      &CompressorConfig::row_scores);
  add(choice("shape_rule", "rows",
             {{"rows", "a tensor [d0, ...] is d0 rows of prod(rest)"},
              {"reference", "the authors' rule: >2-D tensors become rows of 2 t^2 (t = last dim)"}},
             "how tensors become matrices"),
      &CompressorConfig::shape_rule);
  add(choice("sketch_allreduce", "tensor",
             {{"tensor", "one sketch all-reduce per tensor (the authors' hook)"},
              {"bucket", "one sketch all-reduce per bucket"}},
             "ARC-Top-K sketch collectives"),
      &CompressorConfig::sketch_allreduce);
  for (auto& o : t)
    if (o.name == "index_dtype" || o.name == "sketch_allreduce" || o.name == "preset") o.changes_training = false;
  for (const auto& e : compressor_registry())
    for (const auto& o : e.own_options)
      if (std::none_of(t.begin(), t.end(), [&](const OptionSpec& x) { return x.name == o.name; })) t.push_back(o);
  return t;
}

bool number_fits(const OptionSpec& o, double x) {
  if (!std::isfinite(x)) return false;
  if (o.min_open ? !(x > o.min) : !(x >= o.min)) return false;
  return x <= o.max;
}

}  // namespace

OptionSpec number_option(std::string name, double def, double min, double max, bool min_open, std::string help) {
  OptionSpec o = number(std::move(name), def, min, max, min_open, std::move(help));
  bind_param(o);
  return o;
}
OptionSpec integer_option(std::string name, std::int64_t def, double min, double max, std::string help) {
  OptionSpec o = integer(std::move(name), def, min, max, std::move(help));
  bind_param(o);
  return o;
}
OptionSpec bool_option(std::string name, bool def, std::string help) {
  OptionSpec o = boolean(std::move(name), def, std::move(help));
  bind_param(o);
  return o;
}
OptionSpec choice_option(std::string name, std::string def, std::vector<Choice> choices, std::string help) {
  OptionSpec o = choice(std::move(name), std::move(def), std::move(choices), std::move(help));
  bind_param(o);
  return o;
}

std::string OptionSpec::expected() const {
  std::ostringstream s;
  auto num = [](double x) {
    std::ostringstream t;
    t << x;
    return t.str();
  };
  switch (type) {
    case OptionType::kNumber:
      s << "a number in " << (min_open ? "(" : "[") << num(min) << ", " << (max < 1 && max > 0.999 ? "1)" : num(max) + "]");
      break;
    case OptionType::kInteger:
      s << "an integer in [" << num(min) << ", " << num(max) << "]";
      break;
    case OptionType::kBool:
      s << "true or false";
      break;
    case OptionType::kChoice: {
      s << "one of ";
      for (std::size_t i = 0; i < choices.size(); ++i) s << (i ? "|" : "") << choices[i].name;
      break;
    }
  }
  return s.str();
}

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

const OptionSpec* find_option(const std::string& name) {
  for (const auto& o : option_table()) {
    if (o.name == name) return &o;
    if (std::find(o.aliases.begin(), o.aliases.end(), name) != o.aliases.end()) return &o;
  }
  return nullptr;
}

// The option `name` as compressor c.compressor declares it (its own options first: two methods
// may share an option name with different defaults or ranges), else the shared table's.
static const OptionSpec* option_for(const CompressorConfig& c, const std::string& name) {
  for (const auto& e : compressor_registry())
    if (e.name == c.compressor)
      for (const auto& o : e.own_options)
        if (o.name == name) return &o;
  return find_option(name);
}

void set_option(CompressorConfig& c, const std::string& name, const json& value) {
  const OptionSpec* o = option_for(c, name);
  if (!o) throw std::invalid_argument(name + ": unknown option (arcsim compress --help lists them)");
  auto bad = [&] { throw std::invalid_argument(name + ": expected " + o->expected() + ", got " + arcsim::json::brief(value)); };
  switch (o->type) {
    case OptionType::kNumber:
      if (!value.is_number() || !number_fits(*o, value.get<double>())) bad();
      o->store(c, json(value.get<double>()));
      break;
    case OptionType::kInteger: {
      if (!value.is_number_integer() && !(value.is_number_float() && std::floor(value.get<double>()) == value.get<double>()))
        bad();
      const double x = value.get<double>();
      if (!number_fits(*o, x)) bad();
      o->store(c, json(static_cast<std::int64_t>(x)));
      break;
    }
    case OptionType::kBool:
      if (!value.is_boolean()) bad();
      o->store(c, value);
      break;
    case OptionType::kChoice: {
      if (!value.is_string()) bad();
      const std::string v = value.get<std::string>();
      if (std::none_of(o->choices.begin(), o->choices.end(), [&](const Choice& ch) { return ch.name == v; })) bad();
      o->store(c, value);
      break;
    }
  }
}

json get_option(const CompressorConfig& c, const std::string& name) {
  const OptionSpec* o = option_for(c, name);
  if (!o) throw std::invalid_argument(name + ": unknown option");
  return o->load(c);
}

CompressorConfig build_config(const std::string& name, const json& given) {
  const CompressorEntry& e = compressor_entry(name);
  if (!given.is_object()) throw std::invalid_argument("options: expected an object of option -> value");
  std::string takes;  // for messages: every option the compressor takes
  for (const auto& x : e.options) takes += (takes.empty() ? "" : ", ") + x;
  for (const auto& x : e.own_options) takes += (takes.empty() ? "" : ", ") + x.name;
  if (takes.empty()) takes = "none";
  auto check_taken = [&](const std::string& key) {
    const OptionSpec* o = find_option(key);
    if (!o) throw std::invalid_argument(key + ": unknown option (" + name + " takes: " + takes + ")");
    if (!e.takes(o->name)) throw std::invalid_argument(key + ": does not apply to " + name + " (it takes: " + takes + ")");
  };
  CompressorConfig c;
  c.compressor = name;
  // The preset first, so explicit options override it.
  json preset = json::object();
  if (given.contains("preset")) {
    check_taken("preset");
    set_option(c, "preset", given.at("preset"));
    preset = preset_options(name, c.preset);
    for (auto it = preset.begin(); it != preset.end(); ++it) set_option(c, it.key(), it.value());
  }
  // Options neither given nor preset take the table's defaults (ratio 0.2 for a compressing method).
  for (const auto& o : option_table())
    if (e.takes(o.name) && !o.in_params && o.name != "preset" && !given.contains(o.name) && !preset.contains(o.name))
      set_option(c, o.name, o.default_value);
  for (auto it = given.begin(); it != given.end(); ++it) {
    if (it.key() == "preset") continue;
    check_taken(it.key());
    set_option(c, it.key(), it.value());
  }
  for (auto it = given.begin(); it != given.end(); ++it) {
    const OptionSpec* o = find_option(it.key());
    if (o->only_with_ef.empty() ||
        std::find(o->only_with_ef.begin(), o->only_with_ef.end(), c.ef) != o->only_with_ef.end())
      continue;
    std::string modes;
    for (const auto& m : o->only_with_ef) modes += (modes.empty() ? "" : " or ") + m;
    throw std::invalid_argument(it.key() + ": does not apply to " + name + " without ef " + modes);
  }
  c.validate();
  return c;
}

}  // namespace arcsim::kernels
