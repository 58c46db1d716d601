#pragma once
// Number formatting for results files. Bit-for-bit reproducible output needs one rule, used
// everywhere: the shortest decimal that reads back to the same double (std::to_chars), with no
// locale and no precision knob that could drift between writers.
#include <cstddef>
#include <string>
#include <string_view>

namespace arcsim::io {

// Shortest round-trip decimal: 0.1 -> "0.1", 1e-07 -> "1e-07", 25 -> "25". NaN/Inf are refused
// (std::invalid_argument): a results file must never carry them.
std::string format_number(double value);

// A file-name-safe rendering of a label, one to one: [A-Za-z0-9._-] kept, any other byte written
// as %XX (so labels "a/b" and "a_b" get different files, "a%2Fb" and "a_b"); "" becomes "%".
std::string safe_name(const std::string& text);

// Input quoted in an error message: control and non-ASCII bytes as \xNN, cut to `max` characters
// with "...", so a message stays one readable line whatever the input held.
std::string printable(std::string_view text, std::size_t max = 60);

}  // namespace arcsim::io
