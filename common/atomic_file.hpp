#pragma once
// Writing files so that a reader never sees a half-written one, a crash never destroys the
// previous version, and nothing but the named target is ever touched:
//   - the target, if it exists, must be a regular file (a device, FIFO, directory or socket given
//     as an output is refused, never replaced by a regular file);
//   - the temporary is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) in the target's directory
//     under an unpredictable name ".<name>.tmp.<pid>.<random>", so a planted symlink or file at
//     a guessable name cannot redirect the write; it is fsync'ed, then renamed over the target;
//   - temporaries of the same target left by a killed process (its pid no longer runs) are
//     removed by the next write of that target.
// Reading is bounded: only regular files are read (a FIFO or /dev/zero would block or never end)
// and the size is checked before anything is allocated.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcsim::io {

// Largest file read_file reads unless told otherwise (16 GiB: more than any gradient sample a
// trace holds for the paper's models, and well below the memory of the machines we run on).
inline constexpr std::uint64_t kMaxReadBytes = std::uint64_t{16} << 30;

// Throws std::runtime_error naming the path on any failure; the temporary file is removed.
void write_file_atomic(const std::string& path, std::string_view content);

// All files or none of them: every target is checked and every temporary written and synced
// before the first rename, so a failure in any of them (bad target, full disk) leaves every
// target as it was. Used where one command writes several outputs (an aggregate and its report).
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files);

// Throws std::runtime_error "<path>: ..." when `path` cannot be an output: it exists and is not
// a regular file, or its directory does not exist. Commands call it for every output before
// they start work, so a bad output path costs nothing.
void check_output_path(const std::string& path);

// Reads a whole regular file of at most `max_bytes`; throws std::runtime_error "<path>: ..."
// for a missing file, a directory, a FIFO/device/socket, or a file over the limit.
std::string read_file(const std::string& path, std::uint64_t max_bytes = kMaxReadBytes);

}  // namespace arcsim::io
