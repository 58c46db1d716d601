"""Recording from real torch.nn.parallel.DistributedDataParallel (multi-process; gloo on CPU).

In the user's own DDP script (a complete example: examples/ddp_mlp.py):

    from arcsim.recorder import ArcsimHookState, arcsim_hook
    state = ArcsimHookState(ddp_model, compressor="arctopk:0.2", out="trace")
    ddp_model.register_comm_hook(state, arcsim_hook)
    for step in ...:
        if step % 25 == 0: state.log(step, {"loss": ..., "accuracy": ...})   # held-out metrics
        ... loss.backward(); opt.step()
    state.close(target="accuracy:0.85")     # rank 0 writes the convergence log into out/trace.json

The hook all-gathers every rank's bucket gradient, and every rank runs the same arcsim_kernels
Compressor (the C++ kernels, N workers = the N ranks) on the gathered [N, elements] matrix, so
all ranks apply the identical aggregate: the compressor's arithmetic is exactly the emulated
recorder's, while the transport is a dense all-gather (this hook records traces; it does not
model the compressor's traffic: replay and the simulator do). Rank 0 writes the trace in the
same format: layout, optional compute profile, per-bucket samples of chosen ranks, the curve,
provenance. Several runs (compressors, seeds) go into one trace directory: each close() adds
its (config, world, seed) log.

`arcsim record --ddp P --script FILE.py ...` does the same for a recorder script, spawning P
processes on localhost."""
import copy
import datetime
import os
import platform
import socket
import time

import numpy as np
import torch
import torch.distributed as dist

from . import buckets as bk
from . import data as dataset
from . import kernels
from .api import check_resume_options
from .layout import model_layout
from .targets import parse_target
from .task import ScriptError
from .trace_io import TraceWriter


