"""Train with arcsim's compressors in real distributed data-parallel training:

    from arcsim.distributed import HookState, comm_hook
    state = HookState(process_group=None, compressor="arctopk:0.2", ef="ef14", seed=1)
    ddp_model.register_comm_hook(state, comm_hook)
    ...
    state.bytes_sent; state.timings(); state.write_timings("rank0.csv")

Each rank compresses its own gradient with the C++ kernels and the compressor's collectives go
through the process group (gloo on CPU). The implementation is traces/recorder/distributed.py;
the user guide is docs/distributed.md."""
__all__ = ["HookState", "comm_hook", "DistributedError", "TIMING_COLUMNS"]

from traces.recorder.distributed import TIMING_COLUMNS, DistributedError, HookState, comm_hook  # noqa: F401
