#include "sweep_shards.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <stdexcept>

#include "arcsim/version.hpp"
#include "common/atomic_file.hpp"
#include "common/json_fields.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;
using nlohmann::json;

ShardId parse_shard(const std::string& text) {
  static const std::regex re("([0-9]{1,6})/([0-9]{1,6})");
  std::smatch m;
  ShardId id;
  if (std::regex_match(text, m, re)) {
    id.index = std::stoi(m[1]);
    id.count = std::stoi(m[2]);
    if (id.index >= 1 && id.index <= id.count) return id;
  }
  throw ConfigError("options: --shard: expected I/N with 1 <= I <= N (e.g. 3/8), got \"" + text + "\"");
}

std::string shard_name(const ShardId& id) { return std::to_string(id.index) + "-of-" + std::to_string(id.count); }

std::string shard_dir(const std::string& out_dir, const ShardId& id) { return out_dir + "/shards/" + shard_name(id); }

json to_json(const ShardId& id) { return {{"index", id.index}, {"count", id.count}}; }

double unit_cost(const std::vector<PointWork>& unit, const PlanSet& plans) {
  std::set<std::size_t> distinct;  // plans simulated once per network point
  for (const auto& w : unit)
    for (const auto& ids : plans.configs[w.point.compressor].shape_plans) distinct.insert(ids.begin(), ids.end());
  double cost = 0;
  for (auto id : distinct) cost += static_cast<double>(unit.front().point.net.nodes) * (1.0 + plans.plans[id].ops);
  return cost;
}

std::vector<int> partition_points(const std::vector<PointWork>& points, const PlanSet& plans, int count) {
  if (count < 1) throw std::invalid_argument("partition_points: count must be >= 1");
  std::map<std::string, std::size_t> unit_of;  // network key -> unit index
  std::vector<std::vector<std::size_t>> units;
  for (std::size_t i = 0; i < points.size(); ++i) {
    auto [it, fresh] = unit_of.emplace(points[i].net_key, units.size());
    if (fresh) units.emplace_back();
    units[it->second].push_back(i);
  }
  struct Unit {
    double cost;
    std::string first_key;
    std::size_t index;
  };
  std::vector<Unit> order;
  for (std::size_t u = 0; u < units.size(); ++u) {
    std::vector<PointWork> members;
    std::string first_key;
    for (auto i : units[u]) {
      members.push_back(points[i]);
      if (first_key.empty() || points[i].key < first_key) first_key = points[i].key;
    }
    order.push_back({unit_cost(members, plans), first_key, u});
  }
  std::sort(order.begin(), order.end(), [](const Unit& a, const Unit& b) {
    return a.cost != b.cost ? a.cost > b.cost : a.first_key < b.first_key;
  });
  std::vector<double> load(static_cast<std::size_t>(count), 0.0);
  std::vector<int> shard(points.size(), 0);
  for (const Unit& u : order) {
    const std::size_t s = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[s] += u.cost;
    for (auto i : units[u.index]) shard[i] = static_cast<int>(s) + 1;
  }
  return shard;
}

std::vector<PointWork> shard_points(std::vector<PointWork> points, const PlanSet& plans, const ShardId& id) {
  const std::vector<int> part = partition_points(points, plans, id.count);
  std::vector<PointWork> mine;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (part[i] == id.index) mine.push_back(std::move(points[i]));
  return mine;
}

