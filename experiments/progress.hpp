#pragma once
// Progress lines of a sweep on stderr. On a terminal a running line is redrawn in place (\r) and
// only final lines stay; elsewhere (logs, Slurm output files) every line is printed once.
#include <string>

namespace arcsim::experiments {

class Progress {
 public:
  explicit Progress(bool enabled);
  bool enabled() const { return enabled_; }
  // A line that stays (always a full line, also on a terminal).
  void line(const std::string& text) const;
  // A line that the next one replaces on a terminal; final = keep it.
  void update(const std::string& text, bool final) const;

 private:
  bool enabled_ = false, tty_ = false;
};

}  // namespace arcsim::experiments
