// arcsim record: NOT IMPLEMENTED YET (issue 4). Says so loudly and fails.
#include <cstdio>

#include "commands.hpp"

namespace arcsim::cli {

int cmd_record(int, char**) {
  std::fprintf(stderr, "arcsim record: NOT IMPLEMENTED YET (issue 4)\n");
  return 3;
}

}  // namespace arcsim::cli
