#pragma once
// One function per `arcsim` subcommand; each lives in its own cmd_<name>.cpp.
// Each parses its own options (with --help), returns the process exit status, and reports bad
// input by throwing std::exception whose what() is one line: "<file>: <field>: expected ..., got ...".

namespace arcsim::cli {

int cmd_compress(int argc, char** argv);   // kernels on .npy worker gradients -> aggregate + report
int cmd_compressors(int argc, char** argv);  // the compressor registry and option table
int cmd_replay(int argc, char** argv);     // kernels on a trace -> communication plans, quality
int cmd_calibrate(int argc, char** argv);  // GPU kernel timings -> calibration file
int cmd_simulate(int argc, char** argv);   // one collective, or one training iteration
int cmd_topology(int argc, char** argv);   // topology show
int cmd_trace(int argc, char** argv);      // trace validate | info
int cmd_sweep(int argc, char** argv);      // experiment spec -> results/ + plots
int cmd_plot(int argc, char** argv);       // results dir -> figures (matplotlib)
int cmd_record(int argc, char** argv);     // PyTorch recorder (python), writes a trace
int cmd_testbed(int argc, char** argv);    // emulated cluster: real compressed training, validation (python)
int cmd_init(int argc, char** argv);       // trace -> an experiment spec matching its convergence logs
int cmd_breakeven(int argc, char** argv);  // spec -> where each speedup over dense crosses 1

}  // namespace arcsim::cli
