"""arcsim record --hook FILE.py:FUNCTION: runs a PyTorch DDP comm hook on the CPU over the DDP buckets
of a trace's layout, with every torch op intercepted (TorchDispatchMode) and torch.distributed's
collectives answered by a recording process group of --world ranks, and writes what one step of the
hook does, bucket by bucket, as an arcsim-plan/1 file: one kernel op per torch op ("torch.<op>",
its elements, the bytes it reads and writes, its measured CPU time) and one collective op per call
(op, bytes per rank, blocking when the hook waits for it before going on). A sweep re-times the
torch ops for a GPU (kernels/torch_ops.hpp: a dispatch floor per op, the real price of sorts and
permutations) and simulates the collectives, so a researcher's own Python compressor is costed
without writing C++ (docs/hooks.md).

The recording group emulates peers that hold the same gradient as rank 0: an all-reduce multiplies
by the world size (the sum of identical parts), an all-gather repeats the local part, a broadcast
and a barrier do nothing. Hooks whose control flow depends on other ranks' values see those values."""
import argparse
import importlib
import importlib.util
import json
import math
import pathlib
import sys
import time

from .buckets import ddp_buckets
from .textsafe import one_line
from .trace_io import read_json, write_atomic

PROG = "arcsim record --hook"
FORMAT = "arcsim-plan/1"
DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16", "float64": "float64"}
# Ops that only make views or read metadata: no kernel on a GPU (they still cost a dispatch).
VIEW_OPS = {"view", "_unsafe_view", "reshape", "alias", "slice", "select", "detach", "t", "transpose", "expand",
            "as_strided", "unsqueeze", "squeeze", "permute", "split", "split_with_sizes", "unbind", "lift_fresh",
            "_reshape_alias", "view_as", "narrow"}


class HookError(Exception):
    pass


def load_hook(spec):
    """FILE.py:FUNCTION, MODULE:FUNCTION, or torch:NAME (PyTorch's built-in ddp_comm_hooks)."""
    if ":" not in spec:
        raise HookError(f"--hook: expected FILE.py:FUNCTION, MODULE:FUNCTION or torch:NAME, got {spec!r}")
    where, name = spec.rsplit(":", 1)
    if where == "torch":
        from torch.distributed.algorithms.ddp_comm_hooks import default_hooks, powerSGD_hook
        for m in (default_hooks, powerSGD_hook):
            if hasattr(m, name):
                return m, getattr(m, name)
        raise HookError(f"--hook: torch:{name}: no such hook in torch.distributed.algorithms.ddp_comm_hooks "
                        "(e.g. fp16_compress_hook, allreduce_hook, powerSGD_hook)")
    try:
        if where.endswith(".py"):
            path = pathlib.Path(where)
            if not path.is_file():
                raise HookError(f"--hook: {where}: no such file")
            s = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(s)
            s.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except HookError:
        raise
    except Exception as e:  # the user's module failed to import
        raise HookError(f"--hook: {where}: cannot import: {type(e).__name__}: {e}") from None
    if not callable(getattr(module, name, None)):
        raise HookError(f"--hook: {where}: expected a function {name}(state, bucket)")
    return module, getattr(module, name)


def make_state(module, hook, group, config):
    import torch.distributed.algorithms.ddp_comm_hooks.powerSGD_hook as psgd
    if hook is getattr(psgd, "powerSGD_hook", None) or hook is getattr(psgd, "batched_powerSGD_hook", None):
        opts = {"matrix_approximation_rank": 1, "start_powerSGD_iter": 2, "use_error_feedback": True,
                "warm_start": True}
        opts.update(config)
        return psgd.PowerSGDState(process_group=group, **opts)
    factory = getattr(module, "make_state", None)
    if factory is not None:
        try:
            return factory(group, **config)
        except (TypeError, ValueError) as e:
            raise HookError(f"--config: {e}") from None
    if config:
        raise HookError("--config: the hook's module has no make_state(process_group, **config) to take it")
    return group  # PyTorch's default hooks take the process group as their state


class Bucket:
    """What a comm hook sees of a DDP bucket (torch.distributed.GradBucket's methods)."""

    def __init__(self, index, buffer, shapes, last):
        self._index, self._buffer, self._shapes, self._last = index, buffer, shapes, last

    def index(self):
        return self._index

    def buffer(self):
        return self._buffer

    def set_buffer(self, b):
        self._buffer.copy_(b)

    def gradients(self):
        out, at = [], 0
        for s in self._shapes:
            n = math.prod(s)
            out.append(self._buffer[at:at + n].view(s))
            at += n
        return out

    def parameters(self):
        return self.gradients()

    def is_last(self):
        return self._last


