#include "fork_pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace arcsim::experiments {

namespace {

using Clock = std::chrono::steady_clock;

struct Child {
  std::size_t task = 0;
  pid_t pid = -1;
  int result_fd = -1, log_fd = -1;
  std::string result, log;
  Clock::time_point start, deadline;
  bool timed_out = false;
};

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the parent is gone; nothing to report to
    }
    off += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void run_child(const ForkTask& task, int result_fd, int log_fd, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(120);  // the parent died before prctl took effect
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::close(log_fd);
  std::string out;
  try {
    out = "O" + task.work();
  } catch (const std::exception& e) {
    out = std::string("E") + e.what();
  } catch (...) {
    out = "Eunknown exception";
  }
  std::fflush(stdout);
  std::fflush(stderr);
  write_all(result_fd, out);
  ::close(result_fd);
  ::_exit(0);  // no atexit handlers or static destructors: they belong to the parent's state
}

// Reads what is available; returns false at end of file.
bool drain(int fd, std::string& into, std::size_t keep_tail) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      if (keep_tail && into.size() > 2 * keep_tail) into.erase(0, into.size() - keep_tail);
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return true;  // EAGAIN: nothing more for now
  }
}

std::string last_line(const std::string& log) {
  std::size_t end = log.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  std::size_t begin = log.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return log.substr(begin, end - begin + 1);
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int default_jobs() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

void run_forked(const std::vector<ForkTask>& tasks, const ForkOptions& options,
                const std::function<void(const ForkOutcome&)>& on_done) {
  const int jobs = std::max(1, options.jobs);
  std::vector<Child> running;
  std::size_t next = 0;
  const pid_t parent = ::getpid();

  auto start_one = [&](std::size_t i) {
    int rp[2], lp[2];
    if (::pipe2(rp, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(lp, O_CLOEXEC) != 0) {
      ::close(rp[0]);
      ::close(rp[1]);
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    std::fflush(stdout);  // or the child would print the parent's buffered output again
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(rp[0]);
      ::close(lp[0]);
      for (const auto& c : running) {  // siblings' pipes are not ours
        ::close(c.result_fd);
        ::close(c.log_fd);
      }
      run_child(tasks[i], rp[1], lp[1], parent);
    }
    ::close(rp[1]);
    ::close(lp[1]);
    ::fcntl(rp[0], F_SETFL, O_NONBLOCK);
    ::fcntl(lp[0], F_SETFL, O_NONBLOCK);
    Child c;
    c.task = i;
    c.pid = pid;
    c.result_fd = rp[0];
    c.log_fd = lp[0];
    c.start = Clock::now();
    c.deadline = c.start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(tasks[i].timeout_s));
    running.push_back(std::move(c));
  };

  auto finish = [&](Child& c) {
    int status = 0;
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (c.result_fd >= 0) ::close(c.result_fd);
    if (c.log_fd >= 0) ::close(c.log_fd);
    ForkOutcome o;
    o.task = c.task;
    o.wall_s = std::chrono::duration<double>(Clock::now() - c.start).count();
    const std::string tail = one_line(last_line(c.log));
    const std::string said = tail.empty() ? "" : " (last output: " + tail + ")";
    if (c.timed_out) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", tasks[c.task].timeout_s);
      o.error = std::string("timed out after ") + buf + " s (point_timeout); killed";
    } else if (WIFSIGNALED(status)) {
      o.error = "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")" + said;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      o.error = "exited with status " + std::to_string(WEXITSTATUS(status)) + said;
    } else if (c.result.empty()) {
      o.error = "exited without a result" + said;
    } else if (c.result[0] == 'E') {
      o.error = one_line(c.result.substr(1));
    } else {
      o.ok = true;
      o.output = c.result.substr(1);
    }
    on_done(o);
  };

  while (next < tasks.size() || !running.empty()) {
    while (next < tasks.size() && static_cast<int>(running.size()) < jobs) start_one(next++);

    std::vector<pollfd> fds;
    for (const auto& c : running) {
      fds.push_back({c.result_fd, POLLIN, 0});
      fds.push_back({c.log_fd, POLLIN, 0});
    }
    auto now = Clock::now();
    auto wait = std::chrono::milliseconds(1000);
    for (const auto& c : running)
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now) +
                                std::chrono::milliseconds(1));
    const int ms = static_cast<int>(std::max<long long>(0, wait.count()));
    if (::poll(fds.data(), fds.size(), ms) < 0 && errno != EINTR)
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));

    now = Clock::now();
    for (std::size_t k = 0; k < running.size();) {
      Child& c = running[k];
      if (c.result_fd >= 0 && !drain(c.result_fd, c.result, 0)) {
        ::close(c.result_fd);
        c.result_fd = -1;
      }
      if (c.log_fd >= 0 && !drain(c.log_fd, c.log, 4096)) {
        ::close(c.log_fd);
        c.log_fd = -1;
      }
      bool done = c.result_fd < 0 && c.log_fd < 0;
      // Past the deadline is a timeout even when the child's output is already complete: under
      // load the parent may look late, and a point must not pass or fail by when it was looked at.
      if (now >= c.deadline) {
        if (!done) ::kill(c.pid, SIGKILL);
        c.timed_out = true;
        done = true;
      }
      if (done) {
        Child finished = std::move(c);
        running.erase(running.begin() + static_cast<long>(k));
        finish(finished);
      } else {
        ++k;
      }
    }
  }
}

}  // namespace arcsim::experiments
