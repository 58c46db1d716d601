"""The recording loop shared by `arcsim record` and the Python API:

    from arcsim.recorder import record
    record(model=make_model, train_data=make_data, loss=my_loss, evaluate=my_eval,
           out="trace", workers=[4, 8], compressors=["dense", "arctopk:0.2"], seeds=[1, 2, 3],
           max_steps=200, eval_every=20, target="loss:0.3")

For every N in `workers` and every seed, dense runs first; compressed runs get a step budget of
budget_factor x dense's steps to target at the same (N, seed), capped by max_steps. Each run is
one convergence log (config, world, seed); trace.json is rewritten atomically after every run, so
an interrupted recording keeps the finished runs (`resume=True` continues it)."""
import argparse
import copy
import datetime
import math
import os
import pathlib
import platform
import time

import numpy as np
import torch

from . import buckets as bk
from . import data as dataset
from . import kernels
from .emulated import train_run
from .layout import model_layout
from .profiler import profile_compute
from .targets import parse_target
from .task import ScriptError, Task
from .trace_io import TraceWriter, read_trace, run_seed

# rank, warmup, ramp: None = not given, i.e. the option table's default (rank 4, warmup 0, ramp
# off; `arcsim compressors`), or the preset's value: the recorder has no defaults of its own for
# a compressor's options, so a run left at the defaults is the configuration a spec, `arcsim
# compress` and replay get with the same name.
DEFAULTS = dict(workers=[8], compressors=["dense"], ef="none", rank=None, warmup=None, ramp=None, compressor_options={},
                micro_batch=None,
                lr=1e-3, seed=None, seeds=None, target=None, target_mode=None, max_steps=1000, budget_factor=3.0,
                eval_every=25, sample_steps=[0], sample_workers=[0, 1], sample_dtype="float32",
                sample_aggregate=False, per_worker="vmap", profile_steps=20, threads=None,
                first_bucket_cap=1 << 20, bucket_cap=25 << 20, resume=False, name=None, log=None, command=None,
                dataset=None)


def _positive_int(name, v, minimum=1):
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"--{name}: expected an integer >= {minimum}, got {v}")


