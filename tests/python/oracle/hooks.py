"""The authors' DDP communication hooks for one bucket, re-implemented in PyTorch.

A bucket is a flat float32 vector per worker made of tensors of the given shapes, in bucket order.
Each compressor returns (agg, local): agg = (1/N) sum_i C_i(x_i), the tensor every worker applies,
and local[i] = C_i(x_i), worker i's own message scattered into a zeroed bucket (what error
feedback needs).

  arc_topk  ARC-Top-K (group_topk_hook_no_reshape): per tensor, the sketch P_i = X_i V (V shared,
            m x r), one all-reduce of the sketch per tensor, /N, row scores ||P_j||^2, the top-k
            rows (k = max(1, int(ratio * rows))); the selected rows' values of the whole bucket in
            one all-reduce, /N, scattered by assignment into a zeroed bucket. 1-D tensors are their
            own sketch (every entry is a row); >2-D tensors are viewed as rows of m = 2 t^2
            (t = last dim), the reference reshape rule. exact=True: every tensor is its own sketch
            (exact row energies of the average, the authors' "ArcTopK" of the synthetic script).
  topk      Top-K (sparse_hook_sync, per tensor): each worker's own magnitude top-k of every
            tensor, values (float32) and bucket indices (int32) all-gathered, all N contributions
            scatter-added in worker order into a zeroed bucket, /N.
  randk     Rand-K (sparse_hook_sync, random=True): k shared indices per tensor, one all-reduce of
            the values, /N, scattered by assignment; no d/k rescale.

Ties in a top-k selection go to the lowest index (a stable descending sort): torch.topk leaves ties
unspecified, and the gradients of a float16 trace have many exact ties, so the oracle pins the rule
that arcsim documents instead of inheriting an arbitrary one.
"""
import math

import torch


def tensor_id(bucket, t):
    """The RNG stream of tensor t of a bucket, arcsim's convention: (bucket << 16) | t."""
    assert 0 <= t < 65536
    return (bucket << 16) | t


def k_of(ratio, n):
    """The hooks' k: max(1, int(n * ratio)), 0 for an empty tensor."""
    return 0 if n == 0 else min(n, max(1, int(n * ratio)))


def reference_view(shape):
    """(rows, cols, own_sketch) of the authors' reshape rule."""
    d = math.prod(shape)
    if len(shape) <= 1:
        return d, 1, True
    if len(shape) == 2:
        return shape[0], shape[1], False
    t = shape[-1]
    m = 2 * t * t
    if m == 0 or d % m:
        raise ValueError(f"shape {tuple(shape)}: the reference rule needs numel divisible by 2*t^2 = {m}")
    return d // m, m, False


def top_indices(scores, k):
    """The k largest scores, lowest index on ties, returned in ascending index order."""
    order = torch.sort(scores, descending=True, stable=True).indices[:k]
    return torch.sort(order).values


def _offsets(shapes):
    off = [0]
    for s in shapes:
        off.append(off[-1] + math.prod(s))
    return off


def arc_topk(comm, shapes, xs, *, ratio, rank, seed, step, bucket, sketch_matrix, exact=False, record=None):
    """record: an optional list that receives, per tensor, (averaged sketch, scores, rows kept)."""
    n_workers, numel = comm.n, sum(math.prod(s) for s in shapes)
    off = _offsets(shapes)
    selected, values = [], [[] for _ in range(n_workers)]
    for t, shape in enumerate(shapes):
        rows, cols, own = reference_view(shape)
        mats = [x[off[t]:off[t + 1]].view(rows, cols) for x in xs]
        if own or exact:
            sketches = [m.clone() for m in mats]
        else:
            v = torch.from_numpy(sketch_matrix(cols, rank, seed, step, tensor_id(bucket, t)))
            sketches = [torch.matmul(m, v) for m in mats]
        p = comm.all_reduce_sum(sketches)  # one blocking all-reduce per tensor
        p.div_(n_workers)
        scores = (p * p).sum(dim=1)
        rows_kept = top_indices(scores, k_of(ratio, rows))
        selected.append((rows_kept, cols))
        if record is not None:
            record.append((p, scores, rows_kept))
        for w in range(n_workers):
            values[w].append(mats[w][rows_kept].reshape(-1))
    local_vals = [torch.cat(v) if v else torch.zeros(0) for v in values]
    avg = comm.all_reduce_sum(local_vals)  # one all-reduce of the bucket's values
    avg.div_(n_workers)

    def scatter(vals):
        out = torch.zeros(numel, dtype=torch.float32)
        pos = 0
        for t, (rows_kept, cols) in enumerate(selected):
            block = out[off[t]:off[t + 1]].view(-1, cols)
            cnt = rows_kept.numel() * cols
            block[rows_kept] = vals[pos:pos + cnt].view(-1, cols)
            pos += cnt
        return out

    return scatter(avg), [scatter(v) for v in local_vals]


