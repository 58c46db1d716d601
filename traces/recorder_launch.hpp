#pragma once
// Where `arcsim record` finds the Python recorder and the arcsim_kernels binding. The paths are
// fixed at configure time (this build's source and binary dirs); ARCSIM_SOURCE_DIR and
// ARCSIM_PYTHON_DIR in the environment override them (an installed or relocated tree).
#include <string>

namespace arcsim::traces {

struct RecorderLaunch {
  std::string python;       // /usr/bin/python3 (Debian's, which sees torch); $ARCSIM_PYTHON overrides
  std::string source_dir;   // holds traces/recorder/
  std::string binding_dir;  // holds arcsim_kernels*.so (build/python)
  // PYTHONPATH for the recorder: the source root (its modules), the binding dir, then the caller's.
  std::string python_path() const;
};

RecorderLaunch recorder_launch();

}  // namespace arcsim::traces
