"""Your own multi-process DDP training with arcsim's compressor sending the compressed traffic:

    PYTHONPATH=/path/to/arcsim /usr/bin/python3 examples/ddp_mlp.py --out trace --procs 3 \
        --compressor arctopk:0.2

Each process trains the MLP of examples/mlp_mse.py on its own shard; arcsim's comm hook
(arcsim.distributed) compresses each rank's DDP bucket with the C++ kernels and sends what the
compressor sends (ARC-Top-K: the sketch and the selected rows' values) through gloo. Rank 0
writes the convergence log into --out/trace.json; every rank writes its timings to
--out/timings/rank<R>.csv and prints the bytes it sent. Run it once per compressor into the
same --out."""
import argparse
import os
import pathlib
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mlp_mse  # noqa: E402  (the model, data and loss)

from arcsim.distributed import HookState, comm_hook  # noqa: E402
from arcsim.recorder import profile_compute  # noqa: E402


def train(rank, world, port, args):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(args.seed)                          # same initial weights on every rank
    model = torch.nn.parallel.DistributedDataParallel(mlp_mse.model())
    state = HookState(None, compressor=args.compressor, ef=args.ef, seed=args.seed, timeout_s=60, model=model,
                      out=args.out, name="mlp-mse", sample_steps=[0], micro_batch=mlp_mse.micro_batch)
    data = mlp_mse.train_data()
    if rank == 0:  # per-layer times, FLOPs and bytes of one micro-batch, for the trace
        m = mlp_mse.model()
        x0, y0 = data[:mlp_mse.micro_batch]
        state.set_compute(*profile_compute(m, mlp_mse.optimizer(m.parameters()),
                                           lambda: mlp_mse.loss(m(x0), y0), mlp_mse.micro_batch, steps=5))
    model.register_comm_hook(state, comm_hook)
    opt = state.watch_optimizer(mlp_mse.optimizer(model.parameters()))
    g = torch.Generator().manual_seed(args.seed * 100 + rank)   # each rank its own data order
    for step in range(args.steps + 1):
        if step % args.eval_every == 0:
            state.log(step, mlp_mse.evaluate(model.module))
        if step == args.steps:
            break
        x, y = data[torch.randint(0, len(data), (mlp_mse.micro_batch,), generator=g)]
        opt.zero_grad()
        mlp_mse.loss(model(x), y).backward()
        opt.step()
    state.close(target=args.target, eval_every=args.eval_every, max_steps=args.steps)
    state.write_timings(os.path.join(args.out, "timings", f"{state.cid}-rank{rank}.csv"))
    print(f"rank {rank}: {args.compressor}, {args.steps} steps, {state.bytes_sent} bytes sent through gloo")
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--procs", type=int, default=3)
    p.add_argument("--compressor", default="arctopk:0.2")
    p.add_argument("--ef", default="ef14", help="error feedback of a compressed run (arcsim's default is none)")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target", default="loss:0.25")
    args = p.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(train, args=(args.procs, port, args), nprocs=args.procs)


if __name__ == "__main__":
    main()
