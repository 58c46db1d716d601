#pragma once
// Validation before writing: a command checks what it is about to write with the reader its
// consumer uses (serialized, then re-read and parsed in memory, or staged and read back), and only
// then writes it atomically. A refused output is never written: the old file stays as it was, and
// the error names the flag that caused it (`--nodes`), not a field of the written file (`nodes[0]`).
//
//   io::write_validated(out, spec.dump(2) + "\n", [&](const std::string& text) { parse_spec(...); },
//                       {"--out", out}, {{"--nodes", {"nodes"}}, {"--compute", {"compute"}}});
#include <cmath>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace arcsim::io {

// A flag the user gave and the words a reader's message uses for what that flag set in the written
// file (field names such as "nodes", "compute:"). Only flags actually given should be passed.
struct FlagFields {
  std::string flag;
  std::vector<std::string> words;
};

// The flag naming the output itself, and its path: blamed when no other flag's words match.
struct OutputFlag {
  std::string flag, path;
};

// Runs `check`; when it throws, throws std::runtime_error
//   "<flag>: refused before writing <path>: <the reader's message>"
// where <flag> is the first of `flags` one of whose words occurs in the message (with every
// occurrence of `output.path` and of `hide` removed first, so a directory name cannot match), else
// output.flag. Nothing is written.
void check_before_writing(const std::function<void()>& check, const OutputFlag& output,
                          const std::vector<FlagFields>& flags, const std::vector<std::string>& hide = {});

// check_before_writing(check(text)), then write_file_atomic(output.path, text).
void write_validated(const std::string& text, const std::function<void(const std::string&)>& check,
                     const OutputFlag& output, const std::vector<FlagFields>& flags,
                     const std::vector<std::string>& hide = {});

// A computed output is finite before it is written: throws std::runtime_error
//   "<what>: element <i> of the result is <inf|-inf|nan>: <why>; nothing written"
// naming the first element that is not (an aggregate whose sum overflowed float32 was written as
// all inf with exit 0).
inline void check_finite_values(const float* v, std::size_t n, const std::string& what, const std::string& why) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]))
      throw std::runtime_error(what + ": element " + std::to_string(i) + " of the result is " +
                               (std::isnan(v[i]) ? "nan" : v[i] > 0 ? "inf" : "-inf") + ": " + why +
                               "; nothing written");
}

}  // namespace arcsim::io
