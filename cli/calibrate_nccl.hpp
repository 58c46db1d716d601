#pragma once
namespace arcsim::cli {
// `arcsim calibrate --nccl-tests LOG [LOG...] ... --output TOPO.json`: fits the nccl model's
// constants to the user's nccl-tests logs and writes a topology file (see --help).
int calibrate_nccl_tests(int argc, char** argv);
}  // namespace arcsim::cli
