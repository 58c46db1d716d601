"""PyTorch DDP comm hooks written the way the ARC-Top-K authors' hooks work, as their paper and
code are described in docs/hooks.md (written here from that description, not copied): a Python
loop over the tensors of a bucket, per-tensor torch ops, blocking collectives. arcsim's own
compressors (arcsim.distributed) are fused C++ kernels with one collective per bucket; these
hooks are what `implementation: "hook"` costs, recorded by `arcsim record --hook`:

    arcsim record --hook arcsim/reference_hooks.py:topk_hook --trace traces/layouts/llama-60m-b1 \
                  --world 4 --config '{"ratio": 0.2}' --out topk-hook-plan.json

Every hook takes (state, bucket) with state = make_state(process_group, **config):
  topk_hook     per tensor: k = max(1, floor(numel x ratio)), top-k of |x| (int32 indices); per
                bucket two blocking all-gathers (values, indices), scatter-add of every rank's
                part, divide by the world size
  randk_hook    per bucket a seed from a generator shared by the ranks, torch.manual_seed; per
                tensor randperm(numel)[:k]; one blocking all-reduce of the values, divide,
                scatter by assignment
  arctopk_hook  per tensor a sketch (1-D: the tensor itself; 2-D [n, m]: x V with V = randn(m, r);
                more dims: rows of 2 t^2 columns) all-reduced blocking, row scores, top-k rows;
                one blocking all-reduce of the selected rows of the bucket, assignment
Error feedback ef14 (u = g + e; e = u with the sent entries zeroed) or none; warm-up steps run a
dense all-reduce (an asynchronous future, as DDP's default hook).
"""
import torch
import torch.distributed as dist


class HookState:
    def __init__(self, process_group=None, ratio=0.2, rank=1, ef="ef14", seed=1, warmup=0):
        if ef not in ("ef14", "none"):
            raise ValueError(f"ef: expected ef14 or none, got {ef!r}")
        if not 0 < ratio <= 1:
            raise ValueError(f"ratio: expected a fraction in (0, 1], got {ratio!r}")
        self.process_group = process_group
        self.ratio, self.rank, self.ef, self.warmup = ratio, int(rank), ef, int(warmup)
        self.iter = 0
        self.errors = {}
        self.rng = torch.Generator().manual_seed(seed)


def make_state(process_group=None, **config):
    return HookState(process_group, **config)


def _group(state):
    g = state.process_group if state.process_group is not None else dist.group.WORLD
    return g, g.size()


def _done(state, bucket, buffer):
    if bucket.is_last():
        state.iter += 1
    fut = torch.futures.Future()
    fut.set_result(buffer)
    return fut


def _dense(state, bucket):
    g, n = _group(state)
    buf = bucket.buffer().div_(n)
    if bucket.is_last():
        state.iter += 1
    return dist.all_reduce(buf, group=g, async_op=True).get_future().then(lambda f: f.value()[0])


def _with_error(state, bucket):
    """u = g + e (ef14): the quantity compressed."""
    buf = bucket.buffer()
    if state.ef == "ef14":
        e = state.errors.get(bucket.index())
        if e is not None:
            buf.add_(e)
    return buf


def _keep_error(state, bucket, u, sent_masks):
    """ef14: e = u with the entries sent zeroed (per tensor masks, in bucket order)."""
    if state.ef != "ef14":
        return
    e = u.clone()
    offset = 0
    for t, mask in zip(bucket.gradients(), sent_masks):
        view = e[offset:offset + t.numel()]
        view[mask] = 0
        offset += t.numel()
    state.errors[bucket.index()] = e


def _k(n, ratio):
    return max(1, int(n * ratio))


def _reseed(state):
    """The authors' per-bucket reseed: a seed from the generator every rank shares, then
    torch.manual_seed (so Rand-K's indices and ARC's projections agree across ranks)."""
    torch.manual_seed(int(torch.randint(0, 10**9, (1,), generator=state.rng)))


def _averaged(values, u, group, n):
    """One blocking all-reduce of the bucket's selected values, divided by the world size; the
    bucket zeroed for them to be written back."""
    v = torch.cat(values)
    dist.all_reduce(v, group=group)
    v.div_(n)
    u.zero_()
    return v


