#pragma once
// The status of a result row (results.csv/json column `status`). Rows are written when done, so
// files hold only `ok` and `failed`; `pending` is the in-memory state before a point has run.
#include <stdexcept>
#include <string>

#include "common/vocabulary.hpp"

namespace arcsim::experiments {

enum class RowStatus { pending, ok, failed };

inline constexpr vocab::Entry<RowStatus> kRowStatuses[] = {
    {"pending", "not run yet (in memory only: files never hold it)", RowStatus::pending},
    {"ok", "every iteration shape of the point was simulated", RowStatus::ok},
    {"failed", "a simulation failed, crashed or timed out: `error` says which and why", RowStatus::failed},
};

inline std::string status_name(RowStatus s) {
  for (const auto& e : kRowStatuses)
    if (e.value == s) return std::string(e.name);
  return "?";
}

// A status read back from a results file; throws std::invalid_argument "status: expected ...".
inline RowStatus parse_status(const std::string& name) {
  if (const auto* e = vocab::find(kRowStatuses, name)) return e->value;
  throw std::invalid_argument("status: " + vocab::expected(kRowStatuses, name));
}

}  // namespace arcsim::experiments