def topk(comm, shapes, xs, *, ratio):
    n_workers, numel = comm.n, sum(math.prod(s) for s in shapes)
    off = _offsets(shapes)
    idx, vals = [], []
    for x in xs:
        parts = []
        for t, s in enumerate(shapes):
            seg = x[off[t]:off[t + 1]]
            parts.append(top_indices(seg.abs(), k_of(ratio, seg.numel())) + off[t])
        i = torch.cat(parts).to(torch.int32)
        idx.append(i)
        vals.append(x[i.long()])
    all_vals = comm.all_gather(vals)  # two blocking all-gathers: values, then indices
    all_idx = comm.all_gather(idx)
    agg = torch.zeros(numel, dtype=torch.float32)
    for v, i in zip(all_vals, all_idx):  # worker order
        agg.index_add_(0, i.long(), v)
    agg.div_(n_workers)
    local = []
    for v, i in zip(vals, idx):
        out = torch.zeros(numel, dtype=torch.float32)
        out[i.long()] = v
        local.append(out)
    return agg, local


def randk(comm, shapes, xs, *, ratio, seed, step, bucket, randk_indices):
    n_workers, numel = comm.n, sum(math.prod(s) for s in shapes)
    off = _offsets(shapes)
    parts = []
    for t, s in enumerate(shapes):
        d = math.prod(s)
        parts.append(torch.from_numpy(randk_indices(d, k_of(ratio, d), seed, step, tensor_id(bucket, t))
                                      .astype("int64")) + off[t])
    idx = torch.cat(parts)
    vals = [x[idx] for x in xs]
    avg = comm.all_reduce_sum(vals)
    avg.div_(n_workers)
    agg = torch.zeros(numel, dtype=torch.float32)
    agg[idx] = avg
    local = []
    for v in vals:
        out = torch.zeros(numel, dtype=torch.float32)
        out[idx] = v
        local.append(out)
    return agg, local


class HookState:
    """Error feedback around a compressor, per bucket, as the authors' hooks keep it.

    compress(comm, shapes, xs, step, bucket) -> (agg, local). `step` is the bucket's call index
    (0-based, every call counts), which keys V and the Rand-K indices.
      none : out = Agg(C(g_i)).
      ef14 : u_i = g_i + e_i; c_i = C(u_i); e_i = u_i - c_i; out = Agg(c_i); e_i starts at 0.
      ef21 : ef21_init "dense" (the DDP hooks): the first call is a dense all-reduce, e_i = g_i,
             ebar = Agg(g_i), out = ebar; "zero" (the synthetic script): e_i = 0, ebar = 0.
             Then d_i = g_i - e_i; c_i = C(d_i); e_i += c_i; ebar += Agg(c_i); out = ebar.
    """

    def __init__(self, comm, compress, ef="none", ef21_init="dense"):
        if ef not in ("none", "ef14", "ef21") or ef21_init not in ("dense", "zero"):
            raise ValueError(f"ef/ef21_init: expected none|ef14|ef21 and dense|zero, got {ef}/{ef21_init}")
        self.comm, self.compress, self.ef, self.ef21_init = comm, compress, ef, ef21_init
        self.calls, self.e, self.ebar = {}, {}, {}

    def __call__(self, bucket, shapes, grads):
        comm, n = self.comm, self.comm.n
        step = self.calls.get(bucket, 0)
        self.calls[bucket] = step + 1
        if self.ef == "none":
            return self.compress(comm, shapes, grads, step, bucket)[0]
        if self.ef == "ef14":
            e = self.e.setdefault(bucket, [torch.zeros_like(g) for g in grads])
            u = [g + ei for g, ei in zip(grads, e)]
            agg, local = self.compress(comm, shapes, u, step, bucket)
            self.e[bucket] = [ui - ci for ui, ci in zip(u, local)]
            return agg
        if bucket not in self.e:
            if self.ef21_init == "dense":
                out = comm.all_reduce_sum(grads)
                out.div_(n)
                self.e[bucket] = [g.clone() for g in grads]
                self.ebar[bucket] = out.clone()
                return out
            self.e[bucket] = [torch.zeros_like(g) for g in grads]
            self.ebar[bucket] = torch.zeros_like(grads[0])
        e = self.e[bucket]
        d = [g - ei for g, ei in zip(grads, e)]
        agg, local = self.compress(comm, shapes, d, step, bucket)
        self.e[bucket] = [ei + ci for ei, ci in zip(e, local)]
        self.ebar[bucket] = self.ebar[bucket] + agg
        return self.ebar[bucket].clone()
