// arcsim calibrate: NOT IMPLEMENTED YET (issue 6). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_calibrate(int, char**) {
  std::fprintf(stderr, "arcsim calibrate: NOT IMPLEMENTED YET (issue 6)\n");
  return 3;
}

}  // namespace arcsim::cli