class Recorder:
    """The ops of the bucket being recorded, in program order."""

    def __init__(self):
        self.ops, self.on, self.paused = [], False, 0

    def kernel(self, name, elements, nbytes, seconds):
        if self.on and not self.paused:
            self.ops.append({"kind": "kernel", "name": "torch." + name, "elements": int(elements),
                             "bytes_moved": int(nbytes), "duration_s": seconds, "duration_source": "measured-cpu"})

    def collective(self, op, nbytes, dtype, blocking):
        entry = {"kind": "collective", "op": op, "bytes_per_rank": int(nbytes), "dtype": dtype, "blocking": blocking}
        if self.on:
            self.ops.append(entry)
        return entry


def _tensors(x):
    import torch
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (list, tuple)):
        for y in x:
            yield from _tensors(y)
    elif isinstance(x, dict):
        for y in x.values():
            yield from _tensors(y)


def dispatch_mode(rec):
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Intercept(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            t0 = time.perf_counter()
            out = func(*args, **(kwargs or {}))
            dt = time.perf_counter() - t0
            name = func.__name__.split(".")[0]
            if name in VIEW_OPS:
                rec.kernel(name, 0, 0, dt)
            else:
                ins = list(_tensors(args)) + list(_tensors(kwargs or {}))
                outs = list(_tensors(out))
                nbytes = sum(t.numel() * t.element_size() for t in ins + outs)
                elements = max([t.numel() for t in ins + outs] or [0])
                rec.kernel(name, elements, nbytes, dt)
            return out

    return Intercept()


class Group:
    """The recording process group: size() ranks, this one rank 0."""

    def __init__(self, world):
        self.world = world

    def size(self):
        return self.world

    def rank(self):
        return 0


def patch_distributed(rec, world):
    import torch
    import torch.distributed as dist

    class Work:
        def __init__(self, entry, result):
            self.entry, self.result = entry, result

        def wait(self, *a, **k):
            self.entry["blocking"] = True
            return True

        def is_completed(self):
            return True

        def get_future(self):
            fut = torch.futures.Future()
            fut.set_result(self.result)
            return fut

    def dtype_name(t):
        return str(t.dtype).replace("torch.", "")

    def issue(op, t, nbytes, result, async_op):
        entry = rec.collective(op, nbytes, dtype_name(t), not async_op)
        return Work(entry, result) if async_op else None

    def quiet(fn):
        rec.paused += 1
        try:
            fn()
        finally:
            rec.paused -= 1

    def all_reduce(tensor, op=None, group=None, async_op=False):
        quiet(lambda: tensor.mul_(world))
        return issue("allreduce", tensor, tensor.numel() * tensor.element_size(), [tensor], async_op)

    def all_gather(tensor_list, tensor, group=None, async_op=False):
        quiet(lambda: [t.copy_(tensor) for t in tensor_list])
        return issue("allgather", tensor, tensor.numel() * tensor.element_size(), tensor_list, async_op)

    def all_gather_into_tensor(output, tensor, group=None, async_op=False):
        quiet(lambda: output.copy_(tensor.repeat(world)))
        return issue("allgather", tensor, tensor.numel() * tensor.element_size(), [output], async_op)

    def broadcast(tensor, src=0, group=None, async_op=False):
        return issue("broadcast", tensor, tensor.numel() * tensor.element_size(), [tensor], async_op)

    def reduce_scatter_tensor(output, input, op=None, group=None, async_op=False):
        quiet(lambda: output.copy_(input.view(world, -1)[0] * world))
        return issue("reduce_scatter", input, input.numel() * input.element_size(), [output], async_op)

    def barrier(group=None, async_op=False, **k):
        return issue("allreduce", torch.zeros(1), 4, [], async_op)

    saved = {}
    patches = {"all_reduce": all_reduce, "all_gather": all_gather, "all_gather_into_tensor": all_gather_into_tensor,
               "_all_gather_base": all_gather_into_tensor, "broadcast": broadcast,
               "reduce_scatter_tensor": reduce_scatter_tensor, "_reduce_scatter_base": reduce_scatter_tensor,
               "barrier": barrier, "get_world_size": lambda group=None: world, "get_rank": lambda group=None: 0,
               "is_initialized": lambda: True}

    def unsupported(name):
        def f(*a, **k):
            raise HookError(f"the hook called torch.distributed.{name}, which the recording group does not emulate "
                            "(all_reduce, all_gather, all_gather_into_tensor, broadcast, reduce_scatter_tensor, "
                            "barrier)")
        return f

    for name in ("all_to_all", "all_to_all_single", "reduce", "gather", "scatter", "send", "recv", "isend", "irecv",
                 "all_gather_object", "broadcast_object_list"):
        patches.setdefault(name, unsupported(name))
    for name, fn in patches.items():
        saved[name] = getattr(dist, name, None)
        setattr(dist, name, fn)

    def restore():
        for name, fn in saved.items():
            if fn is None:
                delattr(dist, name)
            else:
                setattr(dist, name, fn)

    return restore


def record(hook_spec, trace_dir, world, config, steps, seed, first_cap, cap, log=print):
    import torch
    module, hook = load_hook(hook_spec)
    doc = read_json(pathlib.Path(trace_dir) / "trace.json")
    params = doc["layout"]["parameters"]
    buckets = ddp_buckets(params, first_cap=first_cap, cap=cap)
    group = Group(world)
    rec = Recorder()
    restore = patch_distributed(rec, world)
    try:
        state = make_state(module, hook, group, config)
        gen = torch.Generator().manual_seed(seed)
        plan_buckets = []
        for step in range(steps):
            last_step = step == steps - 1
            for b, bk in enumerate(buckets):
                shapes = [tuple(params[i]["shape"]) for i in bk["params"]]
                dtype = getattr(torch, DTYPES.get(bk["dtype"], "float32"))
                buf = torch.randn(sum(math.prod(s) for s in shapes), generator=gen).to(dtype)
                bucket = Bucket(b, buf, shapes, b == len(buckets) - 1)
                rec.ops, rec.on = [], last_step
                try:
                    with dispatch_mode(rec):
                        fut = hook(state, bucket)
                        if fut is None or not hasattr(fut, "wait"):
                            raise HookError(f"{hook_spec}: expected the hook to return a torch.futures.Future, "
                                            f"got {type(fut).__name__}")
                        result = fut.wait()
                except HookError:
                    raise
                except Exception as e:
                    raise HookError(f"{hook_spec}: step {step}, bucket {b}: {type(e).__name__}: {e}") from None
                rec.on = False
                if not isinstance(result, torch.Tensor) or result.numel() != buf.numel():
                    raise HookError(f"{hook_spec}: step {step}, bucket {b}: expected the future's value to be the "
                                    f"bucket's tensor of {buf.numel()} elements")
                if last_step:
                    plan_buckets.append({"bucket": b, "elements": bk["elements"],
                                         "tensors": [params[i]["name"] for i in bk["params"]], "ops": rec.ops})
            log(f"step {step + 1}/{steps}: {len(buckets)} buckets")
    finally:
        restore()
    return {"format": FORMAT, "compressor": {"name": "hook", "hook": hook_spec, "config": config},
            "world_size": world, "buckets": plan_buckets}


def parser():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hook", required=True, metavar="FILE.py:FUNCTION",
                   help="the comm hook: FILE.py:FUNCTION, MODULE:FUNCTION, or torch:NAME (PyTorch's "
                        "fp16_compress_hook, powerSGD_hook, ...)")
    p.add_argument("--trace", required=True, metavar="DIR", help="trace whose layout gives the DDP buckets")
    p.add_argument("--world", type=int, default=4, metavar="P", help="ranks of the recording group (default 4)")
    p.add_argument("--config", default="{}", metavar="JSON",
                   help="keyword arguments for the module's make_state(process_group, **config) (default {})")
    p.add_argument("--steps", type=int, default=1, metavar="S",
                   help="hook calls per bucket; the last step is written (default 1: give a hook with warm-up "
                        "more, e.g. powerSGD_hook's start_powerSGD_iter)")
    p.add_argument("--seed", type=int, default=1, help="seed of the random gradients (default 1)")
    p.add_argument("--first-bucket-cap", type=int, default=1 << 20, metavar="BYTES", help="DDP's first bucket cap")
    p.add_argument("--bucket-cap", type=int, default=25 << 20, metavar="BYTES", help="DDP's bucket cap")
    p.add_argument("--out", required=True, metavar="PLAN.json", help="plan file to write (atomically)")
    return p


def main(argv):
    args = parser().parse_args(argv)
    try:
        if not 1 <= args.world <= 1024:
            raise HookError(f"--world: expected ranks in 1..1024, got {args.world}")
        if not 1 <= args.steps <= 10000:
            raise HookError(f"--steps: expected 1..10000, got {args.steps}")
        try:
            config = json.loads(args.config)
        except json.JSONDecodeError as e:
            raise HookError(f"--config: expected a JSON object: {e.msg}") from None
        if not isinstance(config, dict):
            raise HookError("--config: expected a JSON object of make_state's keyword arguments")
        plan = record(args.hook, args.trace, args.world, config, args.steps, args.seed, args.first_bucket_cap,
                      args.bucket_cap, log=lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", flush=True))
        write_atomic(args.out, (json.dumps(plan, indent=1) + "\n").encode())
        ops = sum(len(b["ops"]) for b in plan["buckets"])
        print(f"wrote {args.out}: {len(plan['buckets'])} buckets, {ops} ops", flush=True)
        return 0
    except (HookError, OSError, ValueError, KeyError) as e:
        print(f"{PROG}: error: {one_line(str(e))}", file=sys.stderr, flush=True)
        return 2
