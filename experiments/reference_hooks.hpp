#pragma once
// The comm hooks shipped in arcsim/reference_hooks.py, one per registry compressor that has one:
// what `implementation: "hook"` records when a spec entry names no `hook` (docs/hooks.md).
#include <string>

namespace arcsim::experiments {

// MODULE:FUNCTION of the compressor's shipped hook, or "" when it has none.
std::string reference_hook(const std::string& compressor);

}  // namespace arcsim::experiments
