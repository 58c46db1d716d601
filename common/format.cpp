#include "format.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

namespace arcsim::io {

std::string format_number(double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("format_number: non-finite value");
  if (value == 0) return "0";  // also folds -0 into 0
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) throw std::invalid_argument("format_number: cannot format value");
  return std::string(buf, end);
}

std::string safe_name(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (ok) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += {'%', hex[u >> 4], hex[u & 15]};
    }
  }
  return out.empty() ? "%" : out;
}

std::string printable(std::string_view text, std::size_t max) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    if (out.size() >= max) return out + "...";
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) out.push_back(c);
    else out += {'\\', 'x', hex[u >> 4], hex[u & 15]};
  }
  return out;
}

}  // namespace arcsim::io
