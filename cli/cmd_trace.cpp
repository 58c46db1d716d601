// arcsim trace: NOT IMPLEMENTED YET (issue 4). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_trace(int, char**) {
  std::fprintf(stderr, "arcsim trace: NOT IMPLEMENTED YET (issue 4)\n");
  return 3;
}

}  // namespace arcsim::cli
