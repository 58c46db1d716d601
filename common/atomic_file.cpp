#include "atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

namespace arcsim::io {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a regular file";
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// Prefix of every temporary of `base`; the pid and a random suffix follow.
std::string tmp_prefix(const std::string& base) { return "." + base + ".tmp."; }

// Removes temporaries of `base` whose writer no longer runs (killed between create and rename).
void remove_stale_temporaries(const std::string& dir, const std::string& base) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  const std::string prefix = tmp_prefix(base);
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '.' || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running
    const std::string full = dir + "/" + name;
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(full.c_str());
  }
  ::closedir(d);
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd() ^ (std::uint64_t(::getpid()) << 16);
  }());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// A temporary next to `path`, created exclusively; returns its name and an open descriptor.
std::pair<std::string, int> create_temporary(const std::string& path) {
  const auto [dir, base] = split_path(path);
  remove_stale_temporaries(dir, base);
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::string tmp = dir + "/" + tmp_prefix(base) + std::to_string(::getpid()) + "." + random_suffix();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return {tmp, fd};
    if (errno != EEXIST) fail(path, std::string("cannot write file: ") + std::strerror(errno));
  }
  fail(path, "cannot write file: no unused temporary name");
}

// Writes and syncs `content` into a new temporary; returns its name.
std::string write_temporary(const std::string& path, std::string_view content) {
  auto [tmp, fd] = create_temporary(path);
  const char* p = content.data();
  std::size_t left = content.size();
  int err = 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    fail(path, std::string("cannot write file: ") + std::strerror(err));
  }
  return tmp;
}

}  // namespace

void check_output_path(const std::string& path) {
  if (path.empty()) throw std::runtime_error("output path: expected a file name, got an empty string");
  if (path.back() == '/') fail(path, "is a directory name: expected a file path for the output");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      fail(path, "is " + kind_of(st.st_mode) + ": expected a regular file or a new name for the output (not replaced)");
    return;
  }
  if (errno != ENOENT) fail(path, std::string("cannot write file: ") + std::strerror(errno));
  const std::string dir = split_path(path).first;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(path, "cannot write file: directory " + dir + " does not exist");
}

void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& f : files) check_output_path(f.first);
  std::vector<std::string> tmps;
  try {
    for (const auto& f : files) tmps.push_back(write_temporary(f.first, f.second));
  } catch (...) {
    for (const auto& t : tmps) ::unlink(t.c_str());
    throw;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (std::rename(tmps[i].c_str(), files[i].first.c_str()) != 0) {
      const int err = errno;
      for (std::size_t j = i; j < tmps.size(); ++j) ::unlink(tmps[j].c_str());
      fail(files[i].first, std::string("cannot write file: ") + std::strerror(err));
    }
  }
}

void write_file_atomic(const std::string& path, std::string_view content) {
  check_output_path(path);
  const std::string tmp = write_temporary(path, content);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, std::string("cannot write file: ") + std::strerror(err));
  }
}

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) fail(path, "cannot open file: no such file");
    fail(path, std::string("cannot open file: ") + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, std::string("cannot open file: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "is " + kind_of(st.st_mode) + ": expected a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    fail(path, "file of " + std::to_string(size) + " bytes: expected at most " + std::to_string(max_bytes) +
                   " bytes (docs/limits.md)");
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      fail(path, std::string("cannot read file: ") + std::strerror(err));
    }
    if (n == 0) break;  // shrank while we read: keep what is there, the parser will judge it
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

}  // namespace arcsim::io
