#pragma once
// Quantities with units, as users write them in JSON and on the command line.
//   bandwidth: "100Gbps", "12.5GBps", "400Mbps", "1e9Bps"  (bit/s with lower-case b, byte/s with B)
//   time:      "5us", "1.5ms", "2s", "100ns"
//   size:      "25MiB", "1MB", "4096B", "1GiB"
// A bare number is refused for bandwidth and time (a unit-less value is the classic silent
// factor-of-8 or factor-of-1e6 error). Sizes accept a bare number of bytes.
#include <string>
#include <string_view>

namespace arcsim::units {

// Largest size any input may give (2^53 bytes = 8 PiB): every byte count up to it is exact in a
// double and fits an int64 with room for sums; anything larger is a typo (1e30), never a buffer.
inline constexpr double kMaxSizeBytes = 9007199254740992.0;

// Each throws std::invalid_argument whose what() says what was expected and what was given.
double parse_bandwidth_Bps(std::string_view text);  // -> bytes per second, > 0 and finite
double parse_time_s(std::string_view text);         // -> seconds, >= 0
double parse_size_bytes(std::string_view text);     // -> bytes, 0 <= bytes <= kMaxSizeBytes

std::string format_bandwidth(double bytes_per_s);   // "100Gbps"
std::string format_time(double seconds);            // "5us"

}  // namespace arcsim::units
