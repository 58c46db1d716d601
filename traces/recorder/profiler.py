"""Per-layer forward/backward times of one worker's micro-batch, measured with hooks.

Forward: a forward hook on every layer (module owning parameters) stamps the time its output is
ready; layer i's forward_s = stamp(i) - stamp(i-1) (the first from the start of the forward), so
activations and pooling between layers count for the next layer, and the layers sum to the
forward up to the last layer; forward_s of the profile adds the loss.
Backward: a hook on every parameter stamps when its gradient is computed; a layer is ready when
its last parameter is; backward_s = ready(layer) - ready(layer before it in backward order), the
first from the start of backward. This is what the simulator needs: the time each gradient
becomes ready. On CUDA the stamps are CUDA events (read after a synchronize), on CPU
time.perf_counter(). Each time is the median over the profiled steps."""
import statistics
import time

import torch
import torch.nn.functional as F

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


def profile_compute(model, optimizer, x, y, steps=20, warmup=3):
    """Returns (arcsim-compute/1 dict, notes dict) for micro-batch (x, y) on x's device."""
    layers = owning_layers(model)
    modules = dict(model.named_modules())
    layer_names = sorted(set(layers.values()), key=list(modules).index)
    params_of = {l: [n for n, m in layers.items() if m == l] for l in layer_names}
    named = dict(model.named_parameters())
    samples = {"fwd": {l: [] for l in layer_names}, "bwd": {l: [] for l in layer_names}, "forward": [], "opt": []}
    order_seen = []
    for it in range(warmup + steps):
        clock = _Clock(x.device)
        fwd_stamp, grad_stamp, handles = {}, {}, []
        for l in layer_names:
            handles.append(modules[l].register_forward_hook(
                lambda m, i, o, l=l: fwd_stamp.__setitem__(l, clock.stamp())))
            for pn in params_of[l]:
                handles.append(named[pn].register_hook(
                    lambda g, pn=pn: (grad_stamp.__setitem__(pn, clock.stamp()), None)[1]))
        optimizer.zero_grad(set_to_none=True)
        start = clock.stamp()
        loss = F.cross_entropy(model(x), y)
        fwd_end = clock.stamp()
        bwd_start = clock.stamp()
        loss.backward()
        bwd_end = clock.stamp()
        optimizer.step()
        opt_end = clock.stamp()
        for h in handles:
            h.remove()
        t = clock.seconds()
        if it < warmup:
            order_seen = sorted(fwd_stamp, key=fwd_stamp.get)
            continue
        prev = t[start]
        for l in sorted(fwd_stamp, key=fwd_stamp.get):
            samples["fwd"][l].append(max(0.0, t[fwd_stamp[l]] - prev))
            prev = t[fwd_stamp[l]]
        samples["forward"].append(t[fwd_end] - t[start])
        ready = {l: max(t[grad_stamp[p]] for p in params_of[l]) for l in layer_names}
        prev = t[bwd_start]
        for l in reversed(order_seen):  # backward order
            samples["bwd"][l].append(max(0.0, ready[l] - prev))
            prev = max(prev, ready[l])
        samples["opt"].append(t[opt_end] - t[bwd_end])
    med = statistics.median
    device = (f"cuda: {torch.cuda.get_device_name(x.device)} (measured, CUDA events)" if x.device.type == "cuda"
              else f"cpu: {cpu_name()} (measured, {torch.get_num_threads()} threads)")
    compute = {
        "format": "arcsim-compute/1", "device": device,
        "forward_s": med(samples["forward"]), "optimizer_s": med(samples["opt"]),
        "layers": [{"name": l, "params": params_of[l], "forward_s": med(samples["fwd"][l]),
                    "backward_s": med(samples["bwd"][l])} for l in order_seen],
    }
    notes = {"method": "hooks: forward hooks per layer, gradient hooks per parameter; median of steps",
             "steps": steps, "warmup_steps": warmup, "micro_batch": int(x.shape[0]),
             "optimizer": type(optimizer).__name__, "clock": "cuda-events" if x.device.type == "cuda" else "perf_counter"}
    return compute, notes