namespace {

std::string brief(const json& v) {
  std::string s = v.is_null() ? "absent" : v.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// The first top-level field where two documents differ, with both values: "`nodes` (shard: [8],
// this merge: [8,16])"; empty when equal.
std::string first_difference(const json& shard, const json& mine) {
  if (shard == mine) return "";
  if (!shard.is_object() || !mine.is_object()) return "(shard: " + brief(shard) + ", this merge: " + brief(mine) + ")";
  std::set<std::string> keys;
  for (const auto& [k, v] : shard.items()) keys.insert(k);
  for (const auto& [k, v] : mine.items()) keys.insert(k);
  for (const auto& k : keys) {
    const json a = shard.contains(k) ? shard[k] : json(nullptr), b = mine.contains(k) ? mine[k] : json(nullptr);
    if (a != b) return "`" + k + "` (shard: " + brief(a) + ", this merge: " + brief(b) + ")";
  }
  return "";
}

// The shard counts found under out_dir/shards (directories named I-of-N).
std::set<int> shard_counts(const std::string& shards) {
  static const std::regex re("([0-9]{1,6})-of-([0-9]{1,6})");
  std::set<int> counts;
  if (!fs::is_directory(shards)) return counts;
  for (const auto& e : fs::directory_iterator(shards)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (e.is_directory() && std::regex_match(name, m, re)) counts.insert(std::stoi(m[2]));
  }
  return counts;
}

// Why one shard cannot be merged (empty: it can); its rows go into `rows`.
std::string check_shard(const ExperimentSpec& spec, const std::string& out_dir, const ShardId& id,
                        const std::set<std::string>& expected, const json& config, const json& provenance,
                        std::map<std::string, ResultRow>& rows) {
  const std::string dir = shard_dir(out_dir, id), path = dir + "/results.json";
  const std::string rerun = "arcsim sweep " + spec.file + " --out " + out_dir + " --shard " +
                            std::to_string(id.index) + "/" + std::to_string(id.count);
  if (!fs::exists(path)) return "missing (no " + path + "; run " + rerun + ")";
  json doc;
  std::vector<ResultRow> found;
  try {
    doc = json::parse(io::read_file(path));
    if (doc.value("format", "") != "arcsim-results/1") throw std::runtime_error("format: expected \"arcsim-results/1\"");
    for (const auto& p : doc.at("points")) found.push_back(row_from_json(p));
  } catch (const std::exception& e) {
    return "unreadable " + path + " (" + e.what() + ")";
  }
  json prov = doc.value("provenance", json::object());
  const json commit = prov.value("git_commit", json(nullptr));
  if (commit != provenance.at("git_commit"))
    return "made by arcsim commit " + brief(commit) + ", this merge is commit " + brief(provenance.at("git_commit")) +
           " (re-run it with this build: " + rerun + ")";
  if (prov.value("trace_checksum", json(nullptr)) != provenance.at("trace_checksum"))
    return "made from another trace: trace_checksum " + brief(prov.value("trace_checksum", json(nullptr))) +
           ", this spec's trace has " + brief(provenance.at("trace_checksum"));
  if (const std::string d = first_difference(doc.value("experiment", json(nullptr)), config); !d.empty())
    return "made from another spec: " + d;
  const json shard_field = prov.value("shard", json(nullptr));
  prov.erase("shard");
  if (const std::string d = first_difference(prov, provenance); !d.empty()) return "made with other provenance: " + d;
  if (shard_field != to_json(id)) return "its files say they are shard " + brief(shard_field);
  std::size_t mine = 0, stray = 0;
  for (auto& r : found) {
    if (expected.count(r.key)) {
      ++mine;
      rows.emplace(r.key, std::move(r));
    } else {
      ++stray;
    }
  }
  if (stray) return "holds " + std::to_string(stray) + " point(s) outside its part of the partition";
  if (mine < expected.size())
    return "incomplete: " + std::to_string(mine) + " of " + std::to_string(expected.size()) +
           " points finished (finish it: " + rerun + ")";
  return "";
}

}  // namespace

ShardRows read_shards(const ExperimentSpec& spec, const std::string& out_dir, const std::vector<PointWork>& points,
                      const PlanSet& plans, const json& config, const json& provenance) {
  const std::string shards = out_dir + "/shards";
  const std::set<int> counts = shard_counts(shards);
  if (counts.empty())
    throw ConfigError(shards + ": no shards to merge (run arcsim sweep " + spec.file + " --out " + out_dir +
                      " --shard I/N for I = 1..N first)");
  if (counts.size() > 1) {
    std::string list;
    for (int c : counts) list += (list.empty() ? "" : ", ") + std::to_string(c);
    throw ConfigError(shards + ": holds shards of different partitions (N = " + list +
                      "); remove the directories of the stale one");
  }
  ShardRows out;
  out.count = *counts.begin();
  const std::vector<int> part = partition_points(points, plans, out.count);
  std::string problems;
  int bad = 0;
  for (int i = 1; i <= out.count; ++i) {
    std::set<std::string> expected;
    for (std::size_t p = 0; p < points.size(); ++p)
      if (part[p] == i) expected.insert(points[p].key);
    const ShardId id{i, out.count};
    const std::string why = check_shard(spec, out_dir, id, expected, config, provenance, out.rows);
    if (why.empty()) continue;
    ++bad;
    problems += (problems.empty() ? "" : "; ") + std::string("shard ") + std::to_string(i) + "/" +
                std::to_string(out.count) + " " + why;
  }
  if (bad)
    throw ConfigError(shards + ": cannot merge, " + std::to_string(bad) + " of " + std::to_string(out.count) +
                      " shard(s) unusable: " + problems);
  return out;
}

}  // namespace arcsim::experiments
