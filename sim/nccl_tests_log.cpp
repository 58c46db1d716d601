#include "sim/nccl_tests_log.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/units.hpp"
#include "sim/limits.hpp"

namespace arcsim::sim {

namespace {
// The shortest time a row may report: nccl-tests prints microseconds with two decimals.
constexpr double kMinLogTime_s = 1e-9;
}  // namespace


namespace {

bool number(const std::string& t, double& v) {
  if (t.empty()) return false;
  char* end = nullptr;
  v = std::strtod(t.c_str(), &end);
  return end && *end == '\0';
}

// The whitespace-separated tokens of `line` into `out` (its strings and capacity reused from line
// to line: no stream and no fresh vector per line).
void split(const std::string& line, std::vector<std::string>& out) {
  std::size_t n = 0, i = 0;
  const std::size_t len = line.size();
  while (true) {
    while (i < len && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= len) break;
    std::size_t j = i;
    while (j < len && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (n == out.size()) out.emplace_back();
    out[n++].assign(line, i, j - i);
    i = j;
  }
  out.resize(n);
}

// "all_reduce_perf" (or a path containing it) -> the collective, "" if none.
std::string op_of(const std::string& s) {
  if (s.find("all_reduce") != std::string::npos || s.find("allreduce") != std::string::npos) return "allreduce";
  if (s.find("all_gather") != std::string::npos || s.find("allgather") != std::string::npos) return "allgather";
  if (s.find("reduce_scatter") != std::string::npos || s.find("reducescatter") != std::string::npos)
    return "reduce_scatter";
  if (s.find("broadcast") != std::string::npos) return "broadcast";
  return "";
}

CollectiveOp to_op(const std::string& n) {
  if (n == "allreduce") return CollectiveOp::allreduce;
  if (n == "allgather") return CollectiveOp::allgather;
  if (n == "reduce_scatter") return CollectiveOp::reduce_scatter;
  return CollectiveOp::broadcast;
}

const std::set<std::string> kTypes = {"float", "half", "bfloat16", "double", "int8", "uint8", "int32", "uint32",
                                      "int64", "uint64", "fp8_e4m3", "fp8_e5m2", "f32", "f16", "bf16"};

// Older logs print no "Collective test starting:" line: the table still says which test it is.
// busbw / algbw is nccl-tests' factor for n ranks (all-reduce 2(n-1)/n, all-gather and
// reduce-scatter (n-1)/n, broadcast 1), the redop column tells all-gather ("none") from
// reduce-scatter, and a root >= 0 marks a broadcast. "" when the rows do not decide.
std::string op_of_table(const std::vector<NcclTestsRow>& rows, int n) {
  if (n < 2 || rows.empty()) return "";
  if (rows.front().root >= 0) return "broadcast";
  std::vector<double> ratios;
  for (const auto& r : rows)
    if (r.algbw_GBps >= 1.0) ratios.push_back(r.busbw_GBps / r.algbw_GBps);  // 2 decimals: >= 1 GB/s keeps 1 %
  if (ratios.empty()) return "";
  std::sort(ratios.begin(), ratios.end());
  const double f = ratios[ratios.size() / 2];
  auto near = [&](double want) { return std::abs(f / want - 1) < 0.02; };
  if (near(2.0 * (n - 1) / n)) return "allreduce";
  if (near((n - 1.0) / n)) return rows.front().redop == "none" ? "allgather" : "reduce_scatter";
  return "";
}

}  // namespace

NcclTestsLog parse_nccl_tests_log(const std::string& text, const std::string& file, const std::string& op_hint) {
  NcclTestsLog log;
  log.file = file;
  std::string op;
  std::set<std::string> hosts;
  int lineno = 0;
  // One error wording for the whole reader: "<file>:<line>: what".
  auto bad_at = [&](int line, const std::string& what) {
    throw std::invalid_argument(file + ":" + std::to_string(line) + ": " + what);
  };
  auto bad = [&](const std::string& what) { bad_at(lineno, what); };
  // Rank ids of the run being read: a log holding two runs (two headers, e.g. two invocations
  // appended to one file) is read when both ran on the same ranks and hosts, and refused
  // otherwise, rather than counting every Rank line as a GPU.
  std::set<int> rank_ids;
  std::set<std::string> run_hosts;
  int run_line = 0;
  auto end_run = [&] {
    if (rank_ids.empty()) return;
    const int n = static_cast<int>(rank_ids.size());
    if (*rank_ids.rbegin() != n - 1)
      bad_at(run_line, "Rank lines: expected ranks 0.." + std::to_string(n - 1) + ", got " + std::to_string(n) +
                           " distinct ranks up to " + std::to_string(*rank_ids.rbegin()));
    if (log.ranks > 0 && (n != log.ranks || run_hosts != hosts))
      bad_at(run_line, "a second run on " + std::to_string(n) + " ranks and " + std::to_string(run_hosts.size()) +
                           " hosts after one on " + std::to_string(log.ranks) + " ranks and " +
                           std::to_string(hosts.size()) + ": expected one cluster per log (split the file)");
    log.ranks = n;
    hosts = run_hosts;
    rank_ids.clear();
    run_hosts.clear();
  };
  std::string line;
  std::vector<std::string> t;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    line.assign(text, pos, eol - pos);
    pos = eol + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Launcher prefixes: mpirun --tag-output "[1,0]<stdout>:", srun --label "0: ".
    if (!line.empty() && line[0] == '[') {
      const auto close = line.find("]");
      if (close != std::string::npos) {
        std::size_t k = close + 1;
        if (line.compare(k, 8, "<stdout>") == 0 || line.compare(k, 8, "<stderr>") == 0) k += 8;
        if (k < line.size() && line[k] == ':') line = line.substr(k + 1);
      }
    } else {
      std::size_t k = 0;
      while (k < line.size() && line[k] == ' ') ++k;
      std::size_t d = k;
      while (d < line.size() && std::isdigit(static_cast<unsigned char>(line[d]))) ++d;
      if (d > k && d + 1 < line.size() && line[d] == ':' && line[d + 1] == ' ') line = line.substr(d + 2);
    }
    split(line, t);
    if (t.empty()) continue;
    if (t[0] == "#" || t[0][0] == '#') {
      if (line.find("Collective test starting:") != std::string::npos && op.empty()) op = op_of(line);
      // "#  Rank  3 Group  0 Pid 1234 on HOST device  3 [0x..] NAME" (older: no Group).
      std::size_t i = t[0] == "#" ? 1 : 0;
      double id = -1;
      if (i + 1 < t.size() && t[i] == "Rank" && number(t[i + 1], id)) {
        if (!(id >= 0 && id < 1e7 && id == std::floor(id)))
          bad("Rank: expected a rank id, a whole number from 0 to 9999999, got \"" + t[i + 1] + "\"");
        // A rank seen again opens the next run's header.
        if (rank_ids.count(static_cast<int>(id))) end_run();
        if (rank_ids.empty()) run_line = lineno;
        rank_ids.insert(static_cast<int>(id));
        for (std::size_t k = i; k + 1 < t.size(); ++k)
          if (t[k] == "on") {
            run_hosts.insert(t[k + 1]);
            break;
          }
        if (log.gpu_name.empty()) {
          const auto close = line.find(']');
          if (close != std::string::npos) {
            std::string name = line.substr(close + 1);
            while (!name.empty() && name.front() == ' ') name.erase(name.begin());
            log.gpu_name = name;
          }
        }
      }
      continue;
    }
    // A data row: size count type [redop] [root] time algbw busbw #wrong [time algbw busbw #wrong].
    double size = 0, count = 0;
    if (t.size() < 3 || !number(t[0], size) || !number(t[1], count)) continue;
    if (!kTypes.count(t[2])) continue;
    if (log.rows.size() == kMaxLogRows)
      bad("more than " + std::to_string(kMaxLogRows) + " result rows: expected at most " +
          std::to_string(kMaxLogRows) + " per log (docs/limits.md); split the log or fit a size range");
    end_run();
    std::vector<double> nums;
    for (std::size_t k = 3; k < t.size(); ++k) {
      double v = 0;
      if (number(t[k], v)) nums.push_back(v);
      else if (t[k] == "N/A") nums.push_back(0);
    }
    // After the type: [redop] [root], then (time algbw busbw #wrong) once or twice; the numbers are
    // taken from the end.
    NcclTestsRow r;
    if (double v = 0; t.size() > 4 && !number(t[3], v)) {
      r.redop = t[3];
      if ((t.size() - 3) % 4 == 2 && number(t[4], v)) r.root = v;
    }
    r.bytes = size;
    r.line = lineno;
    if (nums.size() >= 8) {
      const std::size_t b = nums.size() - 8;
      r.time_us = nums[b], r.algbw_GBps = nums[b + 1], r.busbw_GBps = nums[b + 2];
      r.ip_time_us = nums[b + 4], r.ip_algbw_GBps = nums[b + 5], r.ip_busbw_GBps = nums[b + 6];
    } else if (nums.size() >= 4) {
      const std::size_t b = nums.size() - 4;
      r.time_us = nums[b], r.algbw_GBps = nums[b + 1], r.busbw_GBps = nums[b + 2];
    } else {
      bad("expected size, count, type, then time (us), algbw, busbw, #wrong for out-of-place (and in-place)");
    }
    if (!(r.time_us > 0)) bad("expected a positive out-of-place time (us), got " + std::to_string(r.time_us));
    // The bounds every input quantity has (docs/limits.md): a size no collective can have or a
    // time no network takes (1e-320 us) would be fitted into a topology SimGrid cannot run.
    if (!(r.bytes <= kMaxMessageBytes))
      bad("expected a size of at most 1 TiB (2^40 bytes) per collective, got " + io::format_number(r.bytes));
    for (double us : {r.time_us, r.ip_time_us})
      if (us != 0 && !(us * 1e-6 >= kMinLogTime_s && us * 1e-6 <= units::kTimeRange.hi))
        bad("expected times (us) of 0.001 (1 ns) .. 1e15 (1e9 s), got " + io::format_number(us));
    log.rows.push_back(r);
  }
  end_run();
  if (op.empty()) op = op_of(file);
  if (op.empty()) op = op_hint;
  if (op.empty()) op = op_of_table(log.rows, log.ranks);
  if (op.empty())
    throw std::invalid_argument(file + ": expected an nccl-tests log of all_reduce_perf, all_gather_perf, "
                                "reduce_scatter_perf or broadcast_perf (say which with --collective)");
  if (op != "allreduce" && op != "allgather" && op != "reduce_scatter" && op != "broadcast")
    throw std::invalid_argument(file + ": --collective: expected allreduce|allgather|reduce_scatter|broadcast, got \"" +
                                op + "\"");
  log.op = to_op(op);
  log.hosts = static_cast<int>(hosts.size());
  if (log.rows.empty())
    throw std::invalid_argument(file + ": expected nccl-tests result rows (size count type ... time algbw busbw), found none");
  return log;
}

NcclTestsLog load_nccl_tests_log(const std::string& path, const std::string& op_hint) {
  std::string text;
  try {
    text = io::read_file(path, kMaxLogBytes);
  } catch (const std::exception& e) {
    throw std::invalid_argument(path + ": cannot read the nccl-tests log (" + e.what() + ")");
  }
  return parse_nccl_tests_log(text, path, op_hint);
}

}  // namespace arcsim::sim
