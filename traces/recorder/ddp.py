"""Recording from real torch.nn.parallel.DistributedDataParallel (multi-process; gloo on CPU).

The comm hook all-gathers every rank's bucket gradient, and every rank runs the same
arcsim_kernels Compressor (N emulated workers = the N ranks) on the gathered [N, elements]
matrix, so all ranks apply the identical aggregate: the compressor's arithmetic is exactly the
emulated recorder's, while the transport is a dense all-gather (this hook records traces; it does
not model the compressor's traffic: replay and the simulator do). Rank 0 writes the trace in the
same format: layout, compute profile, per-bucket samples of chosen ranks, test curve, provenance.

    arcsim record --ddp 2 --out DIR ...   (spawns 2 processes on localhost, gloo)
"""
import copy
import datetime
import os
import platform
import socket
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from . import buckets as bk
from . import data as dataset
from . import kernels, models
from .emulated import evaluate
from .layout import model_layout
from .profiler import profile_compute
from .trace_io import TraceWriter


class HookState:
    def __init__(self, model, spec, world, rank, ours, writer=None, cid="", sample_steps=(), sample_workers=(),
                 sample_dtype="float32", sample_aggregate=False):
        self.names = {p: n for n, p in model.named_parameters()}
        self.comp = kernels.make_compressor(spec, world)
        self.world, self.rank, self.step = world, rank, 0
        self.ours = {tuple(b["tensors"]): b["bucket"] for b in ours}
        self.ids = {}  # tensor tuple -> compressor bucket id (DDP rebuilds buckets after step 0)
        self.writer, self.cid = writer, cid
        self.sample_steps, self.sample_workers = set(sample_steps), [w for w in sample_workers if w < world]
        self.sample_dtype, self.sample_aggregate = sample_dtype, sample_aggregate


def trace_hook(state, bucket):
    buf = bucket.buffer()
    gathered = [torch.empty_like(buf) for _ in range(state.world)]
    dist.all_gather(gathered, buf)
    G = np.ascontiguousarray(torch.stack(gathered).numpy(), dtype=np.float32)
    params = bucket.parameters()
    names = [state.names[p] for p in params]
    key = tuple(names)
    cid = state.ids.setdefault(key, len(state.ids))
    agg, _ = state.comp.step(bucket=cid, shapes=[tuple(p.shape) for p in params], grads=G, names=names)
    if state.rank == 0 and state.writer is not None and state.step in state.sample_steps and state.sample_workers:
        state.writer.add_sample(state.cid, state.world, state.step, names, state.sample_workers,
                                G[state.sample_workers], bucket=state.ours.get(key, -1), dtype=state.sample_dtype,
                                aggregate=agg if state.sample_aggregate else None)
    if bucket.is_last():
        state.step += 1
    buf.copy_(torch.from_numpy(np.asarray(agg)))
    fut = torch.futures.Future()
    fut.set_result(buf)
    return fut


def _worker(rank, world, port, args, specs, out_queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(max(1, args.threads // world))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        data = dataset.load_fashion_mnist(args.data)
        if args.train_subset:
            data = (data[0][:args.train_subset], data[1][:args.train_subset], data[2], data[3])
        eval_idx = dataset.eval_subset(len(data[2]), args.eval_size, args.seed)
        model0 = models.build(args.model, args.seed)
        layout = model_layout(model0, args.model)
        ours = bk.ddp_buckets(layout["parameters"], args.first_bucket_cap, args.bucket_cap)
        writer = None
        if rank == 0:
            writer = TraceWriter(args.out, args.name or args.model, layout,
                                 description=f"{args.model} on Fashion-MNIST, real DDP ({world} processes, gloo)")
            m = copy.deepcopy(model0)
            compute, notes = profile_compute(m, torch.optim.Adam(m.parameters(), lr=args.lr),
                                             data[0][:args.micro_batch], data[1][:args.micro_batch], steps=args.profile_steps)
            writer.set_compute(compute, notes)
            writer.set_provenance({
                "seed": args.seed, "command": "arcsim record " + " ".join(args.argv),
                "dataset": f"fashion-mnist ({args.data}), fixed {args.eval_size}-image test subset",
                "batch_per_worker": args.micro_batch, "optimizer": f"Adam lr={args.lr} (after aggregation)",
                "created_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "notes": f"real DistributedDataParallel, {world} processes, gloo; comm hook traces.recorder.ddp",
                "software": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}})
        for spec in specs:
            cid = kernels.config_id(spec)
            model = copy.deepcopy(model0)
            ddp = torch.nn.parallel.DistributedDataParallel(
                model, bucket_cap_mb=args.bucket_cap / (1 << 20))
            state = HookState(model, spec, world, rank, ours, writer, cid, args.sample_steps, args.sample_workers,
                              args.sample_dtype, args.sample_aggregate)
            ddp.register_comm_hook(state, trace_hook)
            opt = torch.optim.Adam(ddp.parameters(), lr=args.lr)
            shards = dataset.WorkerShards(len(data[0]), world, args.micro_batch, args.seed)
            points, stopped, t0, step = [], "budget", time.time(), 0
            while True:
                if step % args.eval_every == 0 or step == args.max_steps:
                    loss, acc = evaluate(model, data[2][eval_idx], data[3][eval_idx])
                    points.append({"step": step, "loss": loss, "accuracy": acc})
                    if acc >= args.target:
                        stopped = "target"
                        break
                if step == args.max_steps:
                    break
                idx = shards.batch(rank)
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(ddp(data[0][idx]), data[1][idx]).backward()
                opt.step()
                step += 1
            if rank == 0:
                first = next((p["step"] for p in points if p["accuracy"] >= args.target), None)
                writer.add_convergence({"config": cid, "world": world, "compressor": spec,
                                        "target_accuracy": args.target, "steps_to_target": first,
                                        "max_steps": args.max_steps, "eval_every": args.eval_every,
                                        "stopped": stopped, "wall_s": time.time() - t0, "points": points})
                writer.save()
        if rank == 0:
            out_queue.put("ok")
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ddp(args, specs):
    """Spawns args.ddp processes on localhost and waits for them; raises on any failure."""
    ctx = mp.get_context("spawn")
    q = ctx.SimpleQueue()
    mp.start_processes(_worker, args=(args.ddp, free_port(), args, specs, q), nprocs=args.ddp, join=True,
                       start_method="spawn")
    if q.empty() or q.get() != "ok":
        raise RuntimeError("DDP recording did not finish on rank 0")
