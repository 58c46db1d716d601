#include "topologies/topology.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "common/json_fields.hpp"
#include "common/units.hpp"
#include "topologies/limits.hpp"

#ifndef ARCSIM_PRESET_DIR
#define ARCSIM_PRESET_DIR "topologies/presets"
#endif

namespace arcsim::topo {

namespace {
// The gloo section's efficiencies, in TopologySpec::gloo_efficiency's order.
constexpr const char* kGlooPatterns[3] = {"ring", "direct", "binomial"};
}  // namespace

using arcsim::json::ConfigError;
using arcsim::json::Fields;

namespace {

const std::vector<std::string> kTypes = {"star", "fattree", "torus", "dragonfly"};

int positive_int(Fields& f, const std::string& key, int fallback, int max = kMaxCount) {
  if (!f.has(key)) {
    f.optional(key);
    return fallback;
  }
  const auto v = f.integer(key);
  if (v < 1 || v > max) f.fail(key, "an integer in 1.." + std::to_string(max) + " (docs/limits.md)");
  return static_cast<int>(v);
}

bool small_positive(const nlohmann::json& v) {
  return v.is_number_integer() && !(v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(kMaxCount)) &&
         v.get<std::int64_t>() >= 1 && v.get<std::int64_t>() <= kMaxCount;
}

// [count, links] pair of a dragonfly level.
void df_pair(Fields& f, const std::string& key, int& count, int& links, bool required) {
  const auto* v = f.optional(key);
  if (!v) {
    if (required) f.fail(key, "[count, links] (required)");
    return;
  }
  if (!v->is_array() || v->size() != 2 || !small_positive((*v)[0]) || !small_positive((*v)[1]))
    f.fail(key, "[count, links] with two integers in 1.." + std::to_string(kMaxCount));
  count = (*v)[0].get<int>();
  links = (*v)[1].get<int>();
}

std::string fmt_dims(const std::vector<int>& d) {
  std::string s;
  for (int x : d) s += (s.empty() ? "" : "x") + std::to_string(x);
  return s;
}

}  // namespace

std::string preset_dir() {
  if (const char* env = std::getenv("ARCSIM_PRESET_DIR")) return env;
  return ARCSIM_PRESET_DIR;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(preset_dir(), ec))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

TopologySpec parse_topology(const nlohmann::json& j, const std::string& file) {
  Fields f(j, file, "");
  if (f.has("format") && f.string("format") != "arcsim-topology/1")
    f.fail("format", "\"arcsim-topology/1\"");
  f.optional("format");
  TopologySpec s;
  s.name = f.string_or("name", std::filesystem::path(file).stem().string());
  s.description = f.string_or("description", "");
  s.type = f.choice("type", kTypes, "");
  if (f.has("nodes")) s.fixed_nodes = positive_int(f, "nodes", 0, kMaxRanks);
  s.bandwidth_Bps = f.bandwidth("bandwidth");
  s.latency_s = f.latency("latency");

  if (const auto* ft = f.optional("fattree")) {
    if (s.type != "fattree") f.fail("fattree", "no fattree section for type " + s.type);
    Fields g(*ft, file, "fattree");
    s.hosts_per_leaf = positive_int(g, "hosts_per_leaf", 0);
    s.oversubscription = positive_int(g, "oversubscription", 1);
    g.finish();
  }
  if (const auto* t = f.optional("torus")) {
    if (s.type != "torus") f.fail("torus", "no torus section for type " + s.type);
    Fields g(*t, file, "torus");
    const auto& d = g.required("dims");
    if (!d.is_array() || d.empty() || d.size() > 8) g.fail("dims", "an array of 1..8 positive integers");
    for (const auto& x : d) {
      if (!small_positive(x)) g.fail("dims", "an array of integers in 1.." + std::to_string(kMaxCount));
      s.dims.push_back(x.get<int>());
    }
    g.finish();
  }
  if (const auto* df = f.optional("dragonfly")) {
    if (s.type != "dragonfly") f.fail("dragonfly", "no dragonfly section for type " + s.type);
    Fields g(*df, file, "dragonfly");
    df_pair(g, "groups", s.df_groups, s.df_group_links, true);
    df_pair(g, "chassis", s.df_chassis, s.df_chassis_links, false);
    df_pair(g, "routers", s.df_routers, s.df_router_links, true);
    s.df_nodes_per_router = positive_int(g, "nodes_per_router", 1);
    g.finish();
  }
  if (const auto* n = f.optional("node")) {
    Fields g(*n, file, "node");
    s.gpus_per_node = positive_int(g, "gpus", 1, kMaxGpusPerNode);
    s.nics_per_node = positive_int(g, "nics", 1);
    if (s.nics_per_node > s.gpus_per_node) g.fail("nics", "1.." + std::to_string(s.gpus_per_node) + " NICs");
    if (g.has("transport")) {
      try {
        s.transport = parse_transport(g.string("transport"));
      } catch (const std::invalid_argument&) {
        g.fail("transport", transport_choices());
      }
    }
    g.optional("transport");
    const TransportRow& row = transport_row(s.transport);
    s.intra_bandwidth_Bps = row.line_Bps;
    if (g.has("intra_bandwidth")) s.intra_bandwidth_Bps = g.bandwidth("intra_bandwidth");
    g.optional("intra_bandwidth");
    s.intra_latency_s = g.latency_or("intra_latency", row.latency_s);
    if (row.achievable_Bps < row.line_Bps && !g.has("intra_bandwidth"))
      s.intra_achievable_Bps = row.achievable_Bps;
    g.finish();
  }
  if (const auto* n = f.optional("nccl")) {
    Fields g(*n, file, "nccl");
    if (g.has("nic_achievable")) s.nic_achievable_Bps = g.bandwidth("nic_achievable");
    if (g.has("pcie")) s.pcie_Bps = g.bandwidth("pcie");
    if (g.has("intra_achievable")) s.intra_achievable_Bps = g.bandwidth("intra_achievable");
    g.optional("nic_achievable");
    g.optional("pcie");
    g.optional("intra_achievable");
    s.latency_scale = g.number_or("latency_scale", 1.0);
    if (!(s.latency_scale > 0 && s.latency_scale <= 100)) g.fail("latency_scale", "a number in (0, 100]");
    s.proxy_overhead_s = g.latency_or("proxy_overhead", 0);
    s.nccl_channels = positive_int(g, "channels", 0, kMaxNcclChannels);
    s.gpu_arch = g.string_or("gpu_arch", "");
    if (s.gpu_arch != "" && s.gpu_arch != "volta" && s.gpu_arch != "ampere" && s.gpu_arch != "hopper" &&
        s.gpu_arch != "blackwell")
      g.fail("gpu_arch", "one of volta, ampere, hopper, blackwell");
    s.cpu_vendor = g.string_or("cpu_vendor", "intel");
    if (s.cpu_vendor != "intel" && s.cpu_vendor != "amd") g.fail("cpu_vendor", "intel or amd");
    if (const auto* src = g.optional("sources")) {
      if (!src->is_object()) g.fail("sources", "an object of field -> source strings");
      for (const auto& [k, v] : src->items())
        if (!v.is_string()) g.fail("sources", "a string for \"" + k + "\"");
      s.nccl_sources = *src;
    }
    if (const auto* c = g.optional("calibrated_from")) s.calibrated_from = *c;
    g.finish();
    if (s.nic_achievable_Bps > s.bandwidth_Bps * 1.0001)
      g.fail("nic_achievable", "at most the line rate `bandwidth` (" +
                                   arcsim::units::format_bandwidth(s.bandwidth_Bps) + ")");
    if (s.intra_achievable_Bps > s.intra_bandwidth_Bps * 1.0001)
      g.fail("intra_achievable", "at most node.intra_bandwidth (" +
                                     arcsim::units::format_bandwidth(s.intra_bandwidth_Bps) + ")");
  }
  if (const auto* n = f.optional("gloo")) {
    Fields g(*n, file, "gloo");
    s.gloo_call_s = g.latency_or("call_overhead", 0);
    s.gloo_message_s = g.latency_or("message_overhead", 0);
    for (int i = 0; i < 3; ++i) {
      const std::string key = std::string(kGlooPatterns[i]) + "_efficiency";
      s.gloo_efficiency[i] = g.number_or(key, 0);
      if (g.has(key) && !(s.gloo_efficiency[i] > 0 && s.gloo_efficiency[i] <= 1))
        g.fail(key, "a number in (0, 1]: payload bytes per line-rate byte");
    }
    s.gloo_burst_bytes = g.size_or("burst", 0);
    if (const auto* c = g.optional("calibrated_from")) s.gloo_calibrated_from = *c;
    g.finish();
  }
  f.finish();
  return s;
}

nlohmann::json topology_to_json(const TopologySpec& s) {
  using arcsim::units::format_bandwidth;
  using arcsim::units::format_time;
  nlohmann::json j;
  j["format"] = "arcsim-topology/1";
  j["name"] = s.name;
  if (!s.description.empty()) j["description"] = s.description;
  j["type"] = s.type;
  if (s.fixed_nodes > 0) j["nodes"] = s.fixed_nodes;
  j["bandwidth"] = format_bandwidth(s.bandwidth_Bps);
  j["latency"] = format_time(s.latency_s);
  if (s.type == "fattree" && (s.hosts_per_leaf > 0 || s.oversubscription != 1)) {
    nlohmann::json ft;
    if (s.hosts_per_leaf > 0) ft["hosts_per_leaf"] = s.hosts_per_leaf;
    ft["oversubscription"] = s.oversubscription;
    j["fattree"] = ft;
  }
  if (s.type == "torus" && !s.dims.empty()) j["torus"] = {{"dims", s.dims}};
  if (s.type == "dragonfly")
    j["dragonfly"] = {{"groups", {s.df_groups, s.df_group_links}},
                      {"chassis", {s.df_chassis, s.df_chassis_links}},
                      {"routers", {s.df_routers, s.df_router_links}},
                      {"nodes_per_router", s.df_nodes_per_router}};
  if (s.gpus_per_node > 1 || s.nics_per_node > 1)
    j["node"] = {{"gpus", s.gpus_per_node}, {"nics", s.nics_per_node},
                 {"transport", transport_row(s.transport).name},
                 {"intra_bandwidth", format_bandwidth(s.intra_bandwidth_Bps)},
                 {"intra_latency", format_time(s.intra_latency_s)}};
  nlohmann::json n;
  if (s.nic_achievable_Bps > 0) n["nic_achievable"] = format_bandwidth(s.nic_achievable_Bps);
  if (s.pcie_Bps > 0) n["pcie"] = format_bandwidth(s.pcie_Bps);
  if (s.intra_achievable_Bps > 0) n["intra_achievable"] = format_bandwidth(s.intra_achievable_Bps);
  if (s.latency_scale != 1.0) n["latency_scale"] = s.latency_scale;
  if (s.proxy_overhead_s > 0) n["proxy_overhead"] = format_time(s.proxy_overhead_s);
  if (s.nccl_channels > 0) n["channels"] = s.nccl_channels;
  if (!s.gpu_arch.empty()) n["gpu_arch"] = s.gpu_arch;
  if (s.cpu_vendor != "intel") n["cpu_vendor"] = s.cpu_vendor;
  if (!s.nccl_sources.empty()) n["sources"] = s.nccl_sources;
  if (!s.calibrated_from.is_null()) n["calibrated_from"] = s.calibrated_from;
  if (!n.empty()) j["nccl"] = n;
  nlohmann::json g;
  if (s.gloo_call_s > 0) g["call_overhead"] = format_time(s.gloo_call_s);
  if (s.gloo_message_s > 0) g["message_overhead"] = format_time(s.gloo_message_s);
  for (int i = 0; i < 3; ++i)
    if (s.gloo_efficiency[i] > 0) g[std::string(kGlooPatterns[i]) + "_efficiency"] = s.gloo_efficiency[i];
  if (s.gloo_burst_bytes > 0) g["burst"] = s.gloo_burst_bytes;
  if (!s.gloo_calibrated_from.is_null()) g["calibrated_from"] = s.gloo_calibrated_from;
  if (!g.empty()) j["gloo"] = g;
  return j;
}

TopologySpec load_topology(const std::string& name) {
  for (const auto& t : kTypes)
    if (name == t) {
      TopologySpec s;
      s.name = s.type = name;
      return s;
    }
  const std::string preset = preset_dir() + "/" + name + ".json";
  // A topology *file* must say what it is, so that a JSON file of another kind (a spec, a plan)
  // given by mistake is named as such; an object inline in an experiment spec needs no format.
  auto from_file = [](const std::string& path) {
    const auto j = arcsim::json::load_file(path);
    if (j.is_object() && !j.contains("format"))
      throw ConfigError(path + ": format: expected \"arcsim-topology/1\" (required in a topology file), got nothing (missing)");
    return parse_topology(j, path);
  };
  if (std::filesystem::exists(preset)) return from_file(preset);
  if (std::filesystem::exists(name)) return from_file(name);
  std::string list;
  for (const auto& t : kTypes) list += t + "|";
  for (const auto& p : preset_names()) list += p + "|";
  if (!list.empty()) list.pop_back();
  throw ConfigError("topology: expected a type, a preset (" + list +
                    ") or a topology JSON file, got \"" + name + "\"");
}

Resolved resolve(const TopologySpec& spec_in, int nodes, double bandwidth_Bps, double latency_s) {
  Resolved r;
  r.spec = spec_in;
  TopologySpec& s = r.spec;
  auto bad = [&](const std::string& what) {
    throw std::invalid_argument("topology " + s.name + ": " + what);
  };
  if (nodes < 1) bad("expected a positive node count, got " + std::to_string(nodes));
  if (nodes > kMaxRanks / s.gpus_per_node)
    bad("expected at most " + std::to_string(kMaxRanks) + " simulated ranks (nodes x " + std::to_string(s.gpus_per_node) +
        " GPUs per node), got " + std::to_string(nodes) + " nodes (docs/limits.md)");
  if (s.fixed_nodes > 0 && nodes != s.fixed_nodes)
    bad("exists only with " + std::to_string(s.fixed_nodes) + " nodes, got --nodes " +
        std::to_string(nodes));
  r.transport = s.gpus_per_node > 1 ? transport_row(s.transport).name : "none";
  if (s.gpus_per_node > 1 && s.transport == Transport::socket) {
    if (nodes != 1)
      bad("node.transport socket is NCCL's socket transport between the GPUs of one host: expected 1 node, got " +
          std::to_string(nodes));
    // As NCCL sees it: every GPU its own node, on the loopback's rate.
    const int gpus = s.gpus_per_node;
    s.type = "star";
    s.bandwidth_Bps = s.intra_bandwidth_Bps;
    s.nic_achievable_Bps = s.intra_achievable_Bps;
    s.latency_s = s.intra_latency_s;
    s.pcie_Bps = 0;
    s.gpus_per_node = s.nics_per_node = 1;
    s.fixed_nodes = 0;
    Resolved socket = resolve(s, gpus, 0, -1);
    socket.transport = r.transport;
    socket.hosts = 1;
    socket.shape = "one host of " + std::to_string(gpus) + " GPUs over NCCL's socket transport on loopback (" +
                   arcsim::units::format_bandwidth(s.intra_bandwidth_Bps) + " per GPU; NCCL sees every GPU as its own node)";
    return socket;
  }
  if (bandwidth_Bps > 0) {
    // What NCCL achieves stays the same fraction of the line rate.
    if (s.nic_achievable_Bps > 0 && s.bandwidth_Bps > 0)
      s.nic_achievable_Bps *= bandwidth_Bps / s.bandwidth_Bps;
    s.bandwidth_Bps = bandwidth_Bps;
  }
  if (latency_s >= 0) s.latency_s = latency_s;
  if (!(s.bandwidth_Bps > 0) || !std::isfinite(s.bandwidth_Bps)) bad("expected a positive bandwidth");
  // Every quantity that reaches SimGrid, in the bounds table's range (common/units.hpp), whatever
  // set it: a file, a flag, an override or a fit (calibrate). Optional ones are 0 when unset.
  auto in_range = [&](const char* field, double v, const units::Range& range, const char* what, bool optional) {
    if (optional && v == 0) return;
    try {
      units::check_range(v, range, what);
    } catch (const std::invalid_argument& e) {
      bad(std::string(field) + ": " + e.what());
    }
  };
  in_range("bandwidth", s.bandwidth_Bps, units::kBandwidthRange, "bandwidth", false);
  in_range("latency", s.latency_s, units::kLatencyRange, "latency", false);
  in_range("node.intra_bandwidth", s.intra_bandwidth_Bps, units::kBandwidthRange, "bandwidth", s.gpus_per_node == 1);
  in_range("node.intra_latency", s.intra_latency_s, units::kLatencyRange, "latency", false);
  in_range("nccl.nic_achievable", s.nic_achievable_Bps, units::kBandwidthRange, "bandwidth", true);
  in_range("nccl.pcie", s.pcie_Bps, units::kBandwidthRange, "bandwidth", true);
  in_range("nccl.intra_achievable", s.intra_achievable_Bps, units::kBandwidthRange, "bandwidth", true);
  in_range("nccl.proxy_overhead", s.proxy_overhead_s, units::kLatencyRange, "latency", false);
  in_range("gloo.call_overhead", s.gloo_call_s, units::kLatencyRange, "latency", true);
  in_range("gloo.message_overhead", s.gloo_message_s, units::kLatencyRange, "latency", true);
  in_range("nccl.latency_scale x latency", s.latency_s * s.latency_scale, units::kLatencyRange, "latency", false);
  r.nodes = r.hosts = nodes;
  r.ranks = nodes * s.gpus_per_node;

  if (s.type == "star") {
    r.link_latency_s = s.latency_s / 2;  // host link up + host link down
    r.shape = "star of " + std::to_string(nodes) + " nodes (non-blocking switch)";
  } else if (s.type == "fattree") {
    int k = s.hosts_per_leaf;
    if (k == 0) {
      k = 1;
      for (int d = 1; d * d <= nodes; ++d)
        if (nodes % d == 0) k = d;
      if (nodes <= 4) k = nodes;
    }
    if (nodes < k && s.hosts_per_leaf == 0) k = nodes;  // a partly filled single leaf switch
    if (nodes < k)
      bad("fattree.hosts_per_leaf " + std::to_string(k) + " is more than the " + std::to_string(nodes) +
          " nodes: expected hosts_per_leaf <= nodes");
    if (nodes % k != 0)
      bad("fat-tree with " + std::to_string(k) + " hosts per leaf needs a multiple of " +
          std::to_string(k) + " nodes, got " + std::to_string(nodes));
    if (k % s.oversubscription != 0 && nodes > k)
      bad("oversubscription " + std::to_string(s.oversubscription) + " must divide hosts_per_leaf " +
          std::to_string(k));
    const int leaves = nodes / k, cores = k / s.oversubscription;
    if (leaves == 1) {
      r.fattree_down = {k};
      r.fattree_up = {1};
    } else {
      r.fattree_down = {k, leaves};
      r.fattree_up = {1, cores};
    }
    r.link_latency_s = s.latency_s / 2;  // host -> leaf switch -> host
    r.shape = "fat-tree: " + std::to_string(leaves) + " leaf switches x " + std::to_string(k) +
              " nodes, " + (leaves == 1 ? std::string("no core") : std::to_string(cores) + " core switches") +
              " (oversubscription " + std::to_string(s.oversubscription) + ":1)";
  } else if (s.type == "torus") {
    std::vector<int> d = s.dims;
    if (d.empty()) {
      // Near-cubic a <= b <= c with a*b*c = nodes: the smallest largest side.
      int best_c = nodes;
      d = {1, 1, nodes};
      for (int a = 1; a * a * a <= nodes; ++a)
        for (int b = a; a * b * b <= nodes; ++b)
          if (nodes % (a * b) == 0 && nodes / (a * b) >= b && nodes / (a * b) < best_c) {
            best_c = nodes / (a * b);
            d = {a, b, best_c};
          }
    }
    long prod = 1;
    for (int x : d) prod = std::min<long>(prod * x, 1L << 40);  // each side <= kMaxCount: no overflow
    if (prod != nodes)
      bad("torus " + fmt_dims(d) + " has " + std::to_string(prod) + " nodes, got --nodes " +
          std::to_string(nodes));
    // A dimension of size 1 adds no link, and SimGrid 3.32 aborts on it (a link from a node to
    // itself declared twice): drop it.
    std::erase(d, 1);
    if (d.empty()) bad("a torus needs at least 2 nodes");
    r.torus_dims = d;
    r.link_latency_s = s.latency_s;  // neighbours are one link apart
    r.shape = "torus " + fmt_dims(d);
  } else if (s.type == "dragonfly") {
    if (s.df_groups == 0) {
      // Defaults for a bare "dragonfly": 1 chassis, routers >= groups, g * r * n = nodes.
      int g = 1;
      for (int c = 1; c * c * c <= nodes; ++c)
        if (nodes % c == 0) g = c;
      int rest = nodes / g, rt = rest;
      for (int x = g; x <= rest; ++x)
        if (rest % x == 0) {
          rt = x;
          break;
        }
      s.df_groups = g;
      s.df_group_links = 1;
      s.df_routers = rt;
      s.df_nodes_per_router = rest / rt;
    }
    const long total = 1L * s.df_groups * s.df_chassis * s.df_routers * s.df_nodes_per_router;  // each <= 1024
    if (total != nodes)
      bad("dragonfly " + std::to_string(s.df_groups) + " groups x " + std::to_string(s.df_chassis) +
          " chassis x " + std::to_string(s.df_routers) + " routers x " +
          std::to_string(s.df_nodes_per_router) + " nodes = " + std::to_string(total) +
          " nodes, got --nodes " + std::to_string(nodes));
    // SimGrid 3.32 DragonflyZone indexes its green (intra-chassis) links by the target group and
    // segfaults when there are fewer routers per chassis than groups: refuse it here.
    if (s.df_routers < s.df_groups)
      bad("dragonfly needs routers per chassis (" + std::to_string(s.df_routers) +
          ") >= groups (" + std::to_string(s.df_groups) +
          "): SimGrid 3.32 crashes in route computation otherwise");
    r.link_latency_s = s.latency_s / 2;  // node -> router -> node
    r.shape = "dragonfly " + std::to_string(s.df_groups) + " groups x " + std::to_string(s.df_chassis) +
              " chassis x " + std::to_string(s.df_routers) + " routers x " +
              std::to_string(s.df_nodes_per_router) + " nodes";
  } else {
    bad("unknown type \"" + s.type + "\"");
  }
  if (s.gpus_per_node > 1)
    r.shape += ", " + std::to_string(s.gpus_per_node) + " GPUs/node over " + r.transport + " (" +
               arcsim::units::format_bandwidth(s.intra_bandwidth_Bps) + " intra links), " +
               std::to_string(s.nics_per_node) + " NIC(s)/node";
  return r;
}

}  // namespace arcsim::topo
