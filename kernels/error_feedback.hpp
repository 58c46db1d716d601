#pragma once
// The error-feedback variants: one table (name, description, value) from which the option table's
// `ef` choices, `--help` and the "expected none|ef14|ef21|ef21m" errors come, and the enum the
// compression code branches on.
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/vocabulary.hpp"

namespace arcsim::kernels {

enum class ErrorFeedback { none, ef14, ef21, ef21m };

inline constexpr vocab::Entry<ErrorFeedback> kErrorFeedbacks[] = {
    {"none", "no error feedback: out = Agg(C(g))", ErrorFeedback::none},
    {"ef14", "EF14 (Seide 2014): u = g + e, e = u - C(u)", ErrorFeedback::ef14},
    {"ef21", "EF21 (Richtarik 2021): e += C(g - e), out = running aggregate of e", ErrorFeedback::ef21},
    {"ef21m", "EF21-SGDM: momentum inside the EF21 loop (see momentum)", ErrorFeedback::ef21m},
};

// The variant called `name` (a configuration's `ef`); std::invalid_argument naming the field
// otherwise.
inline ErrorFeedback error_feedback(std::string_view name) {
  if (const auto* e = vocab::find(kErrorFeedbacks, name)) return e->value;
  throw std::invalid_argument("ef: " + vocab::expected(kErrorFeedbacks, name));
}

// EF21 and EF21M keep a running aggregate (ebar) and may start from a dense call.
inline bool is_ef21_family(ErrorFeedback e) { return e == ErrorFeedback::ef21 || e == ErrorFeedback::ef21m; }
inline bool is_ef21_family(std::string_view name) { return is_ef21_family(error_feedback(name)); }

}  // namespace arcsim::kernels
