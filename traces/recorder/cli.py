"""`arcsim record`: record a gradient trace with N emulated data-parallel workers."""
import argparse
import copy
import datetime
import math
import platform
import shlex
import sys
import time

import numpy as np
import torch

from . import buckets as bk
from . import data as dataset
from . import kernels, models
from .emulated import train_run
from .layout import model_layout
from .profiler import profile_compute
from .trace_io import TraceWriter


def int_list(text):
    return [int(v) for v in text.split(",") if v != ""]


def parser():
    p = argparse.ArgumentParser(
        prog="arcsim record",
        description="Train a model with N emulated data-parallel workers and a compressor in the loop "
                    "(arcsim_kernels), and write a gradient trace (format v1, docs/traces.md): layout, "
                    "per-layer compute profile, gradient samples, test loss/accuracy curves, provenance. "
                    "For every N, dense runs first; compressed runs get a step budget of "
                    "--budget-factor x dense's steps to target (capped by --max-steps).")
    p.add_argument("--out", required=True, help="trace directory to write (created)")
    p.add_argument("--name", default=None, help="trace name (default: the model name)")
    p.add_argument("--model", default="fmnist-cnn", choices=sorted(models.MODELS))
    p.add_argument("--data", default=dataset.DEFAULT_DIR, help="Fashion-MNIST IDX directory")
    p.add_argument("--workers", type=int, nargs="+", default=[8], help="emulated worker counts N")
    p.add_argument("--compressors", nargs="+", default=["dense"],
                   help="dense | topk:R | randk:R | arctopk:R (R = ratio), e.g. dense topk:0.2 arctopk:0.05")
    p.add_argument("--ef", default="ef14", choices=["none", "ef14", "ef21", "ef21m"], help="error feedback of compressed runs")
    p.add_argument("--rank", type=int, default=4, help="ARC-Top-K sketch rank r")
    p.add_argument("--warmup", type=int, default=0, help="dense steps before compressing")
    p.add_argument("--ramp", default="auto", choices=["auto", "on", "off"],
                   help="Top-K/Rand-K ratio ramp 0.8 -> R (auto: on for topk/randk, as the reference hooks)")
    p.add_argument("--micro-batch", type=int, default=16, help="samples per worker per step")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target", type=float, default=0.85, help="test-accuracy target (fraction)")
    p.add_argument("--max-steps", type=int, default=1000, help="step budget of every run")
    p.add_argument("--budget-factor", type=float, default=3.0,
                   help="compressed runs stop at this multiple of dense's steps to target (0: off)")
    p.add_argument("--eval-every", type=int, default=25, help="steps between test evaluations")
    p.add_argument("--eval-size", type=int, default=2000, help="size of the fixed test subset")
    p.add_argument("--train-subset", type=int, default=0, help="use only this many training images (0: all)")
    p.add_argument("--sample-steps", type=int_list, default=[0], help="steps whose gradients are saved, e.g. 0,100")
    p.add_argument("--sample-workers", type=int_list, default=[0, 1], help="worker ranks whose gradients are saved")
    p.add_argument("--sample-dtype", default="float32", choices=["float32", "float16"])
    p.add_argument("--sample-aggregate", action="store_true", help="also save the aggregate applied at sampled steps")
    p.add_argument("--per-worker", default="vmap", choices=["vmap", "loop"], help="how per-worker gradients are computed")
    p.add_argument("--profile-steps", type=int, default=20, help="steps timed for the compute profile")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "cuda", "reference"],
                   help="where the compression kernels run (auto: cuda when a device is present, else cpu)")
    p.add_argument("--first-bucket-cap", type=int, default=1 << 20, help="bytes")
    p.add_argument("--bucket-cap", type=int, default=25 << 20, help="bytes")
    p.add_argument("--resume", action="store_true", help="keep runs already in DIR/trace.json, record the rest")
    p.add_argument("--log", default=None, help="also append progress lines to this file")
    p.add_argument("--ddp", type=int, default=0, metavar="P",
                   help="record from real DistributedDataParallel with P processes on localhost (gloo) "
                        "instead of emulated workers; --workers is ignored")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    logf = open(args.log, "a") if args.log else None

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        if logf:
            logf.write(line + "\n")
            logf.flush()

    kernels.BACKEND = args.backend
    if args.backend == "cuda" and not getattr(kernels.import_binding(), "cuda_available", lambda: False)():
        print("arcsim record: error: backend cuda: no CUDA device on this machine (use --backend cpu or auto)",
              file=sys.stderr)
        return 3
    try:
        specs = [kernels.parse_compressor(c, args.ef, args.rank, args.seed, args.warmup, args.ramp)
                 for c in args.compressors]
        if any(s["compressor"] != "dense" for s in specs) and kernels.import_binding() is None:
            raise RuntimeError("arcsim_kernels is not built: build the arcsim_kernels_py target")
    except (ValueError, RuntimeError) as e:
        print(f"arcsim record: error: {e}", file=sys.stderr)
        return 2
    if args.ddp:
        from .ddp import run_ddp
        args.argv = list(argv if argv is not None else sys.argv[1:])
        run_ddp(args, specs)
        log(f"trace written to {args.out} (DDP, {args.ddp} processes)")
        return 0
    data = dataset.load_fashion_mnist(args.data)
    if args.train_subset:
        data = (data[0][:args.train_subset], data[1][:args.train_subset], data[2], data[3])
    eval_idx = dataset.eval_subset(len(data[2]), args.eval_size, args.seed)
    model0 = models.build(args.model, args.seed)
    layout = model_layout(model0, args.model)
    buckets = bk.ddp_buckets(layout["parameters"], args.first_bucket_cap, args.bucket_cap)

    if args.resume:
        writer = TraceWriter.resume(args.out)
    else:
        writer = TraceWriter(args.out, args.name or args.model, layout,
                             description=f"{args.model} on Fashion-MNIST, emulated data-parallel workers")
        m = copy.deepcopy(model0)
        xb, yb = data[0][:args.micro_batch], data[1][:args.micro_batch]
        compute, notes = profile_compute(m, torch.optim.Adam(m.parameters(), lr=args.lr), xb, yb, steps=args.profile_steps)
        writer.set_compute(compute, notes)
    kb = kernels.import_binding()
    writer.set_provenance({
        "seed": args.seed,
        "command": "arcsim record " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        "dataset": f"fashion-mnist ({args.data}): {len(data[0])} training images sharded over the workers, "
                   f"fixed {args.eval_size}-image test subset (seed {args.seed})",
        "batch_per_worker": args.micro_batch,
        "optimizer": f"Adam lr={args.lr} (after aggregation)",
        "created_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "notes": f"per-worker gradients by {args.per_worker}; buckets {args.first_bucket_cap}/{args.bucket_cap} bytes "
                 f"(pytorch rule); samples: workers {args.sample_workers} at steps {args.sample_steps}, {args.sample_dtype}",
        "software": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "arcsim_kernels": getattr(kb, "__file__", "not built (dense mean fallback)")},
    })
    writer.save()
    done = {(c["config"], c["world"]) for c in writer.doc["convergence"]}
    # Dense first at every N: its steps to target set the compressed runs' budget.
    order = sorted(specs, key=lambda s: s["compressor"] != "dense")
    for world in args.workers:
        budget = args.max_steps
        for spec in order:
            cid = kernels.config_id(spec)
            if spec["compressor"] != "dense":
                dense = next((c for c in writer.doc["convergence"] if c["config"] == "dense" and c["world"] == world), None)
                if dense and dense["steps_to_target"] is not None and args.budget_factor > 0:
                    budget = min(args.max_steps, max(args.eval_every, math.ceil(args.budget_factor * dense["steps_to_target"])))
            if (cid, world) in done:
                log(f"{cid} N={world}: already recorded, skipped")
                continue
            log(f"{cid} N={world}: start (budget {budget} steps)")
            model = copy.deepcopy(model0)
            shards = dataset.WorkerShards(len(data[0]), world, args.micro_batch, args.seed)
            writer.drop_run(cid, world)
            result = train_run(model=model, data=data, shards=shards, world=world, spec=spec, buckets=buckets,
                               lr=args.lr, max_steps=budget, eval_every=args.eval_every, target=args.target,
                               eval_idx=eval_idx, sample_steps=set(args.sample_steps),
                               sample_workers=args.sample_workers, sample_dtype=args.sample_dtype,
                               sample_aggregate=args.sample_aggregate, writer=writer, per_worker=args.per_worker, log=log)
            writer.add_convergence(result)
            writer.save()
            log(f"{cid} N={world}: {result['stopped']} at step {result['points'][-1]['step']} "
                f"(steps_to_target {result['steps_to_target']}, {result['wall_s']:.0f} s)")
    log(f"trace written to {args.out}")
    return 0