def check_options(o):
    """Record's own inputs; ValueError with one line naming the option."""
    if not o.workers:
        raise ValueError("--workers: expected at least one worker count")
    for n in o.workers:
        _positive_int("workers", n)
    if len(set(o.workers)) != len(o.workers):
        raise ValueError(f"--workers: expected distinct worker counts, got {o.workers}")
    if o.micro_batch is not None:
        _positive_int("micro-batch", o.micro_batch)
    _positive_int("max-steps", o.max_steps)
    _positive_int("eval-every", o.eval_every)
    _positive_int("first-bucket-cap", o.first_bucket_cap)
    _positive_int("bucket-cap", o.bucket_cap)
    if o.rank is not None:
        _positive_int("rank", o.rank)
    _positive_int("profile-steps", o.profile_steps)
    if o.warmup is not None:
        _positive_int("warmup", o.warmup, 0)
    if o.threads is not None:
        _positive_int("threads", o.threads)
    if not (math.isfinite(o.lr) and o.lr > 0):
        raise ValueError(f"--lr: expected a finite learning rate > 0, got {o.lr}")
    if not (math.isfinite(o.budget_factor) and o.budget_factor >= 0):
        raise ValueError(f"--budget-factor: expected a finite number >= 0 (0: off), got {o.budget_factor}")
    seeds = o.seeds if o.seeds else [o.seed if o.seed is not None else 1]
    for s in seeds:
        _positive_int("seeds", s, 0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds: expected distinct seeds, got {seeds}")
    if any(s < 0 for s in o.sample_steps):
        raise ValueError(f"--sample-steps: expected steps >= 0, got {o.sample_steps}")
    bad = [w for w in o.sample_workers if w < 0 or w >= min(o.workers)]
    if bad:
        raise ValueError(f"--sample-workers: expected ranks below the smallest --workers ({min(o.workers)}), "
                         f"got {bad}")
    if o.sample_dtype not in ("float32", "float16"):
        raise ValueError(f"--sample-dtype: expected float32 or float16, got {o.sample_dtype}")
    return seeds


def check_out(out, resume):
    """The output directory: writable; an existing trace only with resume (never overwritten).
    With resume and no trace yet the recording starts one, so one resumable command serves the
    first run and every rerun."""
    root = pathlib.Path(out)
    trace = root / "trace.json"
    if root.exists() and not root.is_dir():
        raise ValueError(f"--out {out}: expected a directory, got a file")
    if not resume and trace.exists():
        try:
            doc = read_trace(root, check_data=False)
            what = f"{len(doc['convergence'])} convergence logs, {len(doc['samples'])} samples"
        except Exception:
            what = "unreadable"
        raise ValueError(f"--out {out}: already holds a trace ({trace}: {what}); pass --resume to add runs to it, "
                         "or choose another directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".arcsim-write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"--out {out}: expected a writable directory, got {e.strerror or e}") from None


def _text(v):
    """An option value as in trace.json (true/false) and the flags."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return "unstated" if v is None else str(v)


def check_resume_options(doc, specs, out):
    """Runs added to a trace (record --resume, the DDP hook into an existing trace) must have the
    options of the trace's logs of the same config id: ramp is stated in a log but not in its id
    (kernels.config_id), so a ramp-off Top-K run would otherwise land among ramp-on logs of
    topk-0.2-ef14 (and an old trace's logs may leave other options out of the id). ValueError
    with one line naming the option."""
    for spec in specs:
        cid = kernels.config_id(spec)
        for log in doc.get("convergence", []):
            if log.get("config") != cid:
                continue
            diff = kernels.differing_options(log.get("compressor", {}), spec)
            if not diff:
                continue
            key, theirs, mine = diff[0]
            opt = kernels.option_name(key)
            flag = "--ramp on|off" if key == "ramp" else f"--{opt.replace('_', '-')} or --option {opt}=VALUE"
            raise ValueError(f"--out {out}: --resume: the trace's {cid} logs were recorded with {key} {_text(theirs)}, "
                             f"this recording has {key} {_text(mine)} (same config id: {flag} to match them, or "
                             "another --out)")


def options(**kw):
    unknown = set(kw) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"record(): unknown argument(s) {', '.join(sorted(unknown))}")
    o = dict(DEFAULTS)
    o.update(kw)
    return argparse.Namespace(**o)


def record_task(task, o, out, log=print):
    """Records `task` into `out` with options `o` (see DEFAULTS); returns the trace directory."""
    seeds = check_options(o)
    target = parse_target(o.target, o.target_mode) if not hasattr(o.target, "reached") else o.target
    opts = dict(o.compressor_options or {})
    flags = {k: v for k, v in (("rank", o.rank), ("warmup", o.warmup), ("ramp", o.ramp)) if v is not None}
    unused = kernels.unused_options(o.compressors, dict(flags, **opts))
    if unused:
        raise ValueError(f"--{unused[0].replace('_', '-')}: does not apply to any of the compressors "
                         f"{', '.join(o.compressors)}")
    specs = [kernels.parse_compressor(c, o.ef, o.rank, seeds[0], o.warmup, o.ramp, options=opts)
             for c in o.compressors]
    if any(s["compressor"] != "dense" for s in specs) and kernels.import_binding() is None:
        raise RuntimeError("arcsim_kernels is not built: build the arcsim_kernels_py target")
    check_out(out, o.resume)
    if o.threads:
        torch.set_num_threads(o.threads)
    micro_batch = o.micro_batch or task.micro_batch or 16

    writer = TraceWriter.resume(out) if o.resume and (pathlib.Path(out) / "trace.json").is_file() else None
    if writer is not None:
        check_resume_options(writer.doc, specs, out)
    trace_seed = o.seed if o.seed is not None else seeds[0]
    if writer is not None:
        # The held-out data and the samples belong to the trace's seed, whatever seeds are added.
        trace_seed = writer.doc.get("provenance", {}).get("seed", trace_seed)
    ds = task.train_dataset(trace_seed)
    for w in o.workers:
        if len(ds) // w < micro_batch:
            raise ScriptError(f"{task.source}: train_data(): expected at least one micro-batch ({micro_batch}) per "
                              f"worker at N={w} ({micro_batch * w} items), got {len(ds)} items")
    model0 = task.build_model(trace_seed)
    layout = model_layout(model0, task.name)
    buckets = bk.ddp_buckets(layout["parameters"], o.first_bucket_cap, o.bucket_cap)
    norms = sorted({type(m).__name__ for m in model0.modules() if isinstance(m, torch.nn.modules.batchnorm._NormBase)})
    if norms:
        log(f"note: the model has {', '.join(norms)}: each emulated worker normalises with its own micro-batch's "
            "statistics, as a DDP rank does, but the workers share one model, so the running statistics "
            "(used in evaluation) see every worker's micro-batch in turn; in DDP each rank keeps its own and "
            "rank 0's are evaluated (record --ddp P trains real ranks)")
    # One micro-batch through model and loss before anything is written: a broken script fails here.
    x0, y0 = task.batch(ds, torch.arange(micro_batch))
    task.loss(model0, x0, y0, where=" on the first micro-batch")
    metrics = task.evaluate(model0, trace_seed)
    if target.metric not in metrics:
        raise ScriptError(f"{task.source}: evaluate(model): expected the target metric '{target.metric}' in its "
                          f"result, got {', '.join(sorted(metrics))}")

    if writer is None:
        writer = TraceWriter(out, o.name or task.name, layout,
                             description=task.description or f"{task.name} ({task.source}), emulated data-parallel workers")
        m = copy.deepcopy(model0)
        compute, notes = profile_compute(m, task.make_optimizer(m.parameters(), o.lr),
                                         lambda: task.loss(m, x0, y0), micro_batch, steps=o.profile_steps)
        writer.set_compute(compute, notes)
    elif writer.doc["layout"]["parameters"] != layout["parameters"]:
        raise ValueError(f"--out {out}: --resume: the trace's layout is not this model's (different parameters)")
    kb = kernels.import_binding()
    created = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    command = o.command or f"record({task.source})"
    if o.resume and writer.doc.get("provenance"):
        # Keep how the trace was first recorded; say what each continuation added.
        writer.doc["provenance"].setdefault("resumed", []).append({"command": command, "created_utc": created,
                                                                   "seeds": seeds})
    else:
        writer.set_provenance({
            "seed": trace_seed,
            "command": command,
            "dataset": o.dataset or f"{task.source}: train_data(), {len(ds)} items sharded over the workers; "
                                    f"held-out metrics from {'evaluate(model)' if task.evaluate_fn else 'eval_data()'}",
            "batch_per_worker": micro_batch,
            "optimizer": task.optimizer_text(o.lr),
            "created_utc": created,
            "notes": f"per-worker gradients by {o.per_worker}; buckets {o.first_bucket_cap}/{o.bucket_cap} bytes "
                     f"(pytorch rule); samples: workers {o.sample_workers} at steps {o.sample_steps}, "
                     f"{o.sample_dtype}, from the seed-{trace_seed} runs; target {target.text()}",
            "software": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                         "arcsim_kernels": getattr(kb, "__file__", "not built (dense mean fallback)")},
        })
    writer.save()
    done = {(c["config"], c["world"], run_seed(c, trace_seed)) for c in writer.doc["convergence"]}
    # Dense first at every N: its steps to target (same seed) set the compressed runs' budget.
    order = sorted(specs, key=lambda s: s["compressor"] != "dense")
    # Each seed's model is built when its first run starts (model0 went through the checks above:
    # a forward in train mode could have moved buffers such as BatchNorm's running statistics).
    models0 = {}
    total = len(o.workers) * len(seeds) * len(order)
    todo = sum(1 for w in o.workers for sd in seeds for sp in order
               if (kernels.config_id(dict(sp, seed=sd)), w, sd) not in done)
    finished, spent = 0, 0.0  # runs of this process and their wall time: the ETA's rate
    for world in o.workers:
        for seed in seeds:
            if seed not in models0:
                models0[seed] = task.build_model(seed)
            budget = o.max_steps
            for spec0 in order:
                spec = dict(spec0, seed=seed)
                cid = kernels.config_id(spec)
                if spec["compressor"] != "dense":
                    dense = next((c for c in writer.doc["convergence"] if c["config"] == "dense" and c["world"] == world
                                  and run_seed(c, trace_seed) == seed), None)
                    if dense and dense["steps_to_target"] is not None and o.budget_factor > 0:
                        budget = min(o.max_steps, max(o.eval_every, math.ceil(o.budget_factor * dense["steps_to_target"])))
                tag = f"{cid} N={world} seed {seed}"
                if (cid, world, seed) in done:
                    log(f"{tag}: already recorded, skipped")
                    continue
                log(f"{tag}: start (budget {budget} steps)")
                model = copy.deepcopy(models0[seed])
                shards = dataset.WorkerShards(len(ds), world, micro_batch, seed)
                sampled = seed == trace_seed  # samples come from the trace seed's runs only
                writer.drop_run(cid, world, seed, trace_seed)
                # Paired seeds: every configuration of (N, seed) starts from the same weights
                # (models0), the same data order (shards) and the same global RNG state (what the
                # user's model or loss may draw, e.g. dropout), whatever ran before it.
                torch.manual_seed(seed)
                result = train_run(task=task, model=model, ds=ds, shards=shards, world=world, spec=spec,
                                   buckets=buckets, lr=o.lr, max_steps=budget, eval_every=o.eval_every,
                                   target=target, eval_seed=trace_seed,
                                   sample_steps=set(o.sample_steps) if sampled else set(),
                                   sample_workers=o.sample_workers, sample_dtype=o.sample_dtype,
                                   sample_aggregate=o.sample_aggregate, writer=writer, per_worker=o.per_worker,
                                   log=log)
                result["seed"] = seed
                writer.add_convergence(result)
                writer.save()
                finished, spent = finished + 1, spent + result["wall_s"]
                left = (todo - finished) * spent / finished
                log(f"{tag}: {result['stopped']} at step {result['points'][-1]['step']} "
                    f"(steps_to_target {result['steps_to_target']}, {result['wall_s']:.0f} s); "
                    f"{total - todo + finished}/{total} runs done, about {_duration(left)} left")
    log(f"trace written to {out}")
    return str(out)


def _duration(seconds):
    """'42 s', '7 min', '2.5 h': an estimate's precision."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def add_costs(task, out, micro_batch=None, log=print):
    """Counts each layer's cost (FLOPs, bytes, launches of one worker micro-batch) into the
    compute profile of the existing trace in `out`, without training or re-timing anything."""
    from .costs import CostCounter
    from .layout import owning_layers
    writer = TraceWriter.resume(out) if (pathlib.Path(out) / "trace.json").is_file() else None
    if writer is None:
        raise ValueError(f"--out {out}: --costs-only: expected an existing trace (trace.json not found)")
    compute = writer.doc.get("compute")
    if not compute or not compute.get("layers"):
        raise ValueError(f"--out {out}: --costs-only: expected a trace with a per-layer compute profile")
    prov = writer.doc.get("provenance", {})
    seed = prov.get("seed", 1)
    mb = micro_batch or prov.get("batch_per_worker") or task.micro_batch or 16
    model = task.build_model(seed)
    if model_layout(model, task.name)["parameters"] != writer.doc["layout"]["parameters"]:
        raise ValueError(f"--out {out}: --costs-only: the trace's layout is not this model's (different parameters)")
    ds = task.train_dataset(seed)
    x, y = task.batch(ds, torch.arange(mb))
    modules = {(n or "(root)"): m for n, m in model.named_modules()}
    counter = CostCounter(modules, sorted(set(owning_layers(model).values())))
    task.loss(model, x, y)
    counter.remove()
    for layer in compute["layers"]:
        layer["cost"] = counter.costs.get(layer["name"], {"unknown": "not called in forward"})
    writer.doc.setdefault("compute_notes", {})["cost"] = (
        f"FLOPs/bytes/launches counted from the shapes of one forward of a {mb}-item micro-batch "
        "(traces/recorder/costs.py), added after the times were measured")
    writer.save()
    log(f"costs of {len(compute['layers'])} layers added to {out}/trace.json (micro-batch {mb})")
    return str(out)


def _as_fn(x):
    return x if callable(x) and not isinstance(x, (torch.nn.Module, torch.utils.data.Dataset)) else (lambda: x)


def record(*, model, train_data, loss, out, evaluate=None, eval_data=None, optimizer=None, collate=None,
           script_name="record()", quiet=False, **kw):
    """Python API: the same parameters as `arcsim record --script` (model, train_data: a function
    or the object itself; a module passed as is starts every seed from its own weights). Returns
    the trace directory. Raises ScriptError / ValueError with one line on bad input."""
    name = kw.pop("name", None)
    micro_batch = kw.pop("micro_batch", None)
    task = Task(script_name, _as_fn(model) if isinstance(model, torch.nn.Module) else model,
                _as_fn(train_data), loss, evaluate=evaluate,
                eval_data=None if eval_data is None else _as_fn(eval_data), optimizer=optimizer,
                micro_batch=micro_batch, collate=collate, name=name or "model")
    if isinstance(model, torch.nn.Module):
        proto = copy.deepcopy(model)
        task.model_fn = lambda: copy.deepcopy(proto)
    o = options(name=name, **kw)
    if o.target is None:
        raise ValueError("record(): target: expected METRIC:VALUE, e.g. 'loss:0.3' or 'accuracy:0.9'")
    return record_task(task, o, out, log=(lambda m: None) if quiet else
                       (lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", flush=True)))
