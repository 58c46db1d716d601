#include "results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <tuple>

#include "common/format.hpp"
#include "common/atomic_file.hpp"
#include "experiments/stats.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"

namespace arcsim::experiments {

using nlohmann::json;

namespace {

// Options with a column of their own elsewhere in the table (ratio, rank, ef, warm-up, ramp).
bool has_fixed_column(const std::string& option) {
  return option == "ratio" || option == "rank" || option == "ef" || option == "warmup" || option == "ramp";
}

// One column per compressor option of the kernels' option table, after the fixed option columns:
// a new option in the table is a new column, filled for every compressor that takes it.
std::vector<Column> option_columns() {
  static const std::vector<std::string> meanings = [] {
    std::vector<std::string> m;
    for (const auto& o : kernels::option_table())
      if (!has_fixed_column(o.name)) m.push_back("compressor option (arcsim compressors; empty where the compressor does not take it): " + o.help);
    return m;
  }();
  std::vector<Column> out;
  std::size_t i = 0;
  for (const auto& o : kernels::option_table())
    if (!has_fixed_column(o.name)) out.push_back({o.name.c_str(), "-", meanings[i++].c_str()});
  return out;
}

}  // namespace

const std::vector<Column>& result_columns() {
  static const std::vector<Column> columns = [] {
  std::vector<Column> cols = {
      {"point", "-", "row number in the sweep's product order (topology, profile, latency, bandwidth, nodes, compressor)"},
      {"compressor", "-", "compressor name: a registry name (arcsim compressors)"},
      {"label", "-", "the configuration's label, unique in the experiment (colour and legend key)"},
      {"ratio", "fraction", "fraction kept in the steady state (of elements; ARC-Top-K: of rows; dense: 1; empty for a method whose k is a rank, PowerSGD)"},
      {"rank", "-", "rank: ARC-Top-K's sketch rank r, PowerSGD's approximation rank (empty for compressors without one)"},
      {"ef", "-", "error feedback: none, ef14, ef21, ef21m (empty for dense)"},
      {"implementation", "-", "what is costed: fused (arcsim's kernels, one launch per bucket per kernel) or hook (a PyTorch comm hook's per-tensor ops and collectives, recorded by running it: arcsim record --hook)"},
      {"warmup_steps", "steps", "dense steps before compression starts"},
      {"ramp_steps", "steps", "steps of the Top-K/Rand-K ratio ramp (0: none)"},
      {"nodes", "nodes", "simulated nodes (servers)"},
      {"ranks", "ranks", "data-parallel ranks: nodes x GPUs per node (the world size the convergence logs are matched on)"},
      {"bandwidth_gbps", "Gbit/s", "bandwidth of each NIC (a node with several NICs has this per NIC)"},
      {"latency_us", "us", "end-to-end latency of one message between two nearest nodes"},
      {"topology", "-", "topology preset or spec name"},
      {"transport", "-", "how the GPUs of one node reach each other (topology node.transport): nvlink, pcie-p2p, shm, socket; none where every node holds one GPU"},
      {"profile", "-", "network-model profile: ideal, nccl, tcp"},
      {"algorithm", "-", "collective algorithm asked of the simulator (auto: by size, as NCCL)"},
      {"algorithms_used", "-", "algorithm/protocol pairs that ran in the steady-state iteration and how many collective calls each, e.g. ring/Simple:100;tree/LL128:1"},
      {"collectives", "-", "plan (each compressor's own blocking flags), blocking or async"},
      {"kernel_timing", "-", "where compression-kernel durations come from: measured-cpu, calibration:FILE, model:GPU"},
      {"compute_source", "-", "where per-layer compute times come from: trace (as recorded, with its device) or model:GPU (re-timed from per-layer costs)"},
      {"status", "-", "ok, or failed (see error)"},
      {"iteration_s", "s", "steady-state iteration time: forward start to optimizer step end"},
      {"compute_s", "s", "forward + backward + optimizer time of that iteration"},
      {"compression_s", "s", "compression kernels on the GPU stream, per node"},
      {"exposed_comm_s", "s", "communication not hidden behind compute: iteration_s - compute_s - compression_s"},
      {"comm_s", "s", "busy time of one node's communication stream (all collectives, hidden or not)"},
      {"bytes_per_node", "bytes", "bytes one node sends per steady-state iteration, as simulated (the collectives' payload with the algorithms that ran)"},
      {"bits_per_step_authors", "bits", "global bits of one steady-state iteration in the ARC-Top-K authors' convention: all ranks together, 2(N-1) x bits per all-reduce, N(N-1) x bits per all-gather (N: ranks; section 4)"},
      {"relative_error", "-", "norm(aggregate - mean)^2 / norm(mean)^2 on the replayed gradient samples (steady shape)"},
      {"retained_energy", "fraction", "energy of the mean gradient kept by the aggregate (steady shape)"},
      {"steps_to_target", "steps", "log-normal centre over seeds (geometric mean when every seed reached) of the steps at which the target is crossed, interpolated between the two evaluations around it; seeds that missed are censored at their budget"},
      {"steps_to_target_sd", "steps", "sample standard deviation of the crossing over the seeds that reached the target (empty with fewer than two)"},
      {"seeds", "-", "seeds (recorded runs) at the point, whether they reached the target or not"},
      {"seeds_reached", "-", "of those, the seeds that reached the target"},
      {"convergence_nodes", "ranks", "ranks of the convergence logs whose curves are used (the nearest recorded when not equal to ranks; see convergence_estimate)"},
      {"convergence_config", "-", "id of the convergence log used (the trace's config id)"},
      {"convergence_estimate", "-", "recorded (logs at these ranks), interpolated (log-log between two recorded rank counts) or extrapolated (outside them: the nearest held constant)"},
      {"tta_status", "-", "ok: every seed reached the target; partial: some missed (censored, see tta_note); none: no seed reached it (tta_s empty); extrapolated: every seed reached it but the steps come from outside the recorded ranks; empty: no convergence data (see tta_note)"},
      {"tta_s", "s", "predicted time to accuracy: log-normal centre over seeds of the simulated time of steps 1..crossing, misses censored at their budget (docs/experiments.md section 3)"},
      {"tta_s_lo", "s", "lower end of the 95 % interval of tta_s (exp of a Student-t or censored-likelihood interval on log TTA; empty with one seed)"},
      {"tta_s_hi", "s", "upper end of that interval"},
      {"warmup_ramp_s", "s", "the part of tta_s spent in dense warm-up and ratio-ramp steps"},
      {"warmup_ramp_share", "fraction", "warmup_ramp_s / tta_s"},
      {"bytes_per_node_to_target", "bytes", "mean over seeds of the bytes one node sends in steps 1..steps_to_target, as simulated (warm-up, ramp and steady steps each at their shape's bytes, as tta_s)"},
      {"bits_to_target_authors", "bits", "mean over seeds of the global bits of steps 1..steps_to_target in the authors' convention (their cumulative counter, EF21's dense start counted as their hooks count it)"},
      {"tta_note", "-", "why tta_s is empty, or how it was approximated (interpolated or extrapolated across N, seeds that missed the target)"},
      {"speedup_vs_dense", "x", "TTA speedup over dense on the same network point, over paired seeds: exp of the mean log(tta_dense / tta) of each seed (misses censored); empty with too few paired seeds that reached (speedup_note)"},
      {"speedup_vs_dense_lo", "x", "lower end of its 95 % interval (exp of a Student-t or censored-likelihood interval on the paired log ratios)"},
      {"speedup_vs_dense_hi", "x", "upper end of that interval"},
      {"speedup_vs_topk", "x", "the same over the spec's first topk configuration"},
      {"speedup_vs_topk_lo", "x", "lower end of its 95 % interval"},
      {"speedup_vs_topk_hi", "x", "upper end of that interval"},
      {"speedup_note", "-", "the seeds the TTA speedups rest on, or why one is empty"},
      {"iteration_speedup_vs_dense", "x", "iteration_s of dense / iteration_s, same network point"},
      {"iteration_speedup_vs_topk", "x", "iteration_s of topk / iteration_s, same network point"},
      {"error", "-", "why the point failed (empty when ok)"},
  };
  const auto after = std::find_if(cols.begin(), cols.end(), [](const Column& c) { return std::string(c.name) == "ramp_steps"; });
  const std::vector<Column> opts = option_columns();
  cols.insert(after + 1, opts.begin(), opts.end());
  return cols;
  }();
  return columns;
}

json to_json(const IterationTimes& t) {
  return {{"total_s", t.total_s},         {"compute_s", t.compute_s}, {"compression_s", t.compression_s},
          {"exposed_comm_s", t.exposed_comm_s}, {"comm_s", t.comm_s},       {"bytes_per_node", t.bytes_per_node},
          {"algorithms_used", t.algorithms_used}, {"ranks", t.ranks}};
}

IterationTimes iteration_times_from_json(const json& j) {
  IterationTimes t;
  t.total_s = j.at("total_s").get<double>();
  t.compute_s = j.at("compute_s").get<double>();
  t.compression_s = j.at("compression_s").get<double>();
  t.exposed_comm_s = j.at("exposed_comm_s").get<double>();
  t.comm_s = j.at("comm_s").get<double>();
  t.bytes_per_node = j.at("bytes_per_node").get<double>();
  t.algorithms_used = j.value("algorithms_used", "");
  t.ranks = j.value("ranks", 0);
  return t;
}

namespace {

// Unit conversions print as the user wrote them (5e-6 s -> "5", not "4.999999999999999").
double tidy(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  return std::strtod(buf, nullptr);
}

json nan_null(double x) { return std::isnan(x) ? json(nullptr) : json(x); }
double null_nan(const json& v) { return v.is_null() ? std::nan("") : v.get<double>(); }

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number()) return io::format_number(v.get<double>());
  return v.dump();
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

json ok_used(const ResultRow& r) {
  return r.status == "ok" && !r.steady.algorithms_used.empty() ? json(r.steady.algorithms_used) : json(nullptr);
}

// The CSV cells of a row, keyed by column name (row_to_json holds every column).
json columns_of(const ResultRow& r) {
  const json& c = r.compressor;
  const bool dense = c.value("name", "") == "dense";
  json j;
  j["point"] = r.point;
  j["compressor"] = c.value("name", "");
  j["label"] = c.value("label", "");
  const kernels::CompressorConfig* full = nullptr;
  kernels::CompressorConfig built;
  try {  // every option's value, defaults included, from the row's configuration
    json given = json::object();
    for (auto it = c.begin(); it != c.end(); ++it)
      if (kernels::find_option(it.key()) && it.key() != "ramp_steps") given[it.key()] = it.value();
    built = kernels::build_config(c.value("name", ""), given);
    full = &built;
  } catch (const std::exception&) {  // an unknown compressor (an older results file): options stay empty
  }
  auto option = [&](const std::string& name) -> json {
    if (!full || !kernels::compressor_entry(full->compressor).takes(name)) return nullptr;
    return kernels::get_option(*full, name);
  };
  // A method whose k counts a rank (PowerSGD) has no ratio to show, whatever its config holds.
  const bool k_is_rank = full && kernels::compressor_entry(full->compressor).k_unit == "rank";
  j["ratio"] = dense ? json(1) : k_is_rank ? json(nullptr) : c.value("ratio", json(nullptr));
  j["rank"] = option("rank");
  for (const auto& o : kernels::option_table())
    if (!has_fixed_column(o.name)) j[o.name] = option(o.name);
  j["ef"] = dense ? json(nullptr) : c.value("ef", json(nullptr));
  j["implementation"] = c.value("implementation", "fused");
  j["warmup_steps"] = dense ? json(0) : c.value("warmup", json(0));
  j["ramp_steps"] = c.value("ramp", false) ? c.value("ramp_steps", json(0)) : json(0);
  j["nodes"] = r.nodes;
  j["ranks"] = row_ranks(r);
  j["bandwidth_gbps"] = tidy(r.bandwidth_Bps * 8 / 1e9);
  j["latency_us"] = tidy(r.latency_s * 1e6);
  j["topology"] = r.topology;
  j["transport"] = r.transport;
  j["profile"] = r.profile;
  j["algorithm"] = r.algorithm;
  j["algorithms_used"] = ok_used(r);
  j["collectives"] = r.collectives;
  j["kernel_timing"] = r.kernel_timing;
  j["compute_source"] = r.compute_source;
  j["status"] = r.status;
  const bool ok = r.status == "ok";
  j["iteration_s"] = ok ? json(r.steady.total_s) : json(nullptr);
  j["compute_s"] = ok ? json(r.steady.compute_s) : json(nullptr);
  j["compression_s"] = ok ? json(r.steady.compression_s) : json(nullptr);
  j["exposed_comm_s"] = ok ? json(r.steady.exposed_comm_s) : json(nullptr);
  j["comm_s"] = ok ? json(r.steady.comm_s) : json(nullptr);
  j["bytes_per_node"] = ok ? json(r.steady.bytes_per_node) : json(nullptr);
  j["bits_per_step_authors"] = ok ? opt(r.bits_per_step_authors) : json(nullptr);
  j["relative_error"] = opt(r.relative_error);
  j["retained_energy"] = opt(r.retained_energy);
  j["steps_to_target"] = opt(r.steps_to_target);
  j["steps_to_target_sd"] = opt(r.steps_to_target_sd);
  j["seeds"] = r.seeds > 0 ? json(r.seeds) : json(nullptr);
  j["seeds_reached"] = r.seeds > 0 ? json(r.seeds_reached) : json(nullptr);
  j["convergence_nodes"] = opt(r.convergence_nodes);
  j["convergence_config"] = r.convergence_config.empty() ? json(nullptr) : json(r.convergence_config);
  j["convergence_estimate"] = r.convergence_estimate.empty() ? json(nullptr) : json(r.convergence_estimate);
  j["tta_status"] = r.tta_status.empty() ? json(nullptr) : json(r.tta_status);
  j["tta_s"] = opt(r.tta_s);
  j["tta_s_lo"] = opt(r.tta_s_lo);
  j["tta_s_hi"] = opt(r.tta_s_hi);
  j["warmup_ramp_s"] = opt(r.warmup_ramp_s);
  j["warmup_ramp_share"] = r.warmup_ramp_s && r.tta_s && *r.tta_s > 0 ? json(*r.warmup_ramp_s / *r.tta_s) : json(nullptr);
  j["bytes_per_node_to_target"] = opt(r.bytes_per_node_to_target);
  j["bits_to_target_authors"] = opt(r.bits_to_target_authors);
  j["tta_note"] = r.tta_note.empty() ? json(nullptr) : json(r.tta_note);
  j["speedup_vs_dense"] = opt(r.speedup_vs_dense);
  j["speedup_vs_dense_lo"] = opt(r.speedup_vs_dense_lo);
  j["speedup_vs_dense_hi"] = opt(r.speedup_vs_dense_hi);
  j["speedup_vs_topk"] = opt(r.speedup_vs_topk);
  j["speedup_vs_topk_lo"] = opt(r.speedup_vs_topk_lo);
  j["speedup_vs_topk_hi"] = opt(r.speedup_vs_topk_hi);
  j["speedup_note"] = r.speedup_note.empty() ? json(nullptr) : json(r.speedup_note);
  j["iteration_speedup_vs_dense"] = opt(r.iteration_speedup_vs_dense);
  j["iteration_speedup_vs_topk"] = opt(r.iteration_speedup_vs_topk);
  j["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  return j;
}

}  // namespace

int row_ranks(const ResultRow& r) {
  for (const auto& s : r.shapes)
    if (s.times.ranks > 0) return s.times.ranks;
  return r.nodes;
}

namespace {

// A TTA speedup base / mine over the seeds both rows hold, paired (stats.hpp paired_speedup).
struct TtaRatio {
  std::optional<double> value, lo, hi;
  std::string note;
};
TtaRatio tta_ratio(const ResultRow* base, const ResultRow& mine, const char* base_name) {
  TtaRatio out;
  if (!base || base->seed_tta.empty() || mine.seed_tta.empty()) return out;
  std::map<std::int64_t, const SeedTta*> theirs;
  for (const auto& s : base->seed_tta) theirs[s.seed] = &s;
  std::vector<TimeSample> a, b;
  for (const auto& s : mine.seed_tta)
    if (auto it = theirs.find(s.seed); it != theirs.end() && it->second->tta_s > 0 && s.tta_s > 0) {
      a.push_back({it->second->tta_s, it->second->reached});
      b.push_back({s.tta_s, s.reached});
    }
  const std::string vs = std::string("vs ") + base_name + ": ";
  if (a.empty()) {
    out.note = vs + "no seed in common with " + base_name + "'s logs";
    return out;
  }
  const int n = static_cast<int>(a.size());
  const auto p = paired_speedup(a, b, n == 1 ? 1 : 2);
  if (!p) {
    int both = 0;
    for (int i = 0; i < n; ++i) both += a[i].reached && b[i].reached ? 1 : 0;
    out.note = vs + "too few paired seeds reached the target on both sides (" + std::to_string(both) + " of " +
               std::to_string(n) + ")";
    return out;
  }
  out.value = p->value;
  if (p->ci95) {
    out.lo = p->ci95->lo;
    out.hi = p->ci95->hi;
  }
  out.note = vs + std::to_string(n) + " paired seeds";
  if (p->censored > 0) out.note += ", " + std::to_string(p->censored) + " censored (one side missed the target)";
  if (p->uninformative > 0) out.note += ", " + std::to_string(p->uninformative) + " where both missed (left out)";
  return out;
}

}  // namespace

void compute_speedups(std::vector<ResultRow>& rows) {
  using NetKey = std::tuple<int, double, double, std::string, std::string>;
  std::map<NetKey, std::size_t> dense, topk;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.status != "ok") continue;
    const NetKey k{r.nodes, r.bandwidth_Bps, r.latency_s, r.topology, r.profile};
    const std::string name = r.compressor.value("name", "");
    if (name == "dense" && !dense.count(k)) dense[k] = i;
    if (name == "topk" && !topk.count(k)) topk[k] = i;
  }
  // Only speedup columns change below, and none of them is read: the order of rows does not matter.
  const std::vector<ResultRow>& base = rows;
  auto ratio = [](const ResultRow* b, double mine) -> std::optional<double> {
    if (!b || !(mine > 0) || !(b->steady.total_s > 0)) return std::nullopt;
    return b->steady.total_s / mine;
  };
  for (auto& r : rows) {
    r.speedup_vs_dense = r.speedup_vs_topk = std::nullopt;
    r.speedup_vs_dense_lo = r.speedup_vs_dense_hi = r.speedup_vs_topk_lo = r.speedup_vs_topk_hi = std::nullopt;
    r.iteration_speedup_vs_dense = r.iteration_speedup_vs_topk = std::nullopt;
    r.speedup_note.clear();
    if (r.status != "ok") continue;
    const NetKey k{r.nodes, r.bandwidth_Bps, r.latency_s, r.topology, r.profile};
    const ResultRow* d = dense.count(k) ? &base[dense[k]] : nullptr;
    const ResultRow* t = topk.count(k) ? &base[topk[k]] : nullptr;
    const TtaRatio vd = tta_ratio(d, r, "dense"), vt = tta_ratio(t, r, "topk");
    r.speedup_vs_dense = vd.value;
    r.speedup_vs_dense_lo = vd.lo;
    r.speedup_vs_dense_hi = vd.hi;
    r.speedup_vs_topk = vt.value;
    r.speedup_vs_topk_lo = vt.lo;
    r.speedup_vs_topk_hi = vt.hi;
    for (const std::string* n : {&vd.note, &vt.note})
      if (!n->empty()) r.speedup_note += (r.speedup_note.empty() ? "" : "; ") + *n;
    r.iteration_speedup_vs_dense = ratio(d, r.steady.total_s);
    r.iteration_speedup_vs_topk = ratio(t, r.steady.total_s);
  }
}

