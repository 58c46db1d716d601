"""Bytes each rank hands to a real gloo process group per compressor call, against the plan.

    PYTHONPATH=.:build/python /usr/bin/python3 bench/distributed_traffic.py [--ranks 4]

P processes on localhost train nothing: each compresses one bucket (a 256 x 256 weight, its bias
and a 64 x 3 x 3 x 3 convolution) for 3 calls with every compressor of the registry (ratio 0.1,
EF14 where it applies, warm-up 1: calls 1 and 2 are compressed) through arcsim.distributed's
transport, and counts the bytes of every collective at the process-group boundary. The table
(markdown, stdout) gives the mean bytes per compressed call of rank 0, dense's, their ratio, and
whether every rank's count equals the plan's bytes of the emulated run of the same gradients."""
import argparse
import multiprocessing as mp
import os
import queue
import socket
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
SHAPES = [(256, 256), (256,), (64, 3, 3, 3)]


def grads(P, step):
    n = sum(int(np.prod(s)) for s in SHAPES)
    return np.random.default_rng(7 + step).standard_t(3, size=(P, n)).astype(np.float32)


def configs():
    from traces.recorder import kernels
    names, takers = kernels.registry()
    return [("dense", "none")] + [(f"{n}:0.1", "ef14" if n in takers.get("ef", []) else "none")
                                  for n in names if n != "dense"]


def spec(text, ef):
    from traces.recorder import kernels
    return kernels.parse_compressor(text, ef, warmup=None if text == "dense" else 1)


def rank_main(rank, world, port, q):
    import torch
    import torch.distributed as dist
    from traces.recorder import kernels
    from traces.recorder.distributed import TorchTransport
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    out = {}
    for text, ef in configs():
        comp = kernels.make_distributed_compressor(spec(text, ef), TorchTransport(None))
        out[text] = [[c["bytes"] for c in comp.step(bucket=0, shapes=SHAPES, grad=np.ascontiguousarray(
            grads(world, s)[rank]))[1]["timeline"]["collectives"]] for s in range(3)]
    q.put((rank, out))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, default=4)
    P = p.parse_args().ranks
    from traces.recorder import kernels
    from traces.recorder.distributed import plan_bytes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=rank_main, args=(r, P, port, q)) for r in range(P)]
    for pr in procs:
        pr.start()
    got = {}
    while len(got) < P:
        try:
            r, v = q.get(timeout=1)
            got[r] = v
        except queue.Empty:
            if not any(pr.is_alive() for pr in procs):
                sys.exit("a rank failed")
    for pr in procs:
        pr.join()
    dense = None
    rows = []
    for text, ef in configs():
        emulated = kernels.make_compressor(spec(text, ef), P)
        agree = True
        for s in range(3):
            _, rep = emulated.step(bucket=0, shapes=SHAPES, grads=grads(P, s))
            plan = [op for op in rep["plan_bucket"]["ops"] if "op" in op]
            agree &= all(got[r][text][s] == [plan_bytes(op, r) for op in plan] for r in range(P))
        per_call = sum(sum(got[0][text][s]) for s in (1, 2)) / 2
        dense = per_call if text == "dense" else dense
        rows.append((text, ef, per_call, agree))
    print(f"| compressor | ef | bytes per call, rank 0 | dense bytes | ratio | = plan on all {P} ranks |")
    print("|---|---|---:|---:|---:|---|")
    for text, ef, b, agree in rows:
        print(f"| {text} | {ef} | {b:,.0f} | {dense:,.0f} | {b / dense:.3f} | {'yes' if agree else 'NO'} |")


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"\n({time.time() - t0:.1f} s)", file=sys.stderr)
