"""N data-parallel workers emulated in one process. Each step: every worker takes its own
micro-batch from its own shard and computes its own gradient of the task's loss (functorch vmap
over workers, or a plain loop: the same numbers); the gradients of each DDP bucket go, as
[workers, elements], through the compressor (arcsim_kernels: the C++ compressors with per-worker
EF state inside); the aggregate becomes every worker's gradient and one optimizer steps the
shared model (all workers hold identical weights in data-parallel training, so one model stands
for all)."""
import copy
import math
import time

import numpy as np
import torch

from . import kernels
from .task import ScriptError


class GradFn:
    """Per-worker gradients of task.loss: batches [(x_w, y_w)] -> {name: tensor [N, *shape]}.
    vmap needs tensor inputs and targets and a model without buffers; otherwise (or if vmap
    fails on the user's model at the first step) the loop is used, and `method` says which."""

    def __init__(self, task, model, method="vmap", log=print):
        self.task, self.model, self.method, self.log = task, model, method, log
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.fn = None
        if method not in ("vmap", "loop"):
            raise ValueError(f"--per-worker: expected vmap or loop, got {method}")
        if method == "vmap":
            if list(model.buffers()) or len(self.params) != len(list(model.parameters())):
                self._fallback("the model has buffers or frozen parameters")
            else:
                from functorch import grad, make_functional, vmap
                fmodel, _ = make_functional(copy.deepcopy(model))
                loss_fn = task.loss_fn

                def loss(params, x, y):
                    return loss_fn(fmodel(params, x), y)

                self.fn = vmap(grad(loss), in_dims=(None, 0, 0))

    def _fallback(self, why):
        self.method, self.fn = "loop", None
        self.log(f"  per-worker gradients: loop ({why})")

    def __call__(self, batches, step=0):
        if self.fn is not None:
            xs, ys = [b[0] for b in batches], [b[1] for b in batches]
            if all(isinstance(v, torch.Tensor) for v in xs + ys):
                try:
                    gs = self.fn(tuple(p.detach() for p in self.params), torch.stack(xs), torch.stack(ys))
                    out = dict(zip(self.names, gs))
                    if all(torch.isfinite(g).all() for g in gs):
                        return out
                    return self._loop(batches, step)  # names the worker whose loss is not finite
                except ScriptError:
                    raise
                except Exception as e:
                    # The loop runs the user's code through Task, which names a user error; a
                    # vmap-only failure (an op functorch cannot batch) just switches to the loop.
                    self._fallback(f"vmap failed at step {step}: {type(e).__name__}")
            else:
                self._fallback("inputs or targets are not plain tensors")
        return self._loop(batches, step)

    def _loop(self, batches, step):
        out = {n: [] for n in self.names}
        for w, (x, y) in enumerate(batches):
            value = self.task.loss(self.model, x, y, where=f" at step {step}, worker {w}")
            gs = torch.autograd.grad(value, self.params, allow_unused=True)
            for n, g, p in zip(self.names, gs, self.params):
                if g is not None and not torch.isfinite(g).all():
                    raise ScriptError(f"{self.task.source}: loss(output, target): expected finite gradients, got "
                                      f"non-finite values in {n} at step {step}, worker {w}")
                out[n].append(torch.zeros_like(p) if g is None else g)
        return {n: torch.stack(v) for n, v in out.items()}


class Target:
    """Reached when `metric` >= value (mode max) or <= value (mode min)."""

    def __init__(self, metric, value, mode):
        self.metric, self.value, self.mode = metric, float(value), mode

    def reached(self, metrics):
        v = metrics.get(self.metric)
        return v is not None and (v >= self.value if self.mode == "max" else v <= self.value)

    def log_fields(self):
        """The convergence log's target: target_accuracy for accuracy >=, else a target object."""
        if self.metric == "accuracy" and self.mode == "max":
            return {"target_accuracy": self.value}
        return {"target": {"metric": self.metric, "value": self.value, "mode": self.mode}}

    def text(self):
        return f"{self.metric} {'>=' if self.mode == 'max' else '<='} {self.value:g}"


def worker_batches(task, ds, shards, world):
    return [task.batch(ds, shards.batch(w)) for w in range(world)]


def train_run(*, task, model, ds, shards, world, spec, buckets, lr, max_steps, eval_every, target, eval_seed,
              sample_steps=(), sample_workers=(), sample_dtype="float32", sample_aggregate=False,
              writer=None, per_worker="vmap", log=print):
    """Trains until the held-out metric reaches `target` (a Target, checked every eval_every
    steps) or max_steps; returns the convergence-log dict. Samples the chosen workers' bucket
    gradients at sample_steps into `writer`."""
    cid = kernels.config_id(spec)
    comp = kernels.make_compressor(spec, world)
    opt = task.make_optimizer(model.parameters(), lr)
    gradfn = GradFn(task, model, per_worker, log)
    named = dict(model.named_parameters())
    sample_workers = [w for w in sample_workers if w < world]
    points, stopped, t0 = [], "budget", time.time()
    step = 0
    while True:
        if step % eval_every == 0 or step == max_steps:
            metrics = task.evaluate(model, eval_seed)
            if target.metric not in metrics:
                raise ScriptError(f"{task.source}: evaluate(model): expected the target metric '{target.metric}' "
                                  f"in its result, got {', '.join(sorted(metrics))}")
            points.append({"step": step, **metrics})
            shown = " ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()))
            log(f"  {cid} N={world} step {step}: {shown} ({time.time() - t0:.0f} s)")
            if target.reached(metrics):
                stopped = "target"
                break
        if step == max_steps:
            break
        grads = gradfn(worker_batches(task, ds, shards, world), step)
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
    first = next((p["step"] for p in points if target.reached(p)), None)
    return {"config": cid, "world": world, "compressor": spec, **target.log_fields(),
            "steps_to_target": first, "max_steps": max_steps, "eval_every": eval_every, "stopped": stopped,
            "wall_s": time.time() - t0, "points": points}
