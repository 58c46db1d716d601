"""Data-parallel training with arcsim's compressors over a real process group (torch.distributed).

    from arcsim.distributed import HookState, comm_hook
    state = HookState(process_group=None, compressor="arctopk:0.2", ef="ef14", seed=1)
    ddp_model.register_comm_hook(state, comm_hook)

Each rank runs the compressor (the C++ kernels, arcsim_kernels.DistributedCompressor: the same code
as the emulated recorder, replay and `arcsim compress`) on its own bucket gradient, with its own
error-feedback state; the collectives the compressor asks for (the plan's: Top-K's all-gathers of
values and indices, Rand-K's all-reduce of k values, ARC-Top-K's sketch and row-value
all-reduces, PowerSGD's P and Q, the family's all-gather-v with real per-rank sizes, Ok-Topk's
all-to-all-v) are carried by TorchTransport over the process group. So the traffic is the
compressor's own, and with reduction "ordered" (the default) a P-process run gives the aggregates
of the emulated communicator bit for bit (kernels/process_group_communicator.hpp).

What a run yields besides training:
  * state.timings(): per step and bucket, wall-clock intervals (time.time() seconds) of compute
    (from the previous hook's exit, or the model's forward when `model` is given, to the bucket's
    gradient being ready), the hook, every compression kernel ("compress": before the bucket's
    last collective; "decompress": after it), every collective (op, payload bytes) and, with
    state.watch_optimizer(opt), the optimizer step; state.write_timings(path) writes them as CSV.
  * state.bytes_sent: the bytes this rank handed to the process group, counted per collective
    as the plan counts them (bytes_per_rank; an all-gather-v's own block; an all-to-all-v's
    bytes to other ranks); the `wire_bytes` of each collective row is what the transport sent
    to other ranks (the ordered all-reduce's reduce-scatter and all-gather: 2 (P-1)/P of it).
  * with `out`, the run is also a trace (layout, optional compute profile, samples, the
    loss/accuracy curve from state.log(), closed by state.close()), as `arcsim record` writes.

Faults: every error is one line naming the rank, step, bucket and cause (DistributedError;
autograd wraps what a comm hook raises into a RuntimeError from backward() whose first line is
"DistributedError: <that line>", and state.failed holds the DistributedError itself). A
rank that finds a local fault (a non-finite or non-float32 gradient, a compressor that does not
fit the bucket) publishes it in the process group's store before raising, so the other ranks,
whose collective then fails when that process exits (or times out after `timeout_s`), name it
too. Collectives time out after `timeout_s` seconds: the group HookState makes is created with
that timeout (a process group you pass keeps its own)."""
import datetime
import itertools
import os
import time
import zlib

import numpy as np
import torch
import torch.distributed as dist

from . import kernels
from .trace_io import write_csv_atomic

TIMING_COLUMNS = ("rank", "step", "bucket", "phase", "name", "op", "bytes", "wire_bytes", "start_s", "end_s")
_STATE_INDEX = itertools.count()  # HookStates are made in the same order on every rank: a shared key


class DistributedError(RuntimeError):
    """One line: 'rank R, step S, bucket B[, op]: cause'."""


class CollectiveError(RuntimeError):
    """A collective of the process group failed (a peer left, or the timeout passed)."""

    def __init__(self, op, cause):
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        super().__init__(f"{op}: {first}")
        self.op, self.cause = op, first


