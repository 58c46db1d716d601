#pragma once
// Command-line values that Boost would read too leniently: an unsigned option given "-1" wraps to
// 2^64-1 in boost::lexical_cast. Each throws std::invalid_argument "--flag: expected ..., got ...".
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/units.hpp"

namespace arcsim::cli {

inline std::uint64_t parse_unsigned(const std::string& flag, const std::string& text) {
  std::size_t used = 0;
  unsigned long long v = 0;
  bool ok = !text.empty() && text[0] >= '0' && text[0] <= '9';
  if (ok) {
    try {
      v = std::stoull(text, &used, 10);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != text.size())
    throw std::invalid_argument(flag + ": expected an integer in 0..18446744073709551615, got \"" + text + "\"");
  return v;
}

// A size ("25MiB", "1e6", ...) given to `flag`; units' message, prefixed with the flag.
inline double parse_size_flag(const std::string& flag, const std::string& text) {
  try {
    return units::parse_size_bytes(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(flag + ": " + e.what());
  }
}

}  // namespace arcsim::cli
