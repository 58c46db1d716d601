"""Per-layer cost of one worker micro-batch: FLOPs, bytes of memory traffic and kernel launches of
the forward and the backward, counted from the shapes a forward hook sees (so the compute can be
re-timed for another device with a roofline and a launch floor, `compute: "model:<GPU>"`).

Counted layer types (the modules that own parameters; what happens between them, activations and
pooling, is not counted, like the time profile which charges it to the next layer):
  Linear              y = x W^T + b: forward 2*M*in*out (+ M*out bias); backward dX and dW each
                      2*M*in*out (dX skipped when the input needs no gradient) + db
  Conv1d/2d/3d        forward 2*out_elements*(in_channels/groups * kernel elements) (+ bias);
                      backward dX and dW the same each (+ db)
  Embedding           forward a gather (0 FLOPs); backward a scatter-add into a zeroed dense grad
  LayerNorm, GroupNorm, BatchNorm1d/2d/3d, InstanceNorm, RMSNorm-like modules named *Norm*
                      with a weight: 8 FLOPs per element forward, 14 backward
  MultiheadAttention  the in-projection (3 Linear-like projections), the attention core
                      (Q K^T and A V: 4*B*L*S*E, softmax 5*B*h*L*S) and the out-projection (the
                      module applies out_proj's weight itself, so out_proj's own hook never fires)
Bytes are the tensors read and written by the layer's kernels (element size of the output dtype);
launches are the kernels a straightforward GPU implementation issues. Any other module that owns
parameters gets {"unknown": "<why>"}: it is never counted as zero."""
import math

import torch
import torch.nn as nn


def _numel(t):
    return t.numel() if isinstance(t, torch.Tensor) else 0


def _first_tensor(xs):
    for x in xs:
        if isinstance(x, torch.Tensor):
            return x
    return None


def _cost(ff, fb, bf, bb, lf, lb):
    return {"flops_forward": float(ff), "flops_backward": float(fb), "bytes_forward": float(bf),
            "bytes_backward": float(bb), "launches_forward": int(lf), "launches_backward": int(lb)}


def _own_params(m):
    return [p for _, p in m.named_parameters(recurse=False)]


def _dense(x, out, w_numel, b_numel, macs, elt, needs_dx):
    """A matmul-like layer: `macs` multiply-adds forward; backward dW (+ dX) the same each."""
    xo, yo = _numel(x), _numel(out)
    ff = 2 * macs + (yo if b_numel else 0)
    fb = (2 if needs_dx else 1) * 2 * macs + (yo if b_numel else 0)
    bf = elt * (xo + w_numel + b_numel + yo)
    # dW reads grad_out and x, writes dW; dX reads grad_out and W, writes dX; db reads grad_out.
    bb = elt * ((yo + xo + w_numel) + (yo + w_numel + xo if needs_dx else 0) + (yo + b_numel if b_numel else 0))
    lb = 1 + (1 if needs_dx else 0) + (1 if b_numel else 0)
    return _cost(ff, fb, bf, bb, 1, lb)


def layer_cost(module, inputs, output):
    """Cost dict (or {"unknown": reason}) of one call of `module` with these inputs/output."""
    out = output if isinstance(output, torch.Tensor) else _first_tensor(output if isinstance(output, (tuple, list)) else ())
    x = _first_tensor(inputs)
    if out is None or x is None:
        return {"unknown": f"module type {type(module).__name__}: no tensor input/output seen by the forward hook "
                           "(called with keyword arguments?)"}
    elt = out.element_size()
    needs_dx = bool(x.requires_grad)
    params = _own_params(module)
    if isinstance(module, nn.Linear):
        rows = out.numel() // module.out_features
        b = module.bias.numel() if module.bias is not None else 0
        return _dense(x, out, module.weight.numel(), b, rows * module.in_features * module.out_features, elt, needs_dx)
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        w = module.weight
        b = module.bias.numel() if module.bias is not None else 0
        k = math.prod(w.shape[2:])
        if isinstance(module, nn.modules.conv._ConvTransposeNd):
            macs = x.numel() * (module.out_channels // module.groups) * k   # per input element
        else:
            macs = out.numel() * (module.in_channels // module.groups) * k  # per output element
        return _dense(x, out, w.numel(), b, macs, elt, needs_dx)
    if isinstance(module, nn.Embedding):
        yo, wn = out.numel(), module.weight.numel()
        idx_bytes = x.numel() * x.element_size()
        return _cost(0, yo, idx_bytes + 2 * elt * yo, idx_bytes + elt * (wn + 3 * yo), 1, 2)
    if isinstance(module, nn.MultiheadAttention) and module.in_proj_weight is not None:
        q = inputs[0]
        kv = inputs[1] if len(inputs) > 1 and isinstance(inputs[1], torch.Tensor) else q
        e, h = module.embed_dim, module.num_heads
        if module.batch_first:
            bsz, lq, s = q.shape[0], q.shape[1], kv.shape[1]
        else:
            lq, bsz, s = q.shape[0], q.shape[1], kv.shape[0]
        tokens_q, tokens_kv = bsz * lq, bsz * s
        # The module's forward uses out_proj's weight directly (its hook never fires): counted here.
        proj_macs = 2 * tokens_q * e * e + 2 * tokens_kv * e * e
        core_macs = 2 * bsz * lq * s * e
        soft = 5 * bsz * h * lq * s
        wn = sum(p.numel() for p in module.parameters())
        act = elt * (tokens_q + 2 * tokens_kv) * e
        scores = elt * bsz * h * lq * s
        ff = 2 * proj_macs + 2 * core_macs + soft
        fb = 2 * (2 * proj_macs + 2 * core_macs) + 2 * soft
        bf = 2 * act + elt * wn + 4 * scores
        bb = 4 * act + 2 * elt * wn + 6 * scores
        return _cost(ff, fb, bf, bb, 6, 10)
    norm_types = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)
    if isinstance(module, norm_types) or ("norm" in type(module).__name__.lower() and params):
        n, pn = x.numel(), sum(p.numel() for p in params)
        return _cost(8 * n, 14 * n, elt * (2 * n + pn), elt * (3 * n + 2 * pn), 1, 2)
    return {"unknown": f"module type {type(module).__name__} is not counted (not linear, convolution, embedding, "
                       "normalization or attention)"}


class CostCounter:
    """Forward hooks on the given layers; after one forward, `costs[layer]` holds the cost of
    that layer summed over its calls in the forward (a layer used twice costs twice)."""

    def __init__(self, modules, layer_names):
        self.costs, self.handles = {}, []
        for name in layer_names:
            self.handles.append(modules[name].register_forward_hook(
                lambda m, i, o, name=name: self._add(name, layer_cost(m, i, o))))

    def _add(self, name, cost):
        old = self.costs.get(name)
        if old is None:
            self.costs[name] = cost
        elif "unknown" in old or "unknown" in cost:
            self.costs[name] = old if "unknown" in old else cost
        else:
            self.costs[name] = {k: old[k] + cost[k] for k in old}

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []
