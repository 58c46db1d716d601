"""One rank of a testbed run, started by testbed/run.py inside the rank's namespace:

    ip netns exec NS /usr/bin/python3 -m testbed.rank JOB.json RANK

JOB.json: {"mode": "train" | "bench", "world", "master", "port", "dev", "timeout_s", ...}.
train: the script (the `record --script` contract) trained for `steps` steps with arcsim's comm
hook (arcsim.distributed) for one (compressor, ef, seed); writes OUT/rank<R>.csv (timings) and,
on every rank, OUT/steps-rank<R>.csv (step, start_s, end_s, cpu_s: the process's CPU time over
the step) and, on rank 0, OUT/curve.csv (step, train_s: training wall time so far, excluding
evaluation, then the metrics). bench: gloo collectives of the given sizes, OUT/bench-rank<R>.csv.
Every rank writes OUT/done-rank<R> ('ok' or the error line) last."""
import datetime
import json
import os
import sys
import time

from traces.recorder.trace_io import write_atomic, write_csv_atomic


def _init(job, rank):
    os.environ.update(MASTER_ADDR=job["master"], MASTER_PORT=str(job["port"]), GLOO_SOCKET_IFNAME=job["dev"],
                      OMP_NUM_THREADS="1")
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=job["world"],
                            timeout=datetime.timedelta(seconds=job["timeout_s"]))
    return torch, dist


def train(job, rank, out):
    torch, dist = _init(job, rank)
    from traces.recorder import data as dataset
    from traces.recorder.distributed import HookState, comm_hook
    from traces.recorder.task import load_script
    from traces.recorder.targets import parse_target
    task = load_script(job["script"], {"seed": job["seed"]})
    seed, steps, eval_every = job["seed"], job["steps"], job["eval_every"]
    model = task.build_model(seed)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    state = HookState(None, job["compressor"], job["ef"], seed, options=job["options"], timeout_s=job["timeout_s"],
                      model=ddp)
    ddp.register_comm_hook(state, comm_hook)
    opt = state.watch_optimizer(task.make_optimizer(ddp.parameters(), job["lr"]))
    ds = task.train_dataset(seed)
    micro = job["micro_batch"] or task.micro_batch or 16
    shards = dataset.WorkerShards(len(ds), job["world"], micro, seed)
    target = parse_target(job["target"], None)
    torch.manual_seed(seed)
    step_rows, curve, train_s = [], [], 0.0
    for step in range(steps + 1):
        if rank == 0 and (step % eval_every == 0 or step == steps):
            metrics = task.evaluate(model, seed)
            curve.append([step, f"{train_s:.6f}"] + [f"{float(metrics[k]):.8g}" for k in sorted(metrics)])
            names = sorted(metrics)
        if step == steps:
            break
        dist.barrier(group=state.group)  # evaluation (rank 0 only) is not part of a step's time
        t0, c0 = time.time(), time.process_time()
        x, y = task.batch(ds, shards.batch(rank))
        opt.zero_grad(set_to_none=True)
        try:
            task.loss(ddp, x, y, where=f" at step {step}, rank {rank}").backward()
        except RuntimeError:
            if state.failed is not None:
                raise state.failed from None
            raise
        opt.step()
        t1 = time.time()
        train_s += t1 - t0
        step_rows.append([step, f"{t0:.6f}", f"{t1:.6f}", f"{time.process_time() - c0:.6f}"])
    state.write_timings(os.path.join(out, f"rank{rank}.csv"))
    write_csv_atomic(os.path.join(out, f"steps-rank{rank}.csv"), ["step", "start_s", "end_s", "cpu_s"], step_rows)
    if rank == 0:
        write_csv_atomic(os.path.join(out, "curve.csv"), ["step", "train_s"] + names, curve)
        write_atomic(os.path.join(out, "target.json"), json.dumps({"target": job["target"], "metric": target.metric}))
    dist.destroy_process_group()


