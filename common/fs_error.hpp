#pragma once
// std::filesystem errors as one line a user can act on. The library's own text ("filesystem error:
// status: File name too long [a/b...]", "cannot create directories: Not a directory") names neither
// the flag nor what was expected; these helpers translate by error code, name the path (escaped,
// cut to 200 characters) and, where known, the flag that gave it. cli/main.cpp translates any
// filesystem_error a command lets through; `create_output_directory` is used where a command
// creates the directory it was told to write into. docs/limits.md "Paths".
#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "common/format.hpp"

namespace arcsim::io {

// What an error code means for a path a user gave, as the one line says it.
inline std::string describe_path_error(const std::error_code& ec) {
  switch (ec.value()) {
    case ENAMETOOLONG:
      return "file name too long (at most 255 bytes per name, 4096 per path; a long label or name makes a long file name)";
    case ENOTDIR: return "a component of the path is not a directory";
    case ELOOP: return "too many levels of symbolic links (a symlink loop in the path)";
    case EACCES:
    case EPERM: return "permission denied";
    case EROFS: return "read-only file system";
    case ENOSPC: return "no space left on device";
    case EDQUOT: return "disk quota exceeded";
    case ENOENT: return "no such file or directory";
    case EEXIST: return "exists and is not a directory";
    case EISDIR: return "is a directory";
    default: return ec.message();
  }
}

// "PATH: <meaning>" or "FLAG PATH: <meaning>" for a filesystem_error (path1, else path2, else none).
inline std::string describe(const std::filesystem::filesystem_error& e, const std::string& flag = {}) {
  const auto& p = !e.path1().empty() ? e.path1() : e.path2();
  std::string where = flag;
  if (!p.empty()) where += (where.empty() ? "" : " ") + escape_text(p.string());
  if (where.empty()) where = "a path";
  return where + ": " + describe_path_error(e.code());
}

// Creates `dir` and its parents; any failure is std::invalid_argument "FLAG DIR: cannot create the
// directory: <meaning>".
inline void create_output_directory(const std::string& flag, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec && std::filesystem::is_directory(dir, ec)) return;
  if (!ec) ec = std::make_error_code(std::errc::not_a_directory);
  throw std::invalid_argument(flag + " " + escape_text(dir.string()) + ": cannot create the directory: " +
                              describe_path_error(ec));
}

}  // namespace arcsim::io
