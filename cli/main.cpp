// arcsim: the single entry point. Dispatches to one subcommand; turns any error into one line on
// stderr and exit status 2 (3 when the requested kernel backend is not available here, e.g.
// --backend cuda without a device). What a command printed is flushed and checked before the exit
// status is decided: a write to standard output that failed (a full disk, /dev/full, a closed
// pipe) is one line on stderr and exit status 1, never a success.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>

#include "arcsim/version.hpp"
#include "commands.hpp"
#include "common/format.hpp"
#include "common/fs_error.hpp"
#include "kernels/backend.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"sweep", arcsim::cli::cmd_sweep, "simulate every point of an experiment; write results and plots"},
    {"init", arcsim::cli::cmd_init, "write an experiment spec that matches a trace's convergence logs"},
    {"breakeven", arcsim::cli::cmd_breakeven, "where a compressor's speedup over dense crosses 1 (bisection)"},
    {"plot", arcsim::cli::cmd_plot, "paper-ready figures (PDF + PNG) from a results directory"},
    {"simulate", arcsim::cli::cmd_simulate, "simulate one collective or one training iteration"},
    {"compress", arcsim::cli::cmd_compress, "apply a compressor to per-worker .npy gradients"},
    {"compressors", arcsim::cli::cmd_compressors, "the compressors, their options, defaults and accepted values"},
    {"replay", arcsim::cli::cmd_replay, "run the kernels on a trace: plans, kernel times, quality"},
    {"record", arcsim::cli::cmd_record, "record a gradient trace with PyTorch (emulated workers or real DDP ranks)"},
    {"testbed", arcsim::cli::cmd_testbed, "run | validate | clean: real compressed training on an emulated cluster"},
    {"trace", arcsim::cli::cmd_trace, "validate | info: check or describe a trace directory"},
    {"topology", arcsim::cli::cmd_topology, "show: hosts, links and route hop counts of a topology"},
    {"calibrate", arcsim::cli::cmd_calibrate, "time the GPU kernels and write a calibration file"},
};

void usage(FILE* out) {
  std::fprintf(out,
               "arcsim %s (%s): time-to-accuracy of compressed data-parallel training, simulated\n\n"
               "usage: arcsim <command> [options]   (arcsim <command> --help for its options)\n\n"
               "commands:\n",
               arcsim::kVersion, arcsim::kGitCommit);
  for (const auto& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
}

// Flushes std::cout and stdout and checks that every write to them succeeded. A command's exit
// status `rc` of 0 becomes 1, with one line on stderr, when something it printed was lost; a
// failing command keeps its own status and its own error line.
int finish_stdout(const char* command, int rc) {
  errno = 0;
  std::cout.flush();
  int err = std::fflush(stdout) != 0 ? errno : 0;
  if (!std::ferror(stdout) && std::cout.good() && err == 0) return rc;
  if (err == 0) {
    // An earlier write failed and its data was dropped: write once more to learn why.
    std::clearerr(stdout);
    std::fputc('\n', stdout);
    if (std::fflush(stdout) != 0) err = errno;
  }
  if (rc != 0) return rc;
  std::fprintf(stderr, "arcsim %s: error: writing standard output: %s\n", command,
               err ? std::strerror(err) : "a write failed");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "arcsim: error: expected a command (arcsim --help lists them)\n");
    return 2;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    usage(stdout);
    return finish_stdout("help", 0);
  }
  if (name == "--version") {
    std::printf("arcsim %s (%s)\n", arcsim::kVersion, arcsim::kGitCommit);
    return finish_stdout("--version", 0);
  }
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      const int rc = c.run(argc - 1, argv + 1);
      return finish_stdout(c.name, rc);
    } catch (const std::bad_alloc&) {
      // No library wording ("std::bad_alloc", "vector::_M_default_append") reaches the user.
      std::fflush(stdout);
      std::fprintf(stderr, "arcsim %s: error: out of memory: the input asks for more memory than this machine has "
                   "(sizes and limits: docs/limits.md)\n", c.name);
      return 2;
    } catch (const std::length_error&) {
      std::fflush(stdout);
      std::fprintf(stderr, "arcsim %s: error: a size derived from the input is too large to allocate "
                   "(sizes and limits: docs/limits.md)\n", c.name);
      return 2;
    } catch (const std::filesystem::filesystem_error& e) {
      // Never the library's "filesystem error: status: File name too long [...]": the path and what
      // its error code means, one line (common/fs_error.hpp).
      std::fflush(stdout);
      std::fprintf(stderr, "arcsim %s: error: %s\n", c.name,
                   arcsim::io::printable(arcsim::io::describe(e), 4000).c_str());
      return 2;
    } catch (const arcsim::kernels::BackendUnavailable& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "arcsim %s: error: %s\n", c.name, e.what());
      return 3;
    } catch (const std::exception& e) {
      std::fflush(stdout);
      // One line whatever the message quotes from the input (a name holding a newline, binary).
      std::fprintf(stderr, "arcsim %s: error: %s\n", c.name, arcsim::io::printable(e.what(), 4000).c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "arcsim: error: unknown command '%s' (arcsim --help lists them)\n", name.c_str());
  return 2;
}
