// arcsim compress: NOT IMPLEMENTED YET (issue 2). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_compress(int, char**) {
  std::fprintf(stderr, "arcsim compress: NOT IMPLEMENTED YET (issue 2)\n");
  return 3;
}

}  // namespace arcsim::cli
