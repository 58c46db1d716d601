"""Rank bodies for tests/python/test_distributed.py: each runs in its own spawned process with a
gloo process group on localhost and reports through a queue."""
import os
import time
import traceback

import numpy as np
import torch
import torch.distributed as dist

SHAPES = [(48, 16), (16,), (8, 3, 3, 2)]
STEPS = 3


def gradients(P, step):
    """[P, numel] float32: heavy-tailed, distinct per rank and step (the same in every process)."""
    n = sum(int(np.prod(s)) for s in SHAPES)
    return np.random.default_rng(100 + step).standard_t(3, size=(P, n)).astype(np.float32)


def configurations():
    from traces.recorder import kernels
    names, takers = kernels.registry()
    out = []
    for name in names:
        for ef in (("none", "ef14", "ef21", "ef21m") if name in takers.get("ef", []) else ("none",)):
            text = "dense" if name == "dense" else f"{name}:0.1"
            out.append((text, ef))
    return out


def spec_of(text, ef):
    from traces.recorder import kernels
    return kernels.parse_compressor(text, ef, warmup=None if text == "dense" else 1,
                                    options=None)


def _init(rank, world, port, timeout_s=60):
    import datetime
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=timeout_s))


def equivalence(rank, world, port, q):
    """Every configuration: STEPS calls of one bucket; the aggregates and each call's bytes."""
    try:
        _init(rank, world, port)
        from traces.recorder import kernels
        from traces.recorder.distributed import TorchTransport
        transport = TorchTransport(None)
        out = {}
        for text, ef in configurations():
            comp = kernels.make_distributed_compressor(spec_of(text, ef), transport)
            runs = []
            for s in range(STEPS):
                agg, rep = comp.step(bucket=0, shapes=SHAPES, grad=np.ascontiguousarray(gradients(world, s)[rank]))
                runs.append((agg.copy(), [(c["op"], c["bytes"]) for c in rep["timeline"]["collectives"]]))
            out[(text, ef)] = runs
        q.put((rank, out))
    except Exception:
        q.put((rank, traceback.format_exc()))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def tiny_model(seed=3):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))


class Scale(torch.nn.Module):
    """Elementwise only (CPU matrix products have no float16)."""

    def __init__(self, dtype):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(3, dtype=dtype))

    def forward(self, x):
        return x[:, :3] * self.w


def batch(rank, step):
    g = torch.Generator().manual_seed(1000 * step + rank)
    return torch.randn(8, 12, generator=g), torch.randn(8, 3, generator=g)


def train(rank, world, port, q, compressor, ef, steps=20, fault=None, timeout_s=60, mismatch=False, dtype=None):
    """DDP with comm_hook: per step the loss of rank 0's batch, and every hook call's inputs and
    output (names, shapes, gradient, aggregate). fault: ('nan' | 'exit', rank, step)."""
    from traces.recorder.distributed import HookState, comm_hook
    t0 = time.time()
    try:
        _init(rank, world, port, timeout_s)
        model = tiny_model() if dtype is None else Scale(dtype)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        ratio_text = compressor if not (mismatch and rank == 1) else compressor.replace("0.2", "0.3")
        state = HookState(None, ratio_text, ef, seed=1, timeout_s=timeout_s, model=ddp)
        calls = []

        def spy(st, bucket):
            grad = bucket.buffer().detach().clone().numpy()
            names = [st.names[p] for p in bucket.parameters()]
            shapes = [tuple(p.shape) for p in bucket.parameters()]
            step = st.step
            fut = comm_hook(st, bucket)
            calls.append((step, names, shapes, grad, fut.value().detach().clone().numpy()))
            return fut
        ddp.register_comm_hook(state, spy)
        opt = state.watch_optimizer(torch.optim.SGD(ddp.parameters(), lr=0.1))
        losses = []
        for step in range(steps):
            x, y = batch(rank, step)
            if dtype is not None:
                x, y = x.to(dtype), y.to(dtype)
            if fault and fault[1] == rank and fault[2] == step and fault[0] == "exit":
                os._exit(3)
            opt.zero_grad()
            loss = ((ddp(x) - y) ** 2).mean()
            if fault and fault[1] == rank and fault[2] == step and fault[0] == "nan":
                loss = loss * float("nan")
            losses.append(float(loss))
            try:
                loss.backward()
            except RuntimeError:
                if state.failed is not None:  # autograd wraps the hook's DistributedError
                    raise state.failed from None
                raise
            opt.step()
        q.put((rank, {"losses": losses, "calls": calls, "bytes_sent": state.bytes_sent,
                      "timings": state.timings()}))
    except Exception as e:
        q.put((rank, {"error": str(e), "type": type(e).__name__, "elapsed": time.time() - t0}))
        time.sleep(0.5)  # let the queue's feeder thread hand the message over before the group goes
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
