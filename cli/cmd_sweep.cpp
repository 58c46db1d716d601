// arcsim sweep: NOT IMPLEMENTED YET (issue 5). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_sweep(int, char**) {
  std::fprintf(stderr, "arcsim sweep: NOT IMPLEMENTED YET (issue 5)\n");
  return 3;
}

}  // namespace arcsim::cli