std::string results_csv(const std::vector<ResultRow>& rows) {
  std::string out;
  for (const auto& c : result_columns()) out += (out.empty() ? "" : ",") + std::string(c.name);
  out += "\n";
  std::vector<const ResultRow*> done;
  for (const auto& r : rows)
    if (r.status != "pending") done.push_back(&r);
  std::sort(done.begin(), done.end(), [](auto* a, auto* b) { return a->point < b->point; });
  for (const ResultRow* r : done) {
    const json cols = columns_of(*r);
    std::string line;
    bool first = true;
    for (const auto& c : result_columns()) {
      line += (first ? "" : ",") + csv_escape(cell(cols.at(c.name)));
      first = false;
    }
    out += line + "\n";
  }
  return out;
}

json row_to_json(const ResultRow& r) {
  json j = columns_of(r);
  j["key"] = r.key;
  j["compressor_config"] = r.compressor;
  j["bandwidth_Bps"] = r.bandwidth_Bps;
  j["latency_s"] = r.latency_s;
  j["shapes"] = json::array();
  for (const auto& s : r.shapes)
    j["shapes"].push_back({{"id", s.id},
                           {"kind", s.kind},
                           {"ratio", s.ratio},
                           {"first_step", s.first_step},
                           {"last_step", s.last_step},
                           {"iteration", to_json(s.times)},
                           {"bits_per_step_authors", s.bits_authors}});
  j["ef21_init_authors"] = r.ef21_init_step > 0
                               ? json{{"step", r.ef21_init_step}, {"bits", r.ef21_init_bits_authors}}
                               : json(nullptr);
  j["curve"] = json::array();
  for (const auto& p : r.curve) j["curve"].push_back({p.step, p.wall_s, nan_null(p.accuracy), nan_null(p.loss)});
  j["convergence_estimate"] = r.convergence_estimate.empty() ? json(nullptr) : json(r.convergence_estimate);
  j["seed_tta"] = json::array();
  for (const auto& s : r.seed_tta)
    j["seed_tta"].push_back({{"seed", s.seed}, {"steps", s.steps}, {"tta_s", s.tta_s},
                             {"bits_authors", s.bits_authors}, {"bytes_per_node", s.bytes_per_node},
                             {"reached", s.reached}});
  j["seed_curves"] = json::array();
  for (const auto& c : r.seed_curves) {
    json pts = json::array();
    for (std::size_t i = 0; i < c.points.size(); ++i) {
      const auto& p = c.points[i];
      const double m = i < c.metric.size() ? c.metric[i] : std::nan("");
      pts.push_back({p.step, p.wall_s, nan_null(p.accuracy), nan_null(p.loss), nan_null(m)});
    }
    j["seed_curves"].push_back({{"seed", c.seed}, {"points", pts}});
  }
  return j;
}

