// arcsim simulate: NOT IMPLEMENTED YET (issue 3). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_simulate(int, char**) {
  std::fprintf(stderr, "arcsim simulate: NOT IMPLEMENTED YET (issue 3)\n");
  return 3;
}

}  // namespace arcsim::cli
