#include "units.hpp"

#include "format.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

namespace arcsim::units {
namespace {

// Splits "12.5GBps" into 12.5 and "GBps"; throws if there is no leading number.
std::pair<double, std::string> split(std::string_view text, const char* what) {
  std::string s(text);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  const char* begin = s.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(v))
    throw std::invalid_argument(std::string("expected ") + what + ", got \"" + io::printable(s) + "\"");
  std::string unit(end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  return {v, unit};
}

double parse_time_in(std::string_view text, const Range& range, const char* quantity) {
  const char* what = "a time with a unit such as \"5us\", \"1ms\" or \"2s\"";
  auto [v, unit] = split(text, what);
  static const std::pair<const char*, double> kUnits[] = {
      {"s", 1.0}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}, {"ps", 1e-12}, {"min", 60.0}, {"h", 3600.0}};
  for (auto& [name, factor] : kUnits)
    if (unit == name) {
      if (v < 0) throw std::invalid_argument(std::string("expected a non-negative time, got \"") +
                                             io::printable(text) + "\"");
      if (!std::isfinite(v * factor))
        throw std::invalid_argument(std::string("expected a finite time, got \"") + io::printable(text) + "\"");
      check_range(v * factor, range, quantity, text);
      return v * factor;
    }
  throw std::invalid_argument(std::string("expected ") + what + ", got \"" + io::printable(text) + "\"");
}

}  // namespace

void check_range(double v, const Range& r, const char* what, std::string_view given) {
  if ((r.zero_ok && v == 0) || (v >= r.lo && v <= r.hi)) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  throw std::invalid_argument(std::string("expected a ") + what + " of " + r.text + ", got \"" +
                              (given.empty() ? std::string(buf) : io::printable(given)) + "\" (docs/limits.md)");
}

double parse_bandwidth_Bps(std::string_view text) {
  const char* what = "a bandwidth with a unit such as \"100Gbps\" or \"12.5GBps\"";
  auto [v, unit] = split(text, what);
  static const std::pair<const char*, double> kUnits[] = {
      {"bps", 1.0 / 8},  {"Kbps", 1e3 / 8}, {"kbps", 1e3 / 8}, {"Mbps", 1e6 / 8}, {"Gbps", 1e9 / 8},
      {"Tbps", 1e12 / 8}, {"Bps", 1.0},      {"KBps", 1e3},     {"kBps", 1e3},     {"MBps", 1e6},
      {"GBps", 1e9},      {"TBps", 1e12},    {"KiBps", 1024.0}, {"MiBps", 1048576.0},
      {"GiBps", 1073741824.0}};
  for (auto& [name, factor] : kUnits)
    if (unit == name) {
      if (!(v > 0)) throw std::invalid_argument(std::string("expected a positive bandwidth, got \"") +
                                                io::printable(text) + "\"");
      if (!std::isfinite(v * factor))
        throw std::invalid_argument(std::string("expected a finite bandwidth, got \"") + io::printable(text) + "\"");
      check_range(v * factor, kBandwidthRange, "bandwidth", text);
      return v * factor;
    }
  throw std::invalid_argument(std::string("expected ") + what + ", got \"" + io::printable(text) + "\"");
}

double parse_time_s(std::string_view text) { return parse_time_in(text, kTimeRange, "time"); }

double parse_latency_s(std::string_view text) { return parse_time_in(text, kLatencyRange, "latency"); }

double parse_size_bytes(std::string_view text) {
  const char* what = "a size such as \"25MiB\", \"1MB\", \"1TiB\" or a number of bytes (units B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB)";
  auto [v, unit] = split(text, what);
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1.0},   {"B", 1.0},      {"KB", 1e3},         {"kB", 1e3},           {"MB", 1e6},
      {"GB", 1e9}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
      {"TB", 1e12}, {"TiB", 1099511627776.0}, {"PB", 1e15}, {"PiB", 1125899906842624.0}};
  for (auto& [name, factor] : kUnits)
    if (unit == name) {
      if (v < 0) throw std::invalid_argument(std::string("expected a non-negative size, got \"") +
                                             io::printable(text) + "\"");
      if (!(v * factor <= kMaxSizeBytes))
        throw std::invalid_argument(std::string("expected a size of at most 2^53 bytes (8 PiB), got \"") +
                                    io::printable(text) + "\"");
      return v * factor;
    }
  throw std::invalid_argument(std::string("expected ") + what + ", got \"" + io::printable(text) + "\"");
}

std::string format_bandwidth(double bytes_per_s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%gGbps", bytes_per_s * 8 / 1e9);
  return buf;
}

std::string format_time(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%gus", seconds * 1e6);
  return buf;
}

}  // namespace arcsim::units
