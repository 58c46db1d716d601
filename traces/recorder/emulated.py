"""N data-parallel workers emulated in one process. Each step: every worker takes its own
micro-batch from its own shard and computes its own gradient (functorch vmap over workers, or a
plain loop: the same numbers); the gradients of each DDP bucket go, as [workers, elements],
through the compressor (arcsim_kernels: the C++ compressors with per-worker EF state inside);
the aggregate becomes every worker's gradient and one optimizer steps the shared model (all
workers hold identical weights in data-parallel training, so one model stands for all)."""
import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import kernels


class GradFn:
    """Per-worker gradients: xs [N, B, ...], ys [N, B] -> {name: tensor [N, *shape]}."""

    def __init__(self, model, method="vmap"):
        self.model, self.method = model, method
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        if method == "vmap":
            from functorch import grad, make_functional, vmap
            fmodel, _ = make_functional(copy.deepcopy(model))

            def loss(params, x, y):
                return F.cross_entropy(fmodel(params, x), y)

            self.fn = vmap(grad(loss), in_dims=(None, 0, 0))
        elif method != "loop":
            raise ValueError(f"--per-worker: expected vmap or loop, got {method}")

    def __call__(self, xs, ys):
        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.method == "vmap":
            gs = self.fn(tuple(p.detach() for p in params), xs, ys)
            return dict(zip(self.names, gs))
        out = {n: [] for n in self.names}
        for w in range(xs.shape[0]):
            gs = torch.autograd.grad(F.cross_entropy(self.model(xs[w]), ys[w]), params)
            for n, g in zip(self.names, gs):
                out[n].append(g)
        return {n: torch.stack(v) for n, v in out.items()}


@torch.no_grad()
def evaluate(model, x, y, chunk=1000):
    loss, correct = 0.0, 0
    for i in range(0, len(x), chunk):
        out = model(x[i:i + chunk])
        loss += F.cross_entropy(out, y[i:i + chunk], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + chunk]).sum().item()
    return loss / len(x), correct / len(x)


def train_run(*, model, data, shards, world, spec, buckets, lr, max_steps, eval_every, target,
              eval_idx, sample_steps=(), sample_workers=(), sample_dtype="float32", sample_aggregate=False,
              writer=None, per_worker="vmap", log=print):
    """Trains until the held-out accuracy reaches `target` (checked every eval_every steps) or
    max_steps; returns the convergence-log dict. Samples the chosen workers' bucket gradients at
    sample_steps into `writer`."""
    train_x, train_y, test_x, test_y = data
    ex, ey = test_x[eval_idx], test_y[eval_idx]
    cid = kernels.config_id(spec)
    comp = kernels.make_compressor(spec, world)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gradfn = GradFn(model, per_worker)
    named = dict(model.named_parameters())
    sample_workers = [w for w in sample_workers if w < world]
    points, stopped, t0 = [], "budget", time.time()
    step = 0
    while True:
        if step % eval_every == 0 or step == max_steps:
            loss, acc = evaluate(model, ex, ey)
            points.append({"step": step, "loss": loss, "accuracy": acc})
            log(f"  {cid} N={world} step {step}: test loss {loss:.4f} acc {acc:.4f} ({time.time() - t0:.0f} s)")
            if acc >= target:
                stopped = "target"
                break
        if step == max_steps:
            break
        idx = torch.stack([shards.batch(w) for w in range(world)])           # [N, B]
        grads = gradfn(train_x[idx], train_y[idx])
        for b in buckets:
            G = np.ascontiguousarray(torch.cat([grads[t].reshape(world, -1) for t in b["tensors"]], 1).numpy(),
                                     dtype=np.float32)
            shapes = [tuple(named[t].shape) for t in b["tensors"]]
            agg, _ = comp.step(bucket=b["bucket"], shapes=shapes, grads=G, names=b["tensors"])
            if step in sample_steps and writer is not None and sample_workers:
                writer.add_sample(cid, world, step, b["tensors"], sample_workers, G[sample_workers],
                                  bucket=b["bucket"], dtype=sample_dtype, aggregate=agg if sample_aggregate else None)
            off = 0
            for t, shape in zip(b["tensors"], shapes):
                n = math.prod(shape)
                named[t].grad = torch.from_numpy(np.array(agg[off:off + n])).reshape(shape)
                off += n
        opt.step()
        step += 1
    first = next((p["step"] for p in points if p["accuracy"] >= target), None)
    return {"config": cid, "world": world, "compressor": spec, "target_accuracy": target,
            "steps_to_target": first, "max_steps": max_steps, "eval_every": eval_every, "stopped": stopped,
            "wall_s": time.time() - t0, "points": points}
