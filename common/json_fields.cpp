#include "json_fields.hpp"

#include <cmath>
#include <cstdint>
#include <new>
#include <vector>

#include "atomic_file.hpp"
#include "format.hpp"
#include "units.hpp"

namespace arcsim::json {

namespace {

// Where the parser is, for messages: the chain of keys and array indices down to the value being
// read, plus the keys already seen in each open object (duplicates are refused).
struct Frame {
  bool array = false;
  std::string key;
  std::size_t index = 0;
  std::set<std::string> keys;
};

std::string path_of(const std::vector<Frame>& stack) {
  std::string p;
  for (const auto& f : stack) {
    if (f.array) p += "[" + std::to_string(f.index) + "]";
    else if (!f.key.empty()) p += (p.empty() ? "" : ".") + io::printable(f.key);
  }
  return p.empty() ? "(root)" : p;
}

std::string line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

namespace {
// Most values (numbers, strings, arrays, objects...) in one JSON file: 2^25, about what 256 MiB of
// numbers of 8 characters hold (a plan of 32 all-to-all-v matrices of 1024 x 1024 ranks). Counted
// by one scan of the text before anything is parsed, so a 150 MB array of zeros (75 million
// values, 16 bytes each in nlohmann::json and twice that while its vector grows) is refused in
// one line instead of ending in std::bad_alloc.
inline constexpr std::uint64_t kMaxJsonValues = std::uint64_t{1} << 25;
}  // namespace

nlohmann::json parse_text(const std::string& text, const std::string& file) {
  {  // An upper bound of the values (each is first in its container or after a comma), before any
     // allocation: kMaxJsonValues.
    std::uint64_t values = 1;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == ',' || c == '[' || c == '{') {
        if (++values > kMaxJsonValues)
          throw ConfigError(file + ": expected at most " + std::to_string(kMaxJsonValues) +
                            " JSON values (docs/limits.md), got more by byte " + std::to_string(i + 1) + " of " +
                            std::to_string(text.size()));
      }
    }
  }
  using E = nlohmann::json::parse_event_t;
  std::vector<Frame> stack;
  auto after_value = [&] {
    if (!stack.empty() && stack.back().array) ++stack.back().index;
  };
  const nlohmann::json::parser_callback_t cb = [&](int, E event, nlohmann::json& parsed) {
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (static_cast<int>(stack.size()) >= kMaxJsonDepth)
          throw ConfigError(file + ": " + path_of(stack) + ": expected JSON nested at most " +
                            std::to_string(kMaxJsonDepth) + " levels deep");
        stack.push_back(Frame{event == E::array_start, "", 0, {}});
        break;
      case E::key: {
        auto& top = stack.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second)
          throw ConfigError(file + ": " + path_of(stack) +
                            ": duplicate key (expected each key once in an object)");
        break;
      }
      case E::object_end:
      case E::array_end:
        stack.pop_back();
        after_value();
        break;
      case E::value:
        after_value();
        break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(file + ": malformed JSON at " + line_column(text, e.byte ? e.byte - 1 : 0) + " (byte " +
                      std::to_string(e.byte) + "): expected valid JSON");
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: a number the lexer read but a double cannot hold ("1e999").
    std::string got;
    const std::string what = e.what();
    const auto q = what.find('\'');
    if (q != std::string::npos) got = ", got " + what.substr(q + 1, std::min<std::size_t>(what.rfind('\'') - q - 1, 40));
    throw ConfigError(file + ": " + path_of(stack) + ": expected a number a double can hold (magnitude below 1.8e308)" + got);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file + ": " + path_of(stack) + ": expected valid JSON");
  } catch (const std::bad_alloc&) {
    // Under kMaxJsonValues and still more than this machine's memory: name the file.
    throw ConfigError(file + ": out of memory reading the JSON (docs/limits.md: at most " +
                      std::to_string(kMaxJsonValues) + " values, " + std::to_string(kMaxJsonBytes >> 20) + " MiB)");
  }
}

