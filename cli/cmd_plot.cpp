// arcsim plot: NOT IMPLEMENTED YET (issue 5). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_plot(int, char**) {
  std::fprintf(stderr, "arcsim plot: NOT IMPLEMENTED YET (issue 5)\n");
  return 3;
}

}  // namespace arcsim::cli