class _Bucket:
    """What the comm hook reads of DDP's GradBucket: one float32 matrix parameter of about `n`
    elements (square-ish, so that PowerSGD compresses it as it does a layer's weight)."""

    def __init__(self, torch, n):
        rows = 1 << max(0, (n.bit_length() - 1) // 2)
        self.param = torch.nn.Parameter(torch.zeros(rows, max(1, n // rows)))
        self.flat = torch.ones(self.param.numel())

    def parameters(self):
        return [self.param]

    def buffer(self):
        return self.flat

    def is_last(self):
        return True


HOOK_BYTES = (65536, 1048576)  # bucket sizes of the hook benchmark


def _bench_hook(job, torch, dist):
    """`hook:<label>` rows, one compressor of the spec each: the comm hook's own cost per call
    (arcsim.distributed's HookState.hook: the checks, numpy views, the binding, the compressor's
    work outside its timed kernels, the tensor back, the future), i.e. each call's time minus its
    kernels and collectives, at two bucket sizes; `repeats` x 2 calls after one warm-up (which also
    runs the ranks' configuration check)."""
    from traces.recorder.distributed import HookState
    rows = []
    for comp in job["compressors"]:
        state = HookState(None, comp["text"], comp["ef"], 1, options=comp["options"], timeout_s=job["timeout_s"])
        for nbytes in HOOK_BYTES:
            bucket = _Bucket(torch, nbytes // 4)
            for rep in range(job["repeats"] * 2 + 1):
                dist.barrier()
                step = state.step
                t0 = time.time()
                state.hook(bucket).wait()
                total = time.time() - t0
                inner = sum(r["end_s"] - r["start_s"] for r in state.timings()
                            if r["step"] == step and r["phase"] in ("compress", "decompress", "collective"))
                if rep:
                    rows.append([f"hook:{comp['label']}", bucket.flat.numel() * 4, rep,
                                 f"{max(0.0, total - inner):.6f}"])
    return rows


def bench(job, rank, out):
    """Each op at each size through arcsim's own transport (traces/recorder/distributed.py's
    TorchTransport, as the comm hook calls it: numpy views, Python dispatch included): `repeats`
    timed calls after one warm-up, each rank timing its own call (the slowest rank's time is the
    collective's). Then `hook:<label>`: the comm hook's own cost per call (_bench_hook)."""
    torch, dist = _init(job, rank)
    import numpy as np
    from traces.recorder.distributed import TorchTransport
    tr = TorchTransport(None)
    rows = []
    P = job["world"]
    for op in job["ops"]:
        for size in job["sizes"]:
            n = max(1, size // 4) * 4
            x = np.ones(n, dtype=np.uint8)
            for rep in range(job["repeats"] + 1):
                dist.barrier()
                t0 = time.time()
                if op == "allreduce":
                    tr.allreduce_sum_f32(np.ones(n // 4, dtype=np.float32))
                elif op == "allgather":
                    tr.allgatherv(x, [n] * P, np.empty(n * P, dtype=np.uint8))
                elif op == "broadcast":
                    tr.broadcast(x, 0)
                elif op == "alltoall":
                    tr.alltoallv(np.ones(n * P, dtype=np.uint8), [n] * P, np.empty(n * P, dtype=np.uint8), [n] * P)
                else:
                    raise ValueError(f"ops: expected allreduce, allgather, broadcast or alltoall, got {op}")
                if rep:
                    rows.append([op, n, rep, f"{time.time() - t0:.6f}"])
    rows += _bench_hook(job, torch, dist)
    write_csv_atomic(os.path.join(out, f"bench-rank{rank}.csv"), ["op", "bytes", "repeat", "seconds"], rows)
    dist.destroy_process_group()


def main():
    job_path, rank = sys.argv[1], int(sys.argv[2])
    job = json.loads(open(job_path).read())
    out = job["out"]
    try:
        (train if job["mode"] == "train" else bench)(job, rank, out)
        write_atomic(os.path.join(out, f"done-rank{rank}"), "ok")
    except BaseException as e:  # one line for the driver, whatever stopped the rank
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        write_atomic(os.path.join(out, f"done-rank{rank}"), text)
        sys.exit(1)


if __name__ == "__main__":
    main()