class TorchTransport:
    """The byte collectives of kernels/process_group_communicator.hpp's Transport over a
    torch.distributed process group. The buffers are numpy views of the compressor's memory:
    torch.from_numpy shares them, and gloo writes its results into them in place. An all-gather-v
    with unequal sizes is an all-to-all with this rank's block sent to every rank (exactly the
    bytes an all-gather-v sends; ProcessGroupGloo has no all-gather-v). NCCL takes device tensors:
    there each buffer is staged through the current CUDA device (a copy each way; not run here)."""

    def __init__(self, group):
        self.group = group
        self._rank, self._size = dist.get_rank(group), dist.get_world_size(group)
        nccl = dist.get_backend(group) == "nccl"
        self.device = torch.device("cuda", torch.cuda.current_device()) if nccl else None

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def _global(self, r):
        if self.group is None or self.group is dist.group.WORLD:
            return r
        c10d = dist.distributed_c10d
        return (c10d.get_global_rank if hasattr(c10d, "get_global_rank") else c10d._get_global_rank)(self.group, r)

    def _run(self, op, fn, *arrays):
        tensors = [torch.from_numpy(a) for a in arrays]
        if self.device is not None:
            staged = [t.to(self.device) for t in tensors]
        else:
            staged = tensors
        try:
            fn(*staged)
        except RuntimeError as e:
            raise CollectiveError(op, e) from None
        if self.device is not None:
            for t, s in zip(tensors, staged):
                t.copy_(s.cpu())

    def allgatherv(self, inp, sizes, out):
        sizes = [int(s) for s in sizes]
        if not any(sizes):
            return
        if all(s == sizes[0] for s in sizes):
            self._run("allgather", lambda i, o: dist.all_gather(list(o.split(sizes[0])), i, group=self.group),
                      inp, out)
        else:
            P = self._size
            self._run("allgatherv", lambda i, o: dist.all_to_all_single(
                o, i.repeat(P), output_split_sizes=sizes, input_split_sizes=[i.numel()] * P, group=self.group),
                inp, out)

    def alltoallv(self, inp, send, out, recv):
        self._run("alltoallv", lambda i, o: dist.all_to_all_single(
            o, i, output_split_sizes=[int(s) for s in recv], input_split_sizes=[int(s) for s in send],
            group=self.group), inp, out)

    def broadcast(self, buf, root):
        if buf.size:
            self._run("broadcast", lambda b: dist.broadcast(b, src=self._global(root), group=self.group), buf)

    def allreduce_sum_f32(self, buf):
        if buf.size:
            self._run("allreduce", lambda b: dist.all_reduce(b, group=self.group), buf)


class Reorder:
    """Moves a flat bucket between DDP's current tensor order and the order the compressor first
    saw the same tensors in (one copy each way, only for a bucket DDP rebuilt in another order)."""

    def __init__(self, now, first):
        def spans(order):
            at, out = 0, {}
            for p in order:
                out[id(p)] = (at, at + p.numel())
                at += p.numel()
            return out
        self.now, self.first = spans(now), spans(first)
        self.ids = [id(p) for p in first]

    def to_first(self, flat):
        return np.concatenate([flat[slice(*self.now[i])] for i in self.ids]) if self.ids else flat

    def from_first(self, flat):
        out = np.empty_like(flat)
        for i in self.ids:
            out[slice(*self.now[i])] = flat[slice(*self.first[i])]
        return out


