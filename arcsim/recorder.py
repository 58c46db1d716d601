"""Record a gradient trace from your own model (the same as `arcsim record --script`):

    record(model=..., train_data=..., loss=..., evaluate=..., out="trace", workers=[4, 8],
           compressors=["dense", "arctopk:0.2"], seeds=[1, 2, 3], max_steps=200, target="loss:0.3")

or from your own DistributedDataParallel job, training with arcsim's compressor over the process
group (arcsim.distributed):

    state = HookState(compressor="arctopk:0.2", ef="ef14", model=ddp_model, out="trace")
    ddp_model.register_comm_hook(state, comm_hook)

The implementation is traces/recorder/ (api.py, distributed.py, profiler.py); the compressors are the
C++ kernels through the arcsim_kernels binding of this tree's build."""
__all__ = ["record", "HookState", "comm_hook", "profile_compute", "ScriptError", "load_script",
           "TraceError", "read_trace"]

from traces.recorder.api import record  # noqa: F401
from traces.recorder.distributed import HookState, comm_hook  # noqa: F401
from traces.recorder.profiler import profile_compute  # noqa: F401
from traces.recorder.task import ScriptError, load_script  # noqa: F401
from traces.recorder.trace_io import TraceError, read_trace  # noqa: F401
