#pragma once
// Strict reading of JSON configs: every error is one line naming the file, the field and what was
// expected; unknown keys are refused (a typo must not silently fall back to a default).
//
//   auto j = arcsim::json::load_file("exp.json");
//   arcsim::json::Fields f(j, "exp.json", "");        // "" = the root object
//   double bw = f.bandwidth("bandwidth");              // "100Gbps" -> bytes/s
//   int n = f.integer_or("nodes", 8);
//   f.finish();                                        // throws on any key not read
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arcsim::json {

// Thrown for every config error; what() is "<file>: <field>: expected ..., got ...".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Largest JSON file any reader accepts (256 MiB: a trace.json of a billion-parameter layout with
// long convergence logs is a few MB).
inline constexpr std::uint64_t kMaxJsonBytes = std::uint64_t{256} << 20;
// Deepest nesting accepted (no arcsim format nests deeper than 8; the bound keeps recursive
// printing and destruction of hostile input off the stack's edge).
inline constexpr int kMaxJsonDepth = 64;

// Parses a JSON file; a missing file, a directory, a FIFO, malformed JSON, a duplicate key in an
// object, a number that does not fit a double ("1e999") or nesting deeper than kMaxJsonDepth is
// a ConfigError naming the file (and the field where there is one). Every arcsim JSON reader
// goes through load_file or parse_text, so these rules hold for all formats.
nlohmann::json load_file(const std::string& path);
nlohmann::json parse_text(const std::string& text, const std::string& file_for_errors);

class Fields {
 public:
  Fields(const nlohmann::json& object, std::string file, std::string path);

  bool has(const std::string& key) const;
  const nlohmann::json& required(const std::string& key);
  const nlohmann::json* optional(const std::string& key);  // nullptr when absent

  std::string string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     const std::string& fallback);
  double number(const std::string& key);
  double number_or(const std::string& key, double fallback);
  std::int64_t integer(const std::string& key);
  std::int64_t integer_or(const std::string& key, std::int64_t fallback);
  bool boolean_or(const std::string& key, bool fallback);
  double bandwidth(const std::string& key);     // "100Gbps" -> bytes/s
  double time(const std::string& key);          // "5us" -> seconds
  double time_or(const std::string& key, double fallback);
  double latency(const std::string& key);       // "5us" -> seconds, in units::kLatencyRange
  double latency_or(const std::string& key, double fallback);
  double size(const std::string& key);          // "25MiB" or a number -> bytes
  double size_or(const std::string& key, double fallback);

  // Throws a ConfigError naming the first key that was never read.
  void finish() const;

  // "<path>.<key>" for messages and nested Fields.
  std::string field(const std::string& key) const;
  const std::string& file() const { return file_; }
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json& object_;
  std::string file_, path_;
  std::set<std::string> used_;
};

// Short rendering of a JSON value for error messages.
std::string brief(const nlohmann::json& value);

}  // namespace arcsim::json
