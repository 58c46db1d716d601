// arcsim topology: NOT IMPLEMENTED YET (issue 3). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_topology(int, char**) {
  std::fprintf(stderr, "arcsim topology: NOT IMPLEMENTED YET (issue 3)\n");
  return 3;
}

}  // namespace arcsim::cli
