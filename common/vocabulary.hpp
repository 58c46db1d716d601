#pragma once
// Vocabularies: the closed sets of names users write (a network profile, a collective algorithm,
// a step phase, a result status). Each is declared once as a table of entries {name, description,
// value}, and everything that speaks the vocabulary reads that table: parsing, `--help` text and
// the "expected a|b|c, got x" errors. A new name is one new row; no list is repeated elsewhere.
//
//   constexpr vocab::Entry<ProfileKind> kProfiles[] = {{"ideal", "closed forms", ProfileKind::ideal}, ...};
//   const auto* e = vocab::find(kProfiles, name);        // nullptr when unknown
//   vocab::names(kProfiles)                               // "ideal|nccl|tcp"
//   vocab::help(kProfiles)                                // "ideal: closed forms; nccl: ..."
//   vocab::expected(kProfiles, name)                      // "expected ideal|nccl|tcp, got \"fast\""
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/format.hpp"

namespace arcsim::vocab {

template <class V>
struct Entry {
  std::string_view name;
  std::string_view description;  // one line, for --help and docs
  V value{};
};

// The entry called `name`, or nullptr.
template <class V>
const Entry<V>* find(std::span<const Entry<V>> table, std::string_view name) {
  for (const auto& e : table)
    if (e.name == name) return &e;
  return nullptr;
}
template <class V, std::size_t N>
const Entry<V>* find(const Entry<V> (&table)[N], std::string_view name) {
  return find(std::span<const Entry<V>>(table), name);
}

// The names in table order, joined by `sep`: "ideal|nccl|tcp".
template <class V>
std::string names(std::span<const Entry<V>> table, std::string_view sep = "|") {
  std::string s;
  for (const auto& e : table) {
    if (!s.empty()) s += sep;
    s += e.name;
  }
  return s;
}
template <class V, std::size_t N>
std::string names(const Entry<V> (&table)[N], std::string_view sep = "|") {
  return names(std::span<const Entry<V>>(table), sep);
}

template <class V>
std::vector<std::string> name_list(std::span<const Entry<V>> table) {
  std::vector<std::string> v;
  for (const auto& e : table) v.emplace_back(e.name);
  return v;
}
template <class V, std::size_t N>
std::vector<std::string> name_list(const Entry<V> (&table)[N]) {
  return name_list(std::span<const Entry<V>>(table));
}

// "name: description" for every entry, joined by `sep` (--help text, docs).
template <class V>
std::string help(std::span<const Entry<V>> table, std::string_view sep = "; ") {
  std::string s;
  for (const auto& e : table) {
    if (!s.empty()) s += sep;
    s += std::string(e.name) + ": " + std::string(e.description);
  }
  return s;
}
template <class V, std::size_t N>
std::string help(const Entry<V> (&table)[N], std::string_view sep = "; ") {
  return help(std::span<const Entry<V>>(table), sep);
}

// The one wording of a bad name: "expected a|b|c, got \"x\"" (the input quoted printably).
inline std::string expected(const std::string& names, std::string_view got) {
  return "expected " + names + ", got \"" + io::printable(got) + "\"";
}
template <class V>
std::string expected(std::span<const Entry<V>> table, std::string_view got) {
  return expected(names(table), got);
}
template <class V, std::size_t N>
std::string expected(const Entry<V> (&table)[N], std::string_view got) {
  return expected(names(table), got);
}

}  // namespace arcsim::vocab
