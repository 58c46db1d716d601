"""Record a gradient trace from your own model (the same as `arcsim record --script`):

    record(model=..., train_data=..., loss=..., evaluate=..., out="trace", workers=[4, 8],
           compressors=["dense", "arctopk:0.2"], seeds=[1, 2, 3], max_steps=200, target="loss:0.3")

or from your own DistributedDataParallel job (comm hook; see traces/recorder/ddp.py):

    state = ArcsimHookState(ddp_model, compressor="arctopk:0.2", out="trace")
    ddp_model.register_comm_hook(state, arcsim_hook)

The implementation is traces/recorder/ (api.py, ddp.py, profiler.py); the compressors are the
C++ kernels through the arcsim_kernels binding of this tree's build."""
__all__ = ["record", "ArcsimHookState", "arcsim_hook", "profile_compute", "ScriptError", "load_script",
           "TraceError", "read_trace"]

from traces.recorder.api import record  # noqa: F401
from traces.recorder.ddp import ArcsimHookState, arcsim_hook  # noqa: F401
from traces.recorder.profiler import profile_compute  # noqa: F401
from traces.recorder.task import ScriptError, load_script  # noqa: F401
from traces.recorder.trace_io import TraceError, read_trace  # noqa: F401
