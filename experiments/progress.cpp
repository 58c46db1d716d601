#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace arcsim::experiments {

Progress::Progress(bool enabled) : enabled_(enabled), tty_(enabled && ::isatty(STDERR_FILENO)) {}

void Progress::line(const std::string& text) const {
  if (!enabled_) return;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void Progress::update(const std::string& text, bool final) const {
  if (!enabled_) return;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

}  // namespace arcsim::experiments
