"""`arcsim record --ddp P --script FILE.py`: real DistributedDataParallel training of a recorder
script in P processes on localhost (gloo), each rank compressing with arcsim's comm hook
(arcsim.distributed: HookState, comm_hook; traces/recorder/distributed.py) so that the
compressor's own traffic goes through the process group. Rank 0 writes the trace (layout, compute
profile, samples, convergence logs); every rank writes its timings next to it,
timings/<config>-n<P>-seed<S>/rank<R>.csv (columns: distributed.TIMING_COLUMNS). A user's own DDP
job uses the same HookState and comm_hook (examples/ddp_mlp.py)."""
import copy
import os
import socket

import torch
import torch.distributed as dist

from . import data as dataset
from . import kernels
from .args_task import task_of, trace_seed
from .distributed import HookState, comm_hook, default_timings_path
from .targets import parse_target
from .task import ScriptError


# ---------------------------------------------------------------- `arcsim record --ddp P`

def _worker(rank, world, port, args, out_queue):
    try:
        _train(rank, world, port, args)
        out_queue.put((rank, "ok"))
    except (ScriptError, ValueError, RuntimeError) as e:
        out_queue.put((rank, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(rank, world, port, args):
    from .profiler import profile_compute
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    kernels.BACKEND = getattr(args, "backend", kernels.BACKEND)  # a spawned process starts from the default
    torch.set_num_threads(max(1, args.threads // world))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    task = task_of(args)
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
            state = HookState(None, c, args.ef, seed, rank=args.rank, warmup=args.warmup, ramp=args.ramp,
                              options=getattr(args, "compressor_options_dict", None),
                              timeout_s=getattr(args, "timeout", 300.0), model=ddp, out=args.out,
                              name=args.name or task.name, sample_steps=args.sample_steps if seed == tseed else (),
                              sample_ranks=args.sample_workers, sample_dtype=args.sample_dtype,
                              sample_aggregate=args.sample_aggregate, first_bucket_cap=args.first_bucket_cap,
                              bucket_cap=args.bucket_cap, micro_batch=micro_batch, command=command,
                              description=f"{task.name} ({task.source}), real DDP ({world} processes, gloo)")
            if rank == 0 and "compute" not in state.trace.writer.doc:
                m = copy.deepcopy(model0)
                x0, y0 = task.batch(ds, torch.arange(micro_batch))
                state.set_compute(*profile_compute(m, task.make_optimizer(m.parameters(), args.lr),
                                                   lambda: task.loss(m, x0, y0), micro_batch,
                                                   steps=args.profile_steps))
            ddp.register_comm_hook(state, comm_hook)
            opt = state.watch_optimizer(task.make_optimizer(ddp.parameters(), args.lr))
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
            state.write_timings(default_timings_path(args.out, state.cid, world, seed, rank))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ddp(args, task=None):
    """Starts args.ddp processes on localhost and waits for all of them (a failed rank does not
    kill the others: they stop on their own, naming it, within --timeout); raises one line on any
    failure: the rank that found the cause first, and how many others stopped with it."""
    import multiprocessing as mp
    if os.path.exists(os.path.join(args.out, "trace.json")) and not args.resume:
        raise ValueError(f"--out {args.out}: already holds a trace; pass --resume to add runs to it, "
                         "or choose another directory")
    ctx = mp.get_context("spawn")
    q = ctx.SimpleQueue()
    port = free_port()
    procs = [ctx.Process(target=_worker, args=(r, args.ddp, port, args, q), daemon=True) for r in range(args.ddp)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    said = {}
    while not q.empty():
        r, msg = q.get()
        said[r] = msg
    failed = {r: m for r, m in said.items() if m != "ok"}
    silent = [r for r, p in enumerate(procs) if r not in said]
    if not failed and not silent:
        return
    causes = [m for m in failed.values() if "stopped because" not in m and "a peer left" not in m]
    first = causes[0] if causes else (next(iter(failed.values())) if failed else None)
    same = sum(1 for m in failed.values() if m == first)
    others = len(failed) - same
    parts = [first + (f" (on {same} ranks)" if same > 1 else "")] if first else []
    if others:
        parts.append(f"{others} other rank(s) stopped with it")
    if silent:
        parts.append(f"rank(s) {', '.join(map(str, silent))} exited without a word (exit codes "
                     f"{', '.join(str(procs[r].exitcode) for r in silent)})")
    raise RuntimeError("--ddp: " + "; ".join(parts))
