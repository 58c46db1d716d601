#pragma once
// The output-path guard: one check every command that writes a file makes before any work, so
// that no command can destroy its own input (or a trace) by being told to write over it.
//
// A command declares its inputs and outputs, each with the flag that named it, then calls check():
//
//   io::OutputGuard("init").input_trace("TRACE", trace_dir).output("--out", out).check();
//
// An output is refused (std::runtime_error, one line naming both paths and both flags; main()
// prints it as "arcsim <command>: error: ..." and exits 2) when it
//   - is an input file: the same path once symlinks, "..", "." are resolved
//     (std::filesystem::weakly_canonical), or, where both exist, the same device and inode
//     (a hard link);
//   - is inside an input trace directory, or is a hard link to a file inside one;
//   - is inside any other trace directory (a directory holding trace.json): a trace is written
//     whole (record, trace copy) or not at all, never one file into it;
//   - is the same file as another output of the same command;
//   - (an output directory) is or contains an input trace directory, or is an input file.
// A path that does not exist yet is compared by its resolved name only. Nothing is created.
#include <stdexcept>
#include <string>
#include <vector>

namespace arcsim::io {

class OutputGuard {
 public:
  explicit OutputGuard(std::string command) : command_(std::move(command)) {}

  // An input file (a spec, a .npy, a log, a calibration file). Empty paths are ignored.
  OutputGuard& input(const std::string& flag, const std::string& path);
  // An input trace directory: no output may be it, inside it or a hard link to a file in it.
  OutputGuard& input_trace(const std::string& flag, const std::string& dir);
  // An output file. Empty paths are ignored (an optional output not given).
  OutputGuard& output(const std::string& flag, const std::string& path);
  // An output directory the command writes files under (trace copy --out, plot --out).
  OutputGuard& output_dir(const std::string& flag, const std::string& dir);

  // Throws std::runtime_error "<flag> <path>: refused: ..." for the first refused output.
  void check() const;

 private:
  struct Named {
    std::string flag, path;
  };
  std::string command_;
  std::vector<Named> inputs_, traces_, outputs_, output_dirs_;
};

// The nearest directory at or above `path` (resolved) that holds a trace.json, or "" when none.
std::string enclosing_trace_dir(const std::string& path);

}  // namespace arcsim::io
