"""The trace of one real DDP run (HookState(out=...), traces/recorder/distributed.py): rank 0
writes the layout, the optional compute profile, per-bucket gradient samples of chosen ranks and
the convergence log into the trace directory, as `arcsim record` does. Several runs (compressors,
seeds) go into one directory: each close() adds its (config, world, seed) log."""
import datetime
import os
import platform
import time

import numpy as np
import torch
import torch.distributed as dist

from . import buckets as bk
from . import kernels
from .api import check_resume_options
from .layout import model_layout
from .targets import parse_target
from .trace_io import TraceWriter


class RunTrace:
    def __init__(self, state, module, out, *, name, sample_steps, sample_ranks, sample_dtype, sample_aggregate,
                 first_bucket_cap, bucket_cap, micro_batch, command, description):
        self.state = state
        self.layout = model_layout(module, name or type(module).__name__)
        ours = bk.ddp_buckets(self.layout["parameters"], first_bucket_cap, bucket_cap)
        by_names = {tuple(b["tensors"]): b["bucket"] for b in ours}
        names = {id(p): n for n, p in module.named_parameters()}
        self.bucket_of = lambda key: by_names.get(tuple(names.get(i, "") for i in key), -1)
        self.points, self.t0 = [], time.time()
        self.sample_steps = set(sample_steps)
        self.sample_ranks = [r for r in sample_ranks if 0 <= r < state.world]
        self.sample_dtype, self.sample_aggregate = sample_dtype, sample_aggregate
        self.micro_batch, self.command, self.description = micro_batch, command, description
        self.writer = None
        if state.rank == 0:
            self.writer = self._open(out, name)
            check_resume_options(self.writer.doc, [state.spec], out)
            self.writer.drop_run(state.cid, state.world, state.seed)

    def _open(self, out, name):
        path = os.path.join(out, "trace.json")
        if os.path.exists(path):
            w = TraceWriter.resume(out)
            if w.doc["layout"]["parameters"] != self.layout["parameters"]:
                raise ValueError(f"{path}: layout: expected this model's parameters to add a run, got another model's")
            return w
        world = self.state.world
        w = TraceWriter(out, name or self.layout["model"], self.layout,
                        description=self.description or f"{self.layout['model']}, real DDP ({world} processes)")
        kb = kernels.import_binding()
        w.set_provenance({
            "seed": self.state.seed, "command": self.command or "DDP comm hook (arcsim.distributed.comm_hook)",
            "batch_per_worker": self.micro_batch,
            "created_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "notes": f"real DistributedDataParallel, {world} processes, {dist.get_backend(self.state.group)}; each "
                     "rank compresses its own bucket and the compressor's collectives go through the process group "
                     "(arcsim.distributed.comm_hook)",
            "software": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                         "arcsim_kernels": getattr(kb, "__file__", "not built")}})
        return w

    def set_compute(self, compute, notes=None):
        if self.writer is not None and "compute" not in self.writer.doc:
            self.writer.set_compute(compute, notes)

    def sample(self, step, cid, key, names, grad, agg):
        """At a sample step, rank 0 gathers the sample ranks' bucket gradients and writes them."""
        if step not in self.sample_steps or not self.sample_ranks:
            return
        st = self.state
        mine = torch.from_numpy(grad)
        got = [torch.empty_like(mine) for _ in range(st.world)] if st.rank == 0 else None
        dist.gather(mine, got, dst=st.transport._global(0), group=st.group)
        if self.writer is not None:
            G = np.stack([got[r].numpy() for r in self.sample_ranks])
            self.writer.add_sample(st.cid, st.world, step, names, self.sample_ranks, G, bucket=self.bucket_of(key),
                                   dtype=self.sample_dtype, aggregate=agg if self.sample_aggregate else None)

    def log(self, step, metrics):
        point = {"step": int(step)}
        for k, v in metrics.items():
            v = float(v.item() if isinstance(v, torch.Tensor) else v)
            if not np.isfinite(v):
                raise ValueError(f"HookState.log: {k}: expected a finite number at step {step}, got {v}")
            point[k] = v
        if self.points and point["step"] <= self.points[-1]["step"]:
            raise ValueError(f"HookState.log: step: expected steps in increasing order, got {step} after "
                             f"{self.points[-1]['step']}")
        self.points.append(point)

    def close(self, target, target_mode=None, eval_every=None, max_steps=None):
        if self.writer is None:
            return None
        t = parse_target(target, target_mode)
        if not self.points:
            raise ValueError("HookState.close: expected at least one state.log(step, metrics) before close()")
        missing = [p["step"] for p in self.points if t.metric not in p]
        if missing:
            raise ValueError(f"HookState.close: target metric '{t.metric}': expected it in every logged "
                             f"point, missing at steps {missing}")
        steps = [p["step"] for p in self.points]
        first = next((p["step"] for p in self.points if t.reached(p)), None)
        st = self.state
        log = {"config": st.cid, "world": st.world, "seed": st.seed, "compressor": dict(st.spec),
               **t.log_fields(), "steps_to_target": first,
               "max_steps": int(max_steps if max_steps is not None else max(st.step, steps[-1])),
               "eval_every": int(eval_every or (steps[1] - steps[0] if len(steps) > 1 else max(1, steps[0]))),
               "stopped": "target" if first is not None else "budget", "wall_s": time.time() - self.t0,
               "points": self.points}
        self.writer.add_convergence(log)
        self.writer.save()
        return log
