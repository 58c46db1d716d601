#pragma once
namespace arcsim::cli {
// `arcsim calibrate --gloo-bench DIR --topology BASE --output TOPO.json`: fits the gloo profile's
// constants to a testbed micro-benchmark and writes a topology file (see --help).
int calibrate_gloo_bench(int argc, char** argv);
}  // namespace arcsim::cli
