#pragma once
// Writing files so that a reader never sees a half-written one and a crash never destroys the
// previous version: write "<path>.tmp.<pid>", flush, fsync, then rename over <path>.
#include <string>
#include <string_view>

namespace arcsim::io {

// Throws std::runtime_error naming the path on any failure; the temporary file is removed.
void write_file_atomic(const std::string& path, std::string_view content);

// Reads a whole file; throws std::runtime_error "<path>: cannot open file".
std::string read_file(const std::string& path);

}  // namespace arcsim::io
