#include "breakeven.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "common/format.hpp"

namespace arcsim::experiments {

namespace {

// The network point with the searched axis blanked out: what stays fixed along one search.
using FixedKey = std::tuple<int, double, double, std::size_t, std::string>;

struct Request {
  std::size_t ci = 0;   // compressor index in the original spec
  std::size_t fi = 0;   // fixed combination
  double x = 0;         // axis value (bytes/s, nodes, ratio)
  bool operator<(const Request& o) const { return std::tie(ci, fi, x) < std::tie(o.ci, o.fi, o.x); }
};

struct Outcome {
  std::optional<double> tta, tta_lo, tta_hi, iteration;
  std::string tta_note;
};

// The searched quantities: the central TTA speedup, the two ends of its 95 % interval (their
// crossings bound the break-even's interval; merged into the "tta" row at the end), and the
// iteration speedup.
std::optional<double> speedup_of(const Outcome& o, const std::string& metric) {
  if (metric == "tta") return o.tta;
  if (metric == "tta_lo") return o.tta_lo;
  if (metric == "tta_hi") return o.tta_hi;
  return o.iteration;
}

struct Search {
  std::size_t ci = 0, fi = 0;
  std::string metric;
  std::vector<std::pair<double, std::optional<double>>> grid;  // x, speedup
  double a = 0, b = 0, sa = 0, sb = 0;
  bool open = false;
  BreakevenRow row;
};

}  // namespace

BreakevenResult run_breakeven(const ExperimentSpec& spec, const BreakevenOptions& options) {
  const std::string& axis = options.axis;
  if (axis != "bandwidth" && axis != "nodes" && axis != "ratio")
    throw std::invalid_argument("--over: expected bandwidth, nodes or ratio, got \"" + axis + "\"");
  std::optional<std::size_t> dense;
  std::vector<std::size_t> comps;
  for (std::size_t i = 0; i < spec.compressors.size(); ++i) {
    if (spec.compressors[i].name == "dense") {
      if (!dense) dense = i;
    } else {
      comps.push_back(i);
    }
  }
  if (!dense) throw std::invalid_argument(spec.file + ": compressors: expected a dense entry (the baseline of the speedups)");
  if (comps.empty()) throw std::invalid_argument(spec.file + ": compressors: expected a compressor besides dense");

  // ---- The grid on the axis.
  std::vector<double> grid;
  const double lo = options.range_lo.value_or(0), hi = options.range_hi.value_or(0);
  if (options.range_lo && !(lo > 0 && hi > lo))
    throw std::invalid_argument("--range: expected 0 < LO < HI");
  if (options.range_lo && axis == "nodes" && !(lo >= 1 && hi <= 65536))
    throw std::invalid_argument("--range: expected node counts in [1, 65536]");
  if (options.range_lo && axis == "ratio" && !(hi <= 1))
    throw std::invalid_argument("--range: expected ratios in (0, 1]");
  if (axis == "ratio") {
    const double a = options.range_lo ? lo : 0.01, b = options.range_hi ? std::min(hi, 1.0) : 1.0;
    for (int i = 0; i < 5; ++i) grid.push_back(std::exp(std::log(a) + i * (std::log(b) - std::log(a)) / 4));
  } else {
    std::vector<double> vals;
    if (axis == "bandwidth") vals = spec.bandwidths_Bps;
    else
      for (int n : spec.nodes) vals.push_back(n);
    for (double v : vals)
      if (!options.range_lo || (v > lo && v < hi)) grid.push_back(v);
    if (options.range_lo) {
      grid.push_back(axis == "nodes" ? std::ceil(lo) : lo);
      grid.push_back(axis == "nodes" ? std::floor(hi) : hi);
    }
    std::sort(grid.begin(), grid.end());
    grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  }
  if (grid.size() < 2)
    throw std::invalid_argument(spec.file + ": " + (axis == "bandwidth" ? "bandwidths" : axis == "nodes" ? "nodes" : "ratio") +
                                ": expected at least two values to search between (or --range LO HI)");

  // ---- The fixed combinations: the product of the other axes.
  std::vector<FixedKey> fixed;
  for (std::size_t t = 0; t < spec.topologies.size(); ++t)
    for (const auto& prof : spec.profiles)
      for (double lat : spec.latencies_s) {
        if (axis == "bandwidth") {
          for (int n : spec.nodes) fixed.emplace_back(n, 0.0, lat, t, prof);
        } else if (axis == "nodes") {
          for (double bw : spec.bandwidths_Bps) fixed.emplace_back(0, bw, lat, t, prof);
        } else {
          for (int n : spec.nodes)
            for (double bw : spec.bandwidths_Bps) fixed.emplace_back(n, bw, lat, t, prof);
        }
      }
  std::map<FixedKey, std::size_t> fixed_index;
  for (std::size_t i = 0; i < fixed.size(); ++i) fixed_index[fixed[i]] = i;

  BreakevenResult result;
  result.tolerance = options.rel_tol;
  std::map<Request, Outcome> memo;
  const std::string work = options.out_dir + "/breakeven-work";
  auto clone_label = [](const CompressorConfig& c, double x) { return c.label + "@ratio=" + io::format_number(x); };

  // Simulates every request not yet known, in one sweep.
  auto evaluate = [&](const std::set<Request>& wanted) {
    std::set<Request> todo;
    for (const auto& r : wanted)
      if (!memo.count(r)) todo.insert(r);
    if (todo.empty()) return;
    ExperimentSpec s = spec;
    s.compressors = {spec.compressors[*dense]};
    std::map<std::string, Request> by_label;  // ratio axis: clone label -> request
    std::set<double> xs;
    for (const auto& r : todo) xs.insert(r.x);
    if (axis == "bandwidth") s.bandwidths_Bps.assign(xs.begin(), xs.end());
    if (axis == "nodes") {
      s.nodes.clear();
      for (double x : xs) s.nodes.push_back(static_cast<int>(x));
    }
    std::map<std::string, std::size_t> orig_of;  // label in s -> index in spec
    if (axis == "ratio") {
      for (const auto& r : todo) {
        CompressorConfig c = spec.compressors[r.ci];
        c.ratio = r.x;
        c.label = clone_label(c, r.x);
        if (!by_label.count(c.label)) s.compressors.push_back(c);
        by_label[c.label] = r;
      }
    } else {
      for (std::size_t ci : comps) {
        s.compressors.push_back(spec.compressors[ci]);
        orig_of[spec.compressors[ci].label] = ci;
      }
    }
    auto key_of = [&](const NetworkPoint& n) -> std::pair<FixedKey, double> {
      if (axis == "bandwidth") return {FixedKey{n.nodes, 0.0, n.latency_s, n.topology, n.profile}, n.bandwidth_Bps};
      if (axis == "nodes") return {FixedKey{0, n.bandwidth_Bps, n.latency_s, n.topology, n.profile}, n.nodes};
      return {FixedKey{n.nodes, n.bandwidth_Bps, n.latency_s, n.topology, n.profile}, 0.0};
    };
    std::set<std::pair<std::size_t, double>> dense_needed;  // (fixed, x)
    for (const auto& r : todo) dense_needed.insert({r.fi, r.x});
    auto request_of = [&](const Point& p) -> std::optional<Request> {
      const auto [fk, x] = key_of(p.net);
      const auto fit = fixed_index.find(fk);
      if (fit == fixed_index.end()) return std::nullopt;
      const std::string& label = s.compressors[p.compressor].label;
      if (axis == "ratio") {
        const auto it = by_label.find(label);
        if (it == by_label.end()) return std::nullopt;
        return Request{it->second.ci, fit->second, it->second.x};
      }
      const auto it = orig_of.find(label);
      if (it == orig_of.end()) return std::nullopt;
      return Request{it->second, fit->second, x};
    };
    SweepOptions so;
    so.out_dir = work;
    so.jobs = options.jobs;
    so.progress = false;
    // Checked once, by the grid sweep; the ratio axis's clones have no logs by construction (only
    // their iteration time is searched).
    so.check_convergence = result.sweeps == 0 && axis != "ratio";
    so.simulate = options.simulate;
    so.keep = [&](const Point& p) {
      if (p.compressor == 0) {  // dense: wherever a compressor is asked for
        const auto [fk, x] = key_of(p.net);
        const auto fit = fixed_index.find(fk);
        if (fit == fixed_index.end()) return false;
        if (axis != "ratio") return dense_needed.count({fit->second, x}) > 0;
        for (const auto& r : todo)
          if (r.fi == fit->second) return true;
        return false;
      }
      const auto r = request_of(p);
      return r && todo.count(*r) > 0;
    };
    const SweepSummary sum = run_sweep(s, so);
    ++result.sweeps;
    result.simulated_points += sum.points;
    const std::vector<Point> points = expand_points(s);
    for (const ResultRow& row : sum.rows) {
      const Point& p = points.at(row.point);
      if (p.compressor == 0 || row.status == "pending") continue;
      const auto r = request_of(p);
      if (!r || !todo.count(*r)) continue;
      Outcome o;
      if (row.status == "ok") {
        o.tta = row.speedup_vs_dense;
        o.tta_lo = row.speedup_vs_dense_lo;
        o.tta_hi = row.speedup_vs_dense_hi;
        o.iteration = row.iteration_speedup_vs_dense;
        o.tta_note = row.tta_note;
      } else {
        o.tta_note = "point failed: " + row.error;
      }
      memo[*r] = o;
    }
    for (const auto& r : todo)
      if (!memo.count(r)) memo[r] = Outcome{std::nullopt, std::nullopt, std::nullopt, std::nullopt, "not simulated"};
  };

  // ---- 1. the grid.
  {
    std::set<Request> all;
    for (std::size_t ci : comps)
      for (std::size_t fi = 0; fi < fixed.size(); ++fi)
        for (double x : grid) all.insert({ci, fi, x});
    if (options.progress)
      std::fprintf(stderr, "[breakeven] grid: %zu compressor(s) x %zu fixed point(s) x %zu %s value(s)\n", comps.size(),
                   fixed.size(), grid.size(), axis.c_str());
    evaluate(all);
  }
  auto speedup = [](const Outcome& o, const std::string& metric) { return speedup_of(o, metric); };

  // ---- 2. brackets.
  std::vector<Search> searches;
  const std::vector<std::string> metrics =
      axis == "ratio" ? std::vector<std::string>{"iteration"}
                      : std::vector<std::string>{"tta", "tta_lo", "tta_hi", "iteration"};
  for (std::size_t ci : comps)
    for (std::size_t fi = 0; fi < fixed.size(); ++fi)
      for (const auto& metric : metrics) {
        Search s;
        s.ci = ci;
        s.fi = fi;
        s.metric = metric;
        const CompressorConfig& c = spec.compressors[ci];
        const auto& [n, bw, lat, topo, prof] = fixed[fi];
        s.row.compressor = c.name;
        s.row.label = c.label;
        s.row.metric = metric;
        s.row.nodes = n;
        s.row.bandwidth_Bps = bw;
        s.row.latency_s = lat;
        s.row.topology = spec.topologies[topo].name;
        s.row.profile = prof;
        s.row.ratio = c.ratio;
        std::string why;
        for (double x : grid) {
          const Outcome& o = memo.at({ci, fi, x});
          s.grid.push_back({x, speedup(o, metric)});
          if (!speedup(o, metric) && why.empty()) why = o.tta_note;
        }
        s.row.evaluations = static_cast<int>(grid.size());
        std::vector<std::pair<double, double>> have;
        for (const auto& [x, v] : s.grid)
          if (v) have.push_back({x, *v});
        int crossings = 0;
        for (std::size_t i = 1; i < have.size(); ++i) {
          const bool cross = (have[i - 1].second - 1) * (have[i].second - 1) <= 0 && have[i - 1].second != have[i].second;
          if (!cross) continue;
          if (++crossings == 1) {
            s.a = have[i - 1].first;
            s.sa = have[i - 1].second;
            s.b = have[i].first;
            s.sb = have[i].second;
            s.open = true;
          }
        }
        auto unit = [&](double x) {
          if (axis == "bandwidth") return io::format_number(std::round(x * 8 / 1e9 * 1e6) / 1e6) + " Gbit/s";
          if (axis == "nodes") return std::to_string(static_cast<int>(x)) + " nodes";
          return "ratio " + io::format_number(std::round(x * 1e6) / 1e6);
        };
        if (have.size() < 2) {
          s.row.note = "no " + std::string(metric == "iteration" ? "iteration" : "TTA") + " speedup to search" +
                       (why.empty() ? "" : ": " + why);
        } else if (!crossings) {
          s.row.note = std::string(have.front().second > 1 ? "faster" : "slower") + " than dense over the whole range " +
                       unit(have.front().first) + " .. " + unit(have.back().first) + " (speedup " +
                       io::format_number(std::round(have.front().second * 1000) / 1000) + " .. " +
                       io::format_number(std::round(have.back().second * 1000) / 1000) + "): no crossing";
        } else if (crossings > 1) {
          s.row.note = std::to_string(crossings) + " crossings in the range; the first is reported";
        }
        searches.push_back(std::move(s));
      }

  // ---- 3. bisection, every open bracket at once.
  auto converged = [&](const Search& s) {
    return axis == "nodes" ? s.b - s.a <= 1 : s.b / s.a <= 1 + options.rel_tol;
  };
  for (int round = 0; round < 60; ++round) {
    std::set<Request> want;
    std::vector<std::pair<Search*, double>> mids;
    for (auto& s : searches) {
      if (!s.open || converged(s)) continue;
      const double m = axis == "nodes" ? std::floor((s.a + s.b) / 2) : std::sqrt(s.a * s.b);
      want.insert({s.ci, s.fi, m});
      mids.push_back({&s, m});
    }
    if (mids.empty()) break;
    if (options.progress)
      std::fprintf(stderr, "[breakeven] round %d: %zu bracket(s) open, %zu simulation point(s)\n", round + 1, mids.size(),
                   want.size());
    evaluate(want);
    for (auto& [s, m] : mids) {
      ++s->row.evaluations;
      const std::optional<double> v = speedup(memo.at({s->ci, s->fi, m}), s->metric);
      if (!v) {  // the midpoint has no value: stop here with the bracket as it is
        s->row.note = "bisection stopped: no speedup at " + io::format_number(m);
        s->open = false;
        continue;
      }
      if ((s->sa - 1) * (*v - 1) <= 0) {
        s->b = m;
        s->sb = *v;
      } else {
        s->a = m;
        s->sa = *v;
      }
    }
  }

  // ---- 4. the crossing. Over nodes, a count that can be simulated: the first past the crossing
  // (bracket_lo is the last before it), never a fraction of a node.
  const double scale = axis == "bandwidth" ? 8 / 1e9 : 1.0;  // report bandwidth in Gbit/s
  for (auto& s : searches) {
    if (s.a > 0 && s.b > 0 && (s.sa - 1) * (s.sb - 1) <= 0 && s.sa != s.sb) {
      const double f = (1 - s.sa) / (s.sb - s.sa);
      const double x = axis == "nodes" ? s.b : std::exp(std::log(s.a) + f * (std::log(s.b) - std::log(s.a)));
      s.row.breakeven = x * scale;
      s.row.bracket_lo = s.a * scale;
      s.row.bracket_hi = s.b * scale;
      s.row.speedup_lo = s.sa;
      s.row.speedup_hi = s.sb;
      s.row.faster = s.sa > 1 ? "below" : "above";
    }
  }
  // The interval ends' crossings become the "tta" row's interval: a crossing of either end of the
  // speedup's 95 % interval below the central crossing is the interval's lower end, one above it
  // its upper end; an end with no crossing in the range stays empty (beyond the range).
  for (auto& s : searches) {
    if (s.metric != "tta" || !s.row.breakeven) continue;
    for (const auto& t : searches) {
      if (t.ci != s.ci || t.fi != s.fi || (t.metric != "tta_lo" && t.metric != "tta_hi")) continue;
      s.row.evaluations += t.row.evaluations - static_cast<int>(grid.size());
      if (!t.row.breakeven) continue;
      const double x = *t.row.breakeven;
      if (x <= *s.row.breakeven) s.row.breakeven_lo = s.row.breakeven_lo ? std::min(*s.row.breakeven_lo, x) : x;
      if (x >= *s.row.breakeven) s.row.breakeven_hi = s.row.breakeven_hi ? std::max(*s.row.breakeven_hi, x) : x;
    }
  }
  for (auto& s : searches)
    if (s.metric == "tta" || s.metric == "iteration") result.rows.push_back(s.row);
  return result;
}

std::string breakeven_csv(const BreakevenResult& r, const std::string& axis) {
  auto num = [](const std::optional<double>& v) { return v ? io::format_number(*v) : std::string(); };
  auto esc = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
  };
  std::vector<std::string> cols = {"compressor", "label"};
  if (axis != "nodes") cols.push_back("nodes");
  if (axis != "bandwidth") cols.push_back("bandwidth_gbps");
  for (const char* c : {"latency_us", "topology", "profile"}) cols.push_back(c);
  if (axis != "ratio") cols.push_back("ratio");
  for (const char* c : {"metric"}) cols.push_back(c);
  cols.push_back("breakeven_" + axis);
  for (const char* c : {"breakeven_ci_lo", "breakeven_ci_hi", "bracket_lo", "bracket_hi", "speedup_lo", "speedup_hi", "faster", "evaluations", "tolerance", "note"})
    cols.push_back(c);
  std::string out;
  for (std::size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i];
  out += "\n";
  const std::string tol = axis == "nodes" ? "1 node" : "relative " + io::format_number(r.tolerance);
  for (const auto& row : r.rows) {
    std::vector<std::string> v = {row.compressor, row.label};
    if (axis != "nodes") v.push_back(std::to_string(row.nodes));
    if (axis != "bandwidth") v.push_back(io::format_number(std::round(row.bandwidth_Bps * 8 / 1e9 * 1e9) / 1e9));
    v.push_back(io::format_number(std::round(row.latency_s * 1e6 * 1e6) / 1e6));
    v.push_back(row.topology);
    v.push_back(row.profile);
    if (axis != "ratio") v.push_back(io::format_number(row.ratio));
    v.push_back(row.metric);
    v.push_back(num(row.breakeven));
    v.push_back(num(row.breakeven_lo));
    v.push_back(num(row.breakeven_hi));
    v.push_back(num(row.bracket_lo));
    v.push_back(num(row.bracket_hi));
    v.push_back(num(row.speedup_lo));
    v.push_back(num(row.speedup_hi));
    v.push_back(row.faster);
    v.push_back(std::to_string(row.evaluations));
    v.push_back(tol);
    v.push_back(row.note);
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + esc(v[i]);
    out += "\n";
  }
  return out;
}

}  // namespace arcsim::experiments