ResultRow row_from_json(const json& j) {
  ResultRow r;
  r.point = j.at("point").get<std::size_t>();
  r.key = j.at("key").get<std::string>();
  r.compressor = j.at("compressor_config");
  r.nodes = j.at("nodes").get<int>();
  r.bandwidth_Bps = j.at("bandwidth_Bps").get<double>();
  r.latency_s = j.at("latency_s").get<double>();
  r.topology = j.at("topology").get<std::string>();
  r.transport = j.value("transport", "");
  r.profile = j.at("profile").get<std::string>();
  r.algorithm = j.at("algorithm").get<std::string>();
  r.collectives = j.at("collectives").get<std::string>();
  r.kernel_timing = j.at("kernel_timing").get<std::string>();
  r.compute_source = j.value("compute_source", "");
  r.status = j.at("status").get<std::string>();
  parse_status(r.status);  // a name of kRowStatuses, else the file cannot be resumed from
  if (!j.at("error").is_null()) r.error = j["error"].get<std::string>();
  for (const auto& s : j.at("shapes")) {
    ShapeResult sr;
    sr.id = s.at("id").get<std::string>();
    sr.kind = s.at("kind").get<std::string>();
    sr.ratio = s.at("ratio").get<double>();
    sr.first_step = s.at("first_step").get<std::int64_t>();
    sr.last_step = s.at("last_step").get<std::int64_t>();
    sr.times = iteration_times_from_json(s.at("iteration"));
    sr.bits_authors = s.value("bits_per_step_authors", 0.0);  // recomputed from the plans on reuse
    r.shapes.push_back(sr);
    if (sr.id == "steady") r.steady = sr.times;
  }
  auto get_opt = [&](const char* k, auto& into) {
    if (!j.at(k).is_null()) into = j[k].get<typename std::decay_t<decltype(into)>::value_type>();
  };
  get_opt("relative_error", r.relative_error);
  get_opt("retained_energy", r.retained_energy);
  get_opt("steps_to_target", r.steps_to_target);
  get_opt("steps_to_target_sd", r.steps_to_target_sd);
  get_opt("tta_s_lo", r.tta_s_lo);
  get_opt("tta_s_hi", r.tta_s_hi);
  if (!j.at("seeds").is_null()) r.seeds = j["seeds"].get<int>();
  if (j.contains("seeds_reached") && !j["seeds_reached"].is_null()) r.seeds_reached = j["seeds_reached"].get<int>();
  if (j.contains("tta_status") && !j["tta_status"].is_null()) r.tta_status = j["tta_status"].get<std::string>();
  if (j.contains("warmup_ramp_s")) get_opt("warmup_ramp_s", r.warmup_ramp_s);
  if (j.contains("speedup_note") && !j["speedup_note"].is_null()) r.speedup_note = j["speedup_note"].get<std::string>();
  get_opt("convergence_nodes", r.convergence_nodes);
  get_opt("tta_s", r.tta_s);
  if (j.contains("bits_per_step_authors")) get_opt("bits_per_step_authors", r.bits_per_step_authors);
  if (j.contains("bits_to_target_authors")) get_opt("bits_to_target_authors", r.bits_to_target_authors);
  if (j.contains("bytes_per_node_to_target")) get_opt("bytes_per_node_to_target", r.bytes_per_node_to_target);
  if (!j.at("convergence_config").is_null()) r.convergence_config = j["convergence_config"].get<std::string>();
  if (!j.at("tta_note").is_null()) r.tta_note = j["tta_note"].get<std::string>();
  for (const auto& p : j.at("curve"))
    r.curve.push_back({p.at(0).get<std::int64_t>(), p.at(1).get<double>(), null_nan(p.at(2)), null_nan(p.at(3))});
  if (j.contains("ef21_init_authors") && j["ef21_init_authors"].is_object()) {
    r.ef21_init_step = j["ef21_init_authors"].at("step").get<std::int64_t>();
    r.ef21_init_bits_authors = j["ef21_init_authors"].at("bits").get<double>();
  }
  if (j.contains("convergence_estimate") && !j["convergence_estimate"].is_null())
    r.convergence_estimate = j["convergence_estimate"].get<std::string>();
  for (const auto& s : j.value("seed_tta", json::array()))
    r.seed_tta.push_back({s.at("seed").get<std::int64_t>(), s.at("steps").get<double>(), s.at("tta_s").get<double>(),
                          s.value("bits_authors", 0.0), s.value("bytes_per_node", 0.0), s.value("reached", true)});
  for (const auto& c : j.value("seed_curves", json::array())) {
    SeedCurve sc;
    sc.seed = c.at("seed").get<std::int64_t>();
    for (const auto& p : c.at("points")) {
      sc.points.push_back({p.at(0).get<std::int64_t>(), p.at(1).get<double>(), null_nan(p.at(2)), null_nan(p.at(3))});
      sc.metric.push_back(null_nan(p.at(4)));
    }
    r.seed_curves.push_back(std::move(sc));
  }
  return r;
}

