"""arcsim's PyTorch recorder: emulated data-parallel training that writes gradient traces.

Run it as `arcsim record ...` (which starts /usr/bin/python3 -m traces.recorder). Modules:
  trace_io   Python reader/writer of trace format v1 (docs/traces.md)
  buckets    DDP bucket assignment (the same rule as traces/buckets.hpp)
  data       Fashion-MNIST IDX files, per-worker shards
  models     the small CNN of the default trace
  layout     model -> layout (names, shapes, dtypes, layers)
  profiler   per-layer forward/backward times with hooks (CUDA events on a GPU)
  kernels    the arcsim_kernels binding (the C++ compressors), found next to the build
  emulated   N workers in one process: per-worker gradients, compression, optimizer
  ddp        a comm hook that records the same trace from real DistributedDataParallel
  cli        `arcsim record` options
"""
FORMAT = "arcsim-trace/1"
COMPUTE_FORMAT = "arcsim-compute/1"
