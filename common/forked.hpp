#pragma once
// SimGrid allows one Engine per process: tests and benchmarks that need several
// simulations run each in a forked child and get its numbers back through a pipe.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <vector>

namespace arcsim::testing {

// Runs `f` in a child process; returns its numbers, or a vector of one NaN if the child failed.
inline std::vector<double> forked(const std::function<std::vector<double>()>& f) {
  std::fflush(stdout);
  std::fflush(stderr);
  int fds[2];
  if (pipe(fds) != 0) return {std::numeric_limits<double>::quiet_NaN()};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    int status = 0;
    try {
      const auto v = f();
      const std::size_t n = v.size();
      if (write(fds[1], &n, sizeof n) != sizeof n) status = 1;
      if (n && write(fds[1], v.data(), n * sizeof(double)) != static_cast<ssize_t>(n * sizeof(double))) status = 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      status = 1;
    }
    close(fds[1]);
    _exit(status);
  }
  close(fds[1]);
  std::size_t n = 0;
  std::vector<double> v;
  if (read(fds[0], &n, sizeof n) == sizeof n && n < (1u << 20)) {
    v.resize(n);
    std::size_t got = 0;
    while (got < n * sizeof(double)) {
      const ssize_t k = read(fds[0], reinterpret_cast<char*>(v.data()) + got, n * sizeof(double) - got);
      if (k <= 0) break;
      got += static_cast<std::size_t>(k);
    }
    if (got != n * sizeof(double)) v = {std::numeric_limits<double>::quiet_NaN()};
  } else {
    v = {std::numeric_limits<double>::quiet_NaN()};
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {std::numeric_limits<double>::quiet_NaN()};
  return v;
}

inline double forked1(const std::function<double()>& f) {
  return forked([&] { return std::vector<double>{f()}; })[0];
}

}  // namespace arcsim::testing