class ArcsimHookState:
    """State of arcsim_hook for one training run of one DDP model.

    model: the DistributedDataParallel module (or the module it wraps); compressor: "dense",
    "topk:R", "randk:R" or "arctopk:R"; out: the trace directory rank 0 writes (None: write
    nothing); seed: the run's seed (compressor sampling; use the same one for the data order and
    initialization); the other arguments as in `arcsim record` (rank, warmup, ramp 'on' | 'off':
    None = the option table's default, `arcsim compressors`)."""

    def __init__(self, model, compressor="dense", out=None, *, ef="none", rank=None, seed=1, warmup=None, ramp=None,
                 options=None,
                 name=None, sample_steps=(), sample_workers=(0, 1), sample_dtype="float32", sample_aggregate=False,
                 first_bucket_cap=1 << 20, bucket_cap=25 << 20, micro_batch=None, command=None, description=None):
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("ArcsimHookState: expected an initialized torch.distributed process group "
                               "(dist.init_process_group) before the state is made")
        module = model.module if hasattr(model, "module") else model
        self.world, self.rank = dist.get_world_size(), dist.get_rank()
        self.spec = kernels.parse_compressor(compressor, ef, rank, seed, warmup, ramp, options=options)
        if self.spec["compressor"] != "dense" and kernels.import_binding() is None:
            raise RuntimeError("arcsim_kernels is not built: build the arcsim_kernels_py target")
        self.cid, self.seed = kernels.config_id(self.spec), seed
        self.comp = kernels.make_compressor(self.spec, self.world)
        self.names = {p: n for n, p in module.named_parameters()}
        self.layout = model_layout(module, name or type(module).__name__)
        ours = bk.ddp_buckets(self.layout["parameters"], first_bucket_cap, bucket_cap)
        self.ours = {tuple(b["tensors"]): b["bucket"] for b in ours}
        self.ids = {}  # tensor tuple -> compressor bucket id (DDP rebuilds its buckets after step 0)
        self.step, self.points, self.t0 = 0, [], time.time()
        self.sample_steps = set(sample_steps)
        self.sample_workers = [w for w in sample_workers if 0 <= w < self.world]
        self.sample_dtype, self.sample_aggregate = sample_dtype, sample_aggregate
        self.micro_batch, self.command, self.description = micro_batch, command, description
        self.writer = None
        if out is not None and self.rank == 0:
            self.writer = self._open(out, name)
            check_resume_options(self.writer.doc, [self.spec], out)
            self.writer.drop_run(self.cid, self.world, seed)

    def _open(self, out, name):
        path = os.path.join(out, "trace.json")
        if os.path.exists(path):
            w = TraceWriter.resume(out)
            if w.doc["layout"]["parameters"] != self.layout["parameters"]:
                raise ValueError(f"{path}: layout: expected this model's parameters to add a run, got another model's")
            return w
        w = TraceWriter(out, name or self.layout["model"], self.layout,
                        description=self.description or f"{self.layout['model']}, real DDP ({self.world} processes)")
        kb = kernels.import_binding()
        w.set_provenance({
            "seed": self.seed, "command": self.command or "DDP comm hook (traces.recorder.ddp.arcsim_hook)",
            "batch_per_worker": self.micro_batch,
            "created_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "notes": f"real DistributedDataParallel, {self.world} processes, {dist.get_backend()}; the compressor runs "
                     "on all-gathered bucket gradients (comm hook traces.recorder.ddp.arcsim_hook)",
            "software": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                         "arcsim_kernels": getattr(kb, "__file__", "not built (dense mean fallback)")}})
        return w

    def set_compute(self, compute, notes=None):
        """A compute profile (profiler.profile_compute) for the trace, on rank 0."""
        if self.writer is not None and "compute" not in self.writer.doc:
            self.writer.set_compute(compute, notes)

    def log(self, step, metrics):
        """Record held-out metrics at `step` (call on every rank or on rank 0; rank 0 keeps them)."""
        point = {"step": int(step)}
        for k, v in metrics.items():
            v = float(v.item() if isinstance(v, torch.Tensor) else v)
            if not np.isfinite(v):
                raise ValueError(f"ArcsimHookState.log: {k}: expected a finite number at step {step}, got {v}")
            point[k] = v
        if self.points and point["step"] <= self.points[-1]["step"]:
            raise ValueError(f"ArcsimHookState.log: step: expected steps in increasing order, got {step} after "
                             f"{self.points[-1]['step']}")
        self.points.append(point)

    def close(self, target, target_mode=None, eval_every=None, max_steps=None):
        """Rank 0 writes this run's convergence log (target: 'METRIC:VALUE' as `record --target`)."""
        if self.writer is None:
            return None
        t = parse_target(target, target_mode)
        if not self.points:
            raise ValueError("ArcsimHookState.close: expected at least one state.log(step, metrics) before close()")
        missing = [p["step"] for p in self.points if t.metric not in p]
        if missing:
            raise ValueError(f"ArcsimHookState.close: target metric '{t.metric}': expected it in every logged "
                             f"point, missing at steps {missing}")
        steps = [p["step"] for p in self.points]
        first = next((p["step"] for p in self.points if t.reached(p)), None)
        log = {"config": self.cid, "world": self.world, "seed": self.seed, "compressor": dict(self.spec),
               **t.log_fields(), "steps_to_target": first,
               "max_steps": int(max_steps if max_steps is not None else max(self.step, steps[-1])),
               "eval_every": int(eval_every or (steps[1] - steps[0] if len(steps) > 1 else max(1, steps[0]))),
               "stopped": "target" if first is not None else "budget", "wall_s": time.time() - self.t0,
               "points": self.points}
        self.writer.add_convergence(log)
        self.writer.save()
        return log


def arcsim_hook(state, bucket):
    """DDP comm hook: every rank's bucket -> arcsim's compressor -> the same aggregate on all ranks."""
    buf = bucket.buffer()
    gathered = [torch.empty_like(buf) for _ in range(state.world)]
    dist.all_gather(gathered, buf)
    # The compressor runs on the host (the binding takes numpy arrays): a GPU bucket is copied over.
    G = np.ascontiguousarray(torch.stack(gathered).detach().cpu().numpy(), dtype=np.float32)
    params = bucket.parameters()
    names = [state.names[p] for p in params]
    key = tuple(names)
    cid = state.ids.setdefault(key, len(state.ids))
    agg, _ = state.comp.step(bucket=cid, shapes=[tuple(p.shape) for p in params], grads=G, names=names)
    if state.writer is not None and state.step in state.sample_steps and state.sample_workers:
        state.writer.add_sample(state.cid, state.world, state.step, names, state.sample_workers,
                                G[state.sample_workers], bucket=state.ours.get(key, -1), dtype=state.sample_dtype,
                                aggregate=agg if state.sample_aggregate else None)
    if bucket.is_last():
        state.step += 1
    buf.copy_(torch.from_numpy(np.asarray(agg)).to(buf.device, buf.dtype))
    fut = torch.futures.Future()
    fut.set_result(buf)
    return fut