std::string results_json(const json& config, const json& provenance, const std::vector<ResultRow>& rows) {
  json doc;
  doc["format"] = "arcsim-results/1";
  doc["experiment"] = config;
  doc["provenance"] = provenance;
  doc["columns"] = json::array();
  for (const auto& c : result_columns()) doc["columns"].push_back({{"name", c.name}, {"unit", c.unit}});
  std::size_t ok = 0, failed = 0, pending = 0;
  doc["points"] = json::array();
  std::vector<const ResultRow*> done;
  for (const auto& r : rows) {
    if (r.status == "ok") ++ok;
    else if (r.status == "failed") ++failed;
    else ++pending;
    if (r.status != "pending") done.push_back(&r);
  }
  std::sort(done.begin(), done.end(), [](auto* a, auto* b) { return a->point < b->point; });
  for (const ResultRow* r : done) doc["points"].push_back(row_to_json(*r));
  doc["summary"] = {{"points", rows.size()}, {"ok", ok}, {"failed", failed}, {"pending", pending}};
  return doc.dump(1) + "\n";
}

void write_results(const std::string& dir, const json& config, const json& provenance,
                   const std::vector<ResultRow>& rows) {
  std::filesystem::create_directories(dir);
  io::write_file_atomic(dir + "/results.csv", results_csv(rows));
  io::write_file_atomic(dir + "/results.json", results_json(config, provenance, rows));
}

std::vector<ResultRow> load_previous_rows(const std::string& dir) {
  const std::string path = dir + "/results.json";
  if (!std::filesystem::exists(path)) return {};
  std::vector<ResultRow> rows;
  try {
    const json doc = json::parse(io::read_file(path));
    if (doc.value("format", "") != "arcsim-results/1")
      throw std::runtime_error("format: expected \"arcsim-results/1\"");
    for (const auto& p : doc.at("points")) rows.push_back(row_from_json(p));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": cannot resume from it (" + std::string(e.what()) +
                             "); move it away or use another --out");
  }
  return rows;
}

}  // namespace arcsim::experiments
