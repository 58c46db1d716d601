#include "recorder_launch.hpp"

#include <cstdlib>

namespace arcsim::traces {

RecorderLaunch recorder_launch() {
  auto env = [](const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::string(v && *v ? v : fallback);
  };
  return RecorderLaunch{env("ARCSIM_PYTHON", "/usr/bin/python3"),
                        env("ARCSIM_SOURCE_DIR", ARCSIM_TRACES_SOURCE_DIR),
                        env("ARCSIM_PYTHON_DIR", ARCSIM_TRACES_BINDING_DIR)};
}

std::string RecorderLaunch::python_path() const {
  std::string path = source_dir + ":" + binding_dir;
  if (const char* old = std::getenv("PYTHONPATH"); old && *old) path += std::string(":") + old;
  return path;
}

}  // namespace arcsim::traces