# ---------------------------------------------------------------- `arcsim record --ddp P`

def _worker(rank, world, port, args, out_queue):
    from .cli import _task, trace_seed
    from .profiler import profile_compute
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    kernels.BACKEND = getattr(args, "backend", kernels.BACKEND)  # a spawned process starts from the default
    torch.set_num_threads(max(1, args.threads // world))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        task = _task(args)
        tseed = trace_seed(args)
        seeds = args.seeds or [tseed]
        micro_batch = args.micro_batch or task.micro_batch or 16
        target = parse_target(args.target, args.target_mode)
        ds = task.train_dataset(tseed)
        if len(ds) // world < micro_batch:
            raise ScriptError(f"{task.source}: train_data(): expected at least one micro-batch ({micro_batch}) per "
                              f"worker at N={world}, got {len(ds)} items")
        command = "arcsim record " + " ".join(args.argv)
        for seed in seeds:
            model0 = task.build_model(seed)
            for c in args.compressors:
                model = copy.deepcopy(model0)
                ddp = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap / (1 << 20))
                state = ArcsimHookState(ddp, c, args.out, ef=args.ef, rank=args.rank, seed=seed, warmup=args.warmup,
                                        options=getattr(args, "compressor_options_dict", None),
                                        ramp=args.ramp, name=args.name or task.name, sample_steps=args.sample_steps
                                        if seed == tseed else (), sample_workers=args.sample_workers,
                                        sample_dtype=args.sample_dtype, sample_aggregate=args.sample_aggregate,
                                        first_bucket_cap=args.first_bucket_cap, bucket_cap=args.bucket_cap,
                                        micro_batch=micro_batch, command=command,
                                        description=f"{task.name} ({task.source}), real DDP ({world} processes, gloo)")
                if rank == 0 and state.writer is not None and "compute" not in state.writer.doc:
                    m = copy.deepcopy(model0)
                    x0, y0 = task.batch(ds, torch.arange(micro_batch))
                    state.set_compute(*profile_compute(m, task.make_optimizer(m.parameters(), args.lr),
                                                       lambda: task.loss(m, x0, y0), micro_batch,
                                                       steps=args.profile_steps))
                ddp.register_comm_hook(state, arcsim_hook)
                opt = task.make_optimizer(ddp.parameters(), args.lr)
                shards = dataset.WorkerShards(len(ds), world, micro_batch, seed)
                torch.manual_seed(seed)  # paired seeds: the same global RNG state for every compressor
                step = 0
                while True:
                    if step % args.eval_every == 0 or step == args.max_steps:
                        metrics = task.evaluate(model, tseed)
                        state.log(step, metrics)
                        if target.reached(metrics):
                            break
                    if step == args.max_steps:
                        break
                    x, y = task.batch(ds, shards.batch(rank))
                    opt.zero_grad(set_to_none=True)
                    task.loss(ddp, x, y, where=f" at step {step}, rank {rank}").backward()
                    opt.step()
                    step += 1
                state.close(target, eval_every=args.eval_every, max_steps=args.max_steps)
        if rank == 0:
            out_queue.put("ok")
    except (ScriptError, ValueError, RuntimeError) as e:
        if rank == 0:
            out_queue.put(f"error: {e}")
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ddp(args, task=None):
    """Spawns args.ddp processes on localhost and waits for them; raises on any failure."""
    import torch.multiprocessing as mp
    if os.path.exists(os.path.join(args.out, "trace.json")) and not args.resume:
        raise ValueError(f"--out {args.out}: already holds a trace; pass --resume to add runs to it, "
                         "or choose another directory")
    ctx = mp.get_context("spawn")
    q = ctx.SimpleQueue()
    try:
        mp.start_processes(_worker, args=(args.ddp, free_port(), args, q), nprocs=args.ddp, join=True,
                           start_method="spawn")
    except mp.ProcessException as e:
        lines = [l for l in str(e).strip().splitlines() if l.strip()]
        raise RuntimeError(f"--ddp: a DDP process failed: {lines[-1] if lines else e}") from None
    msg = q.get() if not q.empty() else "DDP recording did not finish on rank 0"
    if msg != "ok":
        raise RuntimeError(msg[len("error: "):] if msg.startswith("error: ") else msg)
