#pragma once
namespace arcsim::cli {
// `arcsim calibrate --step-time S --trace T --compute C --topology TOPO --nodes N --output FILE`:
// fits the compute model's fixed host cost per iteration (or its MFU) so that the simulated dense
// iteration takes the S seconds measured on the user's own setup, and writes an
// arcsim-compute-settings/1 file that a spec's `compute` names (see --help).
int calibrate_step_time(int argc, char** argv);
}  // namespace arcsim::cli