nlohmann::json load_file(const std::string& path) {
  std::string text;
  try {
    text = io::read_file(path, kMaxJsonBytes);
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
  return parse_text(text, path);
}

std::string brief(const nlohmann::json& value) {
  std::string s = value.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

Fields::Fields(const nlohmann::json& object, std::string file, std::string path)
    : object_(object), file_(std::move(file)), path_(std::move(path)) {
  if (!object_.is_object())
    throw ConfigError(file_ + ": " + (path_.empty() ? "(root)" : path_) +
                      ": expected a JSON object, got " + brief(object_));
}

std::string Fields::field(const std::string& key) const {
  // Keys come from the input: quoted printably, so a message stays one line.
  return path_.empty() ? io::printable(key) : path_ + "." + io::printable(key);
}

void Fields::fail(const std::string& key, const std::string& expected) const {
  const auto it = object_.find(key);
  std::string got = it == object_.end() ? "nothing (missing)" : brief(*it);
  throw ConfigError(file_ + ": " + field(key) + ": expected " + expected + ", got " + got);
}

bool Fields::has(const std::string& key) const { return object_.contains(key); }

const nlohmann::json& Fields::required(const std::string& key) {
  used_.insert(key);
  auto it = object_.find(key);
  if (it == object_.end()) fail(key, "a value (required key)");
  return *it;
}

const nlohmann::json* Fields::optional(const std::string& key) {
  used_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

std::string Fields::string(const std::string& key) {
  const auto& v = required(key);
  if (!v.is_string()) fail(key, "a string");
  return v.get<std::string>();
}

std::string Fields::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : (used_.insert(key), fallback);
}

std::string Fields::choice(const std::string& key, const std::vector<std::string>& allowed,
                           const std::string& fallback) {
  std::string v = string_or(key, fallback);
  for (const auto& a : allowed)
    if (v == a) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  fail(key, "one of " + list);
}

double Fields::number(const std::string& key) {
  const auto& v = required(key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "a finite number");
  return v.get<double>();
}

double Fields::number_or(const std::string& key, double fallback) {
  return has(key) ? number(key) : (used_.insert(key), fallback);
}

std::int64_t Fields::integer(const std::string& key) {
  const auto& v = required(key);
  if (!v.is_number_integer()) fail(key, "an integer");
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
    fail(key, "an integer below 2^63");
  return v.get<std::int64_t>();
}

std::int64_t Fields::integer_or(const std::string& key, std::int64_t fallback) {
  return has(key) ? integer(key) : (used_.insert(key), fallback);
}

bool Fields::boolean_or(const std::string& key, bool fallback) {
  if (!has(key)) return used_.insert(key), fallback;
  const auto& v = required(key);
  if (!v.is_boolean()) fail(key, "true or false");
  return v.get<bool>();
}

double Fields::bandwidth(const std::string& key) {
  const auto& v = required(key);
  if (!v.is_string()) fail(key, "a bandwidth string with a unit such as \"100Gbps\"");
  try {
    return units::parse_bandwidth_Bps(v.get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw ConfigError(file_ + ": " + field(key) + ": " + e.what());
  }
}

double Fields::time(const std::string& key) {
  const auto& v = required(key);
  if (!v.is_string()) fail(key, "a time string with a unit such as \"5us\"");
  try {
    return units::parse_time_s(v.get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw ConfigError(file_ + ": " + field(key) + ": " + e.what());
  }
}

double Fields::time_or(const std::string& key, double fallback) {
  return has(key) ? time(key) : (used_.insert(key), fallback);
}

double Fields::latency(const std::string& key) {
  const auto& v = required(key);
  if (!v.is_string()) fail(key, "a latency string with a unit such as \"5us\"");
  try {
    return units::parse_latency_s(v.get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw ConfigError(file_ + ": " + field(key) + ": " + e.what());
  }
}

double Fields::latency_or(const std::string& key, double fallback) {
  return has(key) ? latency(key) : (used_.insert(key), fallback);
}

double Fields::size(const std::string& key) {
  const auto& v = required(key);
  if (v.is_number()) {
    if (v.get<double>() < 0) fail(key, "a non-negative size");
    if (v.get<double>() > units::kMaxSizeBytes) fail(key, "a size of at most 2^53 bytes");
    return v.get<double>();
  }
  if (!v.is_string()) fail(key, "a size such as \"25MiB\" or a number of bytes");
  try {
    return units::parse_size_bytes(v.get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw ConfigError(file_ + ": " + field(key) + ": " + e.what());
  }
}

double Fields::size_or(const std::string& key, double fallback) {
  return has(key) ? size(key) : (used_.insert(key), fallback);
}

void Fields::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it)
    if (!used_.count(it.key()))
      throw ConfigError(file_ + ": " + field(it.key()) + ": unknown key");
}

}  // namespace arcsim::json