def topk_hook(state, bucket):
    if state.iter < state.warmup:
        return _dense(state, bucket)
    g, n = _group(state)
    u = _with_error(state, bucket)
    values, indices, masks = [], [], []
    for t in bucket.gradients():
        flat = t.reshape(-1)
        _, idx = torch.topk(flat.abs(), _k(flat.numel(), state.ratio), sorted=False)
        idx = idx.to(torch.int32)
        values.append(flat[idx.long()])
        indices.append(idx)
        masks.append(idx.long())
    _keep_error(state, bucket, u, masks)
    v, i = torch.cat(values), torch.cat(indices)
    all_v = [torch.empty_like(v) for _ in range(n)]
    all_i = [torch.empty_like(i) for _ in range(n)]
    dist.all_gather(all_v, v, group=g)
    dist.all_gather(all_i, i, group=g)
    u.zero_()
    for rv, ri in zip(all_v, all_i):
        at = 0
        offset = 0
        for t in bucket.gradients():
            k = _k(t.numel(), state.ratio)
            u[offset:offset + t.numel()].index_add_(0, ri[at:at + k].long(), rv[at:at + k])
            at += k
            offset += t.numel()
    u.div_(n)
    return _done(state, bucket, u)


def randk_hook(state, bucket):
    if state.iter < state.warmup:
        return _dense(state, bucket)
    g, n = _group(state)
    u = _with_error(state, bucket)
    _reseed(state)
    values, picks = [], []
    for t in bucket.gradients():
        flat = t.reshape(-1)
        idx = torch.randperm(flat.numel(), device=flat.device)[:_k(flat.numel(), state.ratio)]
        values.append(flat[idx])
        picks.append(idx)
    _keep_error(state, bucket, u, picks)
    v = _averaged(values, u, g, n)
    at = offset = 0
    for t, idx in zip(bucket.gradients(), picks):
        u[offset:offset + t.numel()][idx] = v[at:at + idx.numel()]
        at += idx.numel()
        offset += t.numel()
    return _done(state, bucket, u)


def _rows(t):
    """The [rows, columns] view ARC selects rows of (docs/hooks.md)."""
    if t.dim() == 1:
        return t.reshape(-1, 1)
    if t.dim() == 2:
        return t
    m = 2 * t.shape[-1] * t.shape[-1]
    return t.reshape(-1, m)


def arctopk_hook(state, bucket):
    if state.iter < state.warmup:
        return _dense(state, bucket)
    g, n = _group(state)
    u = _with_error(state, bucket)
    _reseed(state)
    values, chosen, masks = [], [], []
    for t in bucket.gradients():
        x = _rows(t)
        if t.dim() == 1:
            sketch = x.clone()
        else:
            sketch = x @ torch.randn(x.shape[1], state.rank, dtype=x.dtype, device=x.device)
        dist.all_reduce(sketch, group=g)
        sketch.div_(n)
        scores = (sketch * sketch).sum(dim=1)
        _, rows = torch.topk(scores, _k(x.shape[0], state.ratio), sorted=False)
        values.append(x[rows].reshape(-1))
        chosen.append(rows)
        mask = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
        mask[rows] = True
        masks.append(mask.reshape(-1))
    _keep_error(state, bucket, u, masks)
    v = _averaged(values, u, g, n)
    at = offset = 0
    for t, rows in zip(bucket.gradients(), chosen):
        x = _rows(u[offset:offset + t.numel()].view(t.shape))
        size = rows.numel() * x.shape[1]
        x[rows] = v[at:at + size].view(rows.numel(), x.shape[1])
        at += size
        offset += t.numel()
    return _done(state, bucket, u)


def dense_hook(state, bucket):
    """DDP's default: divide, one asynchronous all-reduce of the bucket."""
    return _dense(state, bucket)


# The hook for each registry compressor that `preset: reference` with `implementation: hook` costs.
BY_COMPRESSOR = {"dense": dense_hook, "topk": topk_hook, "randk": randk_hook, "arctopk": arctopk_hook}
