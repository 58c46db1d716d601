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

// Untrusted text (a topology, trace, config or compressor name, a label, a path from input) shown
// on a terminal, in a table or in an error line: UTF-8 is kept, but control characters, DEL, C1
// controls, ESC (so no ANSI escape sequence) and bytes that are not valid UTF-8 are written as
// \xNN, and the bidi controls U+202A..U+202E, U+2066..U+2069, U+200E/U+200F as \uNNNN (so text
// cannot reorder what follows it). Cut after `max` characters with "..." (a 10 MB name is never
// printed whole). The one function for this: docs/limits.md "Untrusted text".
std::string escape_text(std::string_view text, std::size_t max = 200);

}  // namespace arcsim::io