class HookState:
    """State of comm_hook for one training run of one DDP model.

    process_group: the group the compressor's collectives use; None = a new group of all ranks
    with timeout `timeout_s` and the default group's backend. compressor: "dense" or "NAME:R"
    (`arcsim compressors`); ef: none | ef14 | ef21 | ef21m; seed: the run's seed (shared random
    choices: Rand-K's indices, ARC's sketch); rank, warmup, ramp ('on' | 'off'), options (option
    -> value): the option table's, as `arcsim record`; backend: where the kernels run (auto | cpu
    | cuda | reference); reduction: ordered (bit-identical to the emulated communicator) |
    native (the library's all-reduce for float32 values). model: the DDP model (or its module):
    parameter names for the layout and the trace, and the forward pre-hook that starts each
    step's compute interval. out: a trace directory rank 0 writes this run into (with model;
    see log() and close()); name, sample_steps, sample_ranks, sample_dtype, sample_aggregate,
    first_bucket_cap, bucket_cap, micro_batch, command, description: as `arcsim record`'s."""

    def __init__(self, process_group=None, compressor="dense", ef="none", seed=1, *, rank=None, warmup=None,
                 ramp=None, options=None, backend=None, reduction="ordered", timeout_s=300.0, model=None, out=None,
                 name=None, sample_steps=(), sample_ranks=(0, 1), sample_dtype="float32", sample_aggregate=False,
                 first_bucket_cap=1 << 20, bucket_cap=25 << 20, micro_batch=None, command=None, description=None):
        if not dist.is_available() or not dist.is_initialized():
            raise DistributedError("HookState: expected an initialized torch.distributed process group "
                                   "(dist.init_process_group) before the state is made")
        if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s <= 86400):
            raise DistributedError(f"HookState: timeout_s: expected seconds in (0, 86400], got {timeout_s!r}")
        self.timeout_s = float(timeout_s)
        self.group = process_group if process_group is not None else dist.new_group(
            timeout=datetime.timedelta(seconds=self.timeout_s))
        self.world, self.rank = dist.get_world_size(self.group), dist.get_rank(self.group)
        self.index = next(_STATE_INDEX)
        self.spec = kernels.parse_compressor(compressor, ef, rank, seed, warmup, ramp, options=options)
        self.cid, self.seed = kernels.config_id(self.spec), seed
        if backend is not None:
            kernels.BACKEND = backend
        self.transport = TorchTransport(self.group)
        try:
            self.comp = kernels.make_distributed_compressor(self.spec, self.transport, reduction)
        except ValueError as e:
            raise DistributedError(f"rank {self.rank}: compressor {compressor}: {e}") from None
        self.fingerprint = zlib.crc32(repr(sorted(self.comp.config.items())).encode())
        module = model.module if hasattr(model, "module") else model
        self.names = {p: n for n, p in module.named_parameters()} if module is not None else {}
        # set of tensors -> (compressor bucket id, the tensor order it was first seen in): DDP rebuilds
        # its buckets after step 0; a rebuilt bucket of the same tensors in another order is
        # permuted into the first order, so its error feedback and warm-up carry on.
        self.buckets = {}
        self.checked = set()  # bucket ids whose configuration and size every rank confirmed
        self.step, self._rows, self._bytes = 0, [], 0
        self._mark = None    # when the next bucket's compute began
        self.failed = None   # the DistributedError that stopped this rank (autograd wraps what a hook raises)
        if module is not None:
            module.register_forward_pre_hook(self._forward_begins)
        self.trace = None
        if out is not None:
            if module is None:
                raise DistributedError("HookState: out: expected model= as well (the trace's layout)")
            from .ddp_trace import RunTrace
            self.trace = RunTrace(self, module, out, name=name, sample_steps=sample_steps, sample_ranks=sample_ranks,
                                  sample_dtype=sample_dtype, sample_aggregate=sample_aggregate,
                                  first_bucket_cap=first_bucket_cap, bucket_cap=bucket_cap, micro_batch=micro_batch,
                                  command=command, description=description)

    # ------------------------------------------------------------------ results
    @property
    def bytes_sent(self):
        """Bytes this rank handed to the process group (payload of every collective, as the plan counts it)."""
        return self._bytes

    def timings(self):
        """Every timed interval so far: dicts with step, bucket (-1: the whole step), phase
        (compute | hook | compress | decompress | collective | sample | optimizer), start_s, end_s
        (wall clock), rank, name (kernel), op, bytes, wire_bytes (collectives)."""
        return list(self._rows)

    def write_timings(self, path):
        """The timings as CSV (columns TIMING_COLUMNS), written atomically."""
        write_csv_atomic(path, TIMING_COLUMNS, ({k: (f"{r[k]:.6f}" if k.endswith("_s") else r.get(k, ""))
                                                 for k in TIMING_COLUMNS} for r in self._rows))

    def watch_optimizer(self, optimizer):
        """Times optimizer.step() as the step's `optimizer` phase; returns the optimizer."""
        inner = optimizer.step

        def step(*a, **kw):
            t0 = time.time()
            try:
                return inner(*a, **kw)
            finally:
                self._row(self.step - 1, -1, "optimizer", t0, time.time())
                self._mark = time.time()
        optimizer.step = step
        return optimizer

    # ------------------------------------------------------------------ trace (with out=)
    def set_compute(self, compute, notes=None):
        """A compute profile (profiler.profile_compute) for the trace, on rank 0."""
        if self.trace is not None:
            self.trace.set_compute(compute, notes)

    def log(self, step, metrics):
        """Held-out metrics at `step` for the trace's convergence log (rank 0 keeps them)."""
        if self.trace is not None:
            self.trace.log(step, metrics)

    def close(self, target, target_mode=None, eval_every=None, max_steps=None):
        """Rank 0 writes this run's convergence log (target 'METRIC:VALUE' as `record --target`)."""
        return self.trace.close(target, target_mode, eval_every, max_steps) if self.trace is not None else None

    # ------------------------------------------------------------------ the hook
    def _forward_begins(self, *_):
        self._mark = time.time()

    def _row(self, step, bucket, phase, start, end, **extra):
        self._rows.append({"rank": self.rank, "step": step, "bucket": bucket, "phase": phase, "name": "", "op": "",
                           "bytes": "", "wire_bytes": "", "start_s": start, "end_s": end, **extra})

    def _where(self, bucket, op=None):
        return f"rank {self.rank}, step {self.step}, bucket {bucket}" + (f", {op}" if op else "")

    def _store(self):
        try:
            return dist.distributed_c10d._get_default_store()
        except Exception:
            return None

    def _fail_here(self, bucket, cause):
        """A fault found on this rank: published for the others, then raised."""
        msg = f"{self._where(bucket)}: {cause}"
        store = self._store()
        if store is not None:
            try:
                store.set(f"arcsim/fault/{self.index}/msg", msg)
                store.add(f"arcsim/fault/{self.index}/n", 1)
            except Exception:
                pass  # the store's host is gone: the others report the lost peer instead
        self.failed = DistributedError(msg)
        raise self.failed from None

    def _fail_collective(self, bucket, err):
        """A collective failed: name the rank that published a cause, or say that a peer left."""
        peer = None
        store = self._store()
        if store is not None:
            try:
                if store.add(f"arcsim/fault/{self.index}/n", 0) > 0:
                    peer = store.get(f"arcsim/fault/{self.index}/msg").decode(errors="replace")
            except Exception:
                peer = None
        if peer:
            msg = f"{self._where(bucket, err.op)}: stopped because {peer}"
        else:
            msg = (f"{self._where(bucket, err.op)}: a peer left or the collective timed out (timeout "
                   f"{self.timeout_s:g} s): {err.cause}")
        self.failed = DistributedError(msg)
        raise self.failed from None

    def _check_ranks_agree(self, cid, numel):
        """First call of a bucket: every rank has the same compressor configuration, world and bucket size."""
        mine = torch.tensor([self.fingerprint, self.world, numel, self.seed], dtype=torch.int64)
        got = [torch.empty_like(mine) for _ in range(self.world)]
        try:
            dist.all_gather(got, mine, group=self.group)
        except RuntimeError as e:
            self._fail_collective(cid, CollectiveError("allgather (configuration check)", e))
        fields = ("compressor configuration", "world size", "bucket elements", "seed")
        for r, theirs in enumerate(got):
            for f, a, b in zip(fields, mine.tolist(), theirs.tolist()):
                if a != b:
                    self.failed = DistributedError(f"{self._where(cid)}: rank {r} has another {f} ({b} against this "
                                                   f"rank's {a}): every rank must build HookState and its model alike")
                    raise self.failed
        self.checked.add(cid)

    def hook(self, bucket):
        t_ready = time.time()
        params = bucket.parameters()
        key = tuple(id(p) for p in params)
        cid, first = self.buckets.setdefault(frozenset(key), (len(self.buckets), params))
        if self._mark is not None:
            self._row(self.step, cid, "compute", self._mark, t_ready)
        buf = bucket.buffer()
        if buf.is_sparse or buf.layout != torch.strided:
            self._fail_here(cid, "sparse gradients: arcsim's compressors take dense float32 buckets")
        if buf.dtype != torch.float32:
            self._fail_here(cid, f"gradient dtype {str(buf.dtype).replace('torch.', '')}: arcsim's compressors take "
                                 "float32 gradients (the type sent is option value_dtype)")
        if not buf.is_contiguous():
            self._fail_here(cid, "a non-contiguous bucket buffer: expected DDP's flat contiguous bucket")
        if cid not in self.checked:
            self._check_ranks_agree(cid, buf.numel())
        host = buf.detach() if buf.device.type == "cpu" else buf.detach().cpu()  # the kernels take host memory
        grad = host.numpy()
        order = Reorder(params, first) if key != tuple(id(p) for p in first) else None
        if order is not None:
            grad = order.to_first(grad)
        names = [self.names.get(p, f"bucket{cid}.tensor{i}") for i, p in enumerate(first)]
        try:
            agg, rep = self.comp.step(bucket=cid, shapes=[tuple(p.shape) for p in first], grad=grad, names=names)
        except CollectiveError as e:
            self._fail_collective(cid, e)
        except ValueError as e:  # the binding: non-finite values, a compressor that does not fit the bucket
            self._fail_here(cid, str(e))
        self._timeline(cid, rep["timeline"])
        if self.trace is not None:
            t0 = time.time()
            try:
                self.trace.sample(self.step, cid, tuple(id(p) for p in first), names, grad, agg)
            except RuntimeError as e:
                self._fail_collective(cid, CollectiveError("gather (trace sample)", e))
            self._row(self.step, cid, "sample", t0, time.time())
        out = torch.from_numpy(agg if order is None else order.from_first(agg))
        if buf.device.type != "cpu":
            out = out.to(buf.device)
        t_out = time.time()
        self._row(self.step, cid, "hook", t_ready, t_out)
        self._mark = t_out
        if bucket.is_last():
            self.step += 1
        fut = torch.futures.Future()
        fut.set_result(out)
        return fut

    def _timeline(self, cid, timeline):
        calls = timeline["collectives"]
        last_call_end = max((c["end_s"] for c in calls), default=float("-inf"))
        for k in timeline["kernels"]:
            phase = "decompress" if k["start_s"] >= last_call_end else "compress"
            self._row(self.step, cid, phase, k["start_s"], k["end_s"], name=k["name"])
        for c in calls:
            self._bytes += c["bytes"]
            self._row(self.step, cid, "collective", c["start_s"], c["end_s"], op=c["op"], bytes=c["bytes"],
                      wire_bytes=c["wire_bytes"])


def plan_bytes(op, rank):
    """Bytes `rank` hands to the process group for one collective op of an arcsim-plan/1 bucket,
    as state.bytes_sent counts them: an all-gather-v's own block, an all-to-all-v's bytes to the
    other ranks, every other op's bytes_per_rank."""
    if op["op"] == "allgatherv":
        return op["bytes_by_rank"][rank]
    if op["op"] == "alltoallv":
        return sum(b for d, b in enumerate(op["bytes_matrix"][rank]) if d != rank)
    return op["bytes_per_rank"]


def comm_hook(state, bucket):
    """DDP comm hook: this rank's bucket -> arcsim's compressor over the process group -> the aggregate."""
    return state.hook(bucket)


def default_timings_path(out, cid, world, seed, rank):
    """Where `arcsim record --ddp` puts a run's timings: next to the trace, one CSV per rank."""
    return os.path.join(out, "timings", f"{cid}-n{world}-seed{seed}", f"rank{rank}.csv")

