"""Per-layer forward/backward times and costs of one worker's micro-batch, measured with hooks.

The profiler knows nothing of the loss: it calls `step_loss()` (the task's forward and loss, a
scalar tensor) and times what the hooks see:
Forward: a forward hook on every layer (module owning parameters) stamps the time its output is
ready; layer i's forward_s = stamp(i) - stamp(i-1) (the first from the start of the forward), so
activations and pooling between layers count for the next layer, and the layers sum to the
forward up to the last layer; forward_s of the profile adds the loss.
Backward: a hook on every parameter stamps when its gradient is computed; a layer is ready when
its last parameter is; backward_s = ready(layer) - ready(layer before it in backward order), the
first from the start of backward. This is what the simulator needs: the time each gradient
becomes ready. On CUDA the stamps are CUDA events (read after a synchronize), on CPU
time.perf_counter(). Each time is the median over the profiled steps.
Cost: FLOPs, bytes and launches per layer (costs.py), counted once from the first forward."""
import statistics
import time

import torch

from .costs import CostCounter
from .layout import owning_layers


class _Clock:
    def __init__(self, device):
        self.cuda = device.type == "cuda"
        self.stamps = []

    def stamp(self):
        if self.cuda:
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            self.stamps.append(e)
        else:
            self.stamps.append(time.perf_counter())
        return len(self.stamps) - 1

    def seconds(self):
        """Seconds of every stamp since stamp 0."""
        if self.cuda:
            torch.cuda.synchronize()
            return [self.stamps[0].elapsed_time(e) / 1000.0 for e in self.stamps]
        return [t - self.stamps[0] for t in self.stamps]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def model_device(model):
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def profile_compute(model, optimizer, step_loss, micro_batch, steps=20, warmup=3):
    """Returns (arcsim-compute/1 dict, notes dict). step_loss(): forward + loss of one worker
    micro-batch on the model's device, a scalar tensor."""
    device = model_device(model)
    layers = owning_layers(model)
    modules = {(n or "(root)"): m for n, m in model.named_modules()}  # layout.py names the root "(root)"
    layer_names = sorted(set(layers.values()), key=list(modules).index)
    params_of = {l: [n for n, m in layers.items() if m == l] for l in layer_names}
    named = dict(model.named_parameters())
    samples = {"fwd": {l: [] for l in layer_names}, "bwd": {l: [] for l in layer_names}, "forward": [], "opt": []}
    order_seen, costs = [], {}
    for it in range(warmup + steps):
        clock = _Clock(device)
        fwd_stamp, grad_stamp, handles = {}, {}, []
        counter = CostCounter(modules, layer_names) if it == 0 else None
        for l in layer_names:
            handles.append(modules[l].register_forward_hook(
                lambda m, i, o, l=l: fwd_stamp.__setitem__(l, clock.stamp())))
            for pn in params_of[l]:
                if named[pn].requires_grad:
                    handles.append(named[pn].register_hook(
                        lambda g, pn=pn: (grad_stamp.__setitem__(pn, clock.stamp()), None)[1]))
        optimizer.zero_grad(set_to_none=True)
        start = clock.stamp()
        loss = step_loss()
        fwd_end = clock.stamp()
        bwd_start = clock.stamp()
        loss.backward()
        bwd_end = clock.stamp()
        optimizer.step()
        opt_end = clock.stamp()
        for h in handles:
            h.remove()
        if counter is not None:
            counter.remove()
            costs = counter.costs
        t = clock.seconds()
        if it < warmup:
            order_seen = sorted(fwd_stamp, key=fwd_stamp.get)
            continue
        prev = t[start]
        for l in sorted(fwd_stamp, key=fwd_stamp.get):
            samples["fwd"][l].append(max(0.0, t[fwd_stamp[l]] - prev))
            prev = t[fwd_stamp[l]]
        samples["forward"].append(t[fwd_end] - t[start])
        ready = {l: max((t[grad_stamp[p]] for p in params_of[l] if p in grad_stamp), default=t[bwd_start])
                 for l in layer_names}
        prev = t[bwd_start]
        for l in reversed(order_seen):  # backward order
            samples["bwd"][l].append(max(0.0, ready[l] - prev))
            prev = max(prev, ready[l])
        samples["opt"].append(t[opt_end] - t[bwd_end])
    med = statistics.median
    device_text = (f"cuda: {torch.cuda.get_device_name(device)} (measured, CUDA events)" if device.type == "cuda"
                   else f"cpu: {cpu_name()} (measured, {torch.get_num_threads()} threads)")
    compute = {
        "format": "arcsim-compute/1", "device": device_text,
        "forward_s": med(samples["forward"]), "optimizer_s": med(samples["opt"]),
        "layers": [{"name": l, "params": params_of[l], "forward_s": med(samples["fwd"][l]),
                    "backward_s": med(samples["bwd"][l]), "cost": costs.get(l, {"unknown": "not called in forward"})}
                   for l in order_seen],
    }
    unseen = [l for l in layer_names if l not in order_seen]
    notes = {"method": "hooks: forward hooks per layer, gradient hooks per parameter; median of steps; "
                       "cost: FLOPs/bytes/launches counted from the shapes of the first forward",
             "steps": steps, "warmup_steps": warmup, "micro_batch": int(micro_batch),
             "optimizer": type(optimizer).__name__, "clock": "cuda-events" if device.type == "cuda" else "perf_counter"}
    if unseen:
        notes["layers_without_forward_hook"] = unseen
    return compute, notes
