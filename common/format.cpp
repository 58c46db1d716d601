#include "format.hpp"

#include <charconv>
#include <cstdint>
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

std::string escape_text(std::string_view text, std::size_t max) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  std::size_t chars = 0;
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    if (chars >= max) return out + "...";
    ++chars;
    const auto u = static_cast<unsigned char>(text[i]);
    auto byte_escape = [&](unsigned char b) { out += {'\\', 'x', hex[b >> 4], hex[b & 15]}; };
    if (u < 0x80) {
      if (u < 0x20 || u == 0x7f) byte_escape(u);
      else out.push_back(static_cast<char>(u));
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; anything malformed (overlong, surrogate, truncated) is one \xNN byte.
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((u & 0xe0) == 0xc0) len = 2, cp = u & 0x1f, min = 0x80;
    else if ((u & 0xf0) == 0xe0) len = 3, cp = u & 0x0f, min = 0x800;
    else if ((u & 0xf8) == 0xf0) len = 4, cp = u & 0x07, min = 0x10000;
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xc0) != 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (!ok) {
      byte_escape(u);
      ++i;
      continue;
    }
    const bool bidi = (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f;
    if (cp >= 0x80 && cp <= 0x9f) {
      byte_escape(static_cast<unsigned char>(cp));  // C1 controls (U+009B is a one-byte CSI)
    } else if (bidi) {
      out += {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]};
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace arcsim::io
