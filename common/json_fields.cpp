#include "json_fields.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "units.hpp"

namespace arcsim::json {

nlohmann::json load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": malformed JSON at byte " + std::to_string(e.byte) +
                      ": expected valid JSON");
  }
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
  return path_.empty() ? key : path_ + "." + key;
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

double Fields::size(const std::string& key) {
  const auto& v = required(key);
  if (v.is_number()) {
    if (v.get<double>() < 0) fail(key, "a non-negative size");
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
