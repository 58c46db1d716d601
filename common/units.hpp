#pragma once
// Quantities with units, as users write them in JSON and on the command line.
//   bandwidth: "100Gbps", "12.5GBps", "400Mbps", "1e9Bps"  (bit/s with lower-case b, byte/s with B)
//   time:      "5us", "1.5ms", "2s", "100ns"
//   size:      "25MiB", "1MB", "4096B", "1GiB", "1TiB", "2PiB" (bounded by kMaxSizeBytes, 8 PiB)
// A bare number is refused for bandwidth and time (a unit-less value is the classic silent
// factor-of-8 or factor-of-1e6 error). Sizes accept a bare number of bytes.
#include <string>
#include <string_view>

namespace arcsim::units {

// Largest size any input may give (2^53 bytes = 8 PiB): every byte count up to it is exact in a
// double and fits an int64 with room for sums; anything larger is a typo (1e30), never a buffer.
inline constexpr double kMaxSizeBytes = 9007199254740992.0;

// The bounds table: the range every physical quantity must lie in, wherever it comes from (a
// flag, a spec, a topology file, a fit). Values outside would reach SimGrid as numbers its
// max-min solver cannot take (a subnormal bandwidth or latency aborts it: "maxmin.cpp:17
// Impossible", exit 134, or the simulation ends in "Deadlock detected"). docs/limits.md.
struct Range {
  double lo, hi;       // inclusive
  bool zero_ok;        // 0 is accepted besides [lo, hi]
  const char* text;    // as error messages and docs show it
};
// Bandwidth, bytes/s: 1 kbit/s (a slow modem link) .. 100 Tbit/s (50x an NVLink-5 GPU's 1.8 TB/s).
inline constexpr Range kBandwidthRange{125.0, 1.25e13, false, "1kbps..100Tbps"};
// Latency of a link or a per-message overhead, seconds: 0, or 1 ns .. 10 s (a satellite hop is 0.6 s).
inline constexpr Range kLatencyRange{1e-9, 10.0, true, "0 or 1ns..10s"};
// Any other time (timeouts, compute durations given with a unit): 0, or 1 ps .. 1e9 s.
inline constexpr Range kTimeRange{1e-12, 1e9, true, "0 or 1ps..1e9s"};

// Throws std::invalid_argument "expected a <what> in <range>, got <value>" when `v` is outside
// `r` (NaN, infinity, subnormal and negative values included).
void check_range(double v, const Range& r, const char* what, std::string_view given = {});
inline void check_bandwidth_Bps(double v) { check_range(v, kBandwidthRange, "bandwidth"); }
inline void check_latency_s(double v) { check_range(v, kLatencyRange, "latency"); }

// Each throws std::invalid_argument whose what() says what was expected and what was given.
double parse_bandwidth_Bps(std::string_view text);  // -> bytes per second, in kBandwidthRange
double parse_time_s(std::string_view text);         // -> seconds, in kTimeRange
double parse_latency_s(std::string_view text);      // -> seconds, in kLatencyRange
double parse_size_bytes(std::string_view text);     // -> bytes, 0 <= bytes <= kMaxSizeBytes

std::string format_bandwidth(double bytes_per_s);   // "100Gbps"
std::string format_time(double seconds);            // "5us"

}  // namespace arcsim::units
