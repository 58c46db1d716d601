// arcsim record and arcsim testbed: Python programs (traces/recorder/, testbed/) run with Debian's
// /usr/bin/python3, every argument forwarded; `arcsim record --help` is the recorder's help. They
// import arcsim_kernels (the pybind11 binding of kernels/) from this build.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "traces/recorder_launch.hpp"

namespace arcsim::cli {

namespace {
[[noreturn]] void exec_python_module(const char* module, int argc, char** argv) {
  const auto where = arcsim::traces::recorder_launch();
  // The source root makes the module importable; the binding dir makes arcsim_kernels so.
  ::setenv("PYTHONPATH", where.python_path().c_str(), 1);
  ::setenv("ARCSIM_PYTHON_DIR", where.binding_dir.c_str(), 1);
  // This arcsim, for Python that runs its other commands (testbed validate: calibrate, simulate).
  char exe[4096];
  if (const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1); n > 0) {
    exe[n] = '\0';
    ::setenv("ARCSIM_EXE", exe, 1);
  }
  std::vector<std::string> args = {where.python, "-m", module};
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  ::execv(where.python.c_str(), cargs.data());
  throw std::runtime_error(where.python + ": cannot run " + module + "'s Python: " + std::strerror(errno) +
                           " (set ARCSIM_PYTHON to Debian's python3 with torch)");
}
}  // namespace

int cmd_record(int argc, char** argv) { exec_python_module("traces.recorder", argc, argv); }

int cmd_testbed(int argc, char** argv) { exec_python_module("testbed", argc, argv); }

}  // namespace arcsim::cli
