#!/usr/bin/env python3
"""Writes the layout-only traces (format v1, docs/traces.md) of the paper's models:

    traces/layouts/<model>/trace.json

for LLaMA-60M/130M/350M/1B (the C4 pre-training micro-batch, and `-b1` variants with the C4 timing
script's batch of 1), ResNet-18/50 (CIFAR variants, 10 classes) and RoBERTa-base (2 labels).
Exact parameter names, shapes and registration order of the PyTorch modules the reference uses;
no gradient files (replay draws synthetic gradients, traces/synthetic.hpp) and no convergence logs.
The compute profile is a roofline of an NVIDIA H100 SXM (README.md in this folder). Standard
library only:

    python3 traces/layouts/generate.py [--out traces/layouts] [--check]

--check only prints the parameter/tensor counts and compares them with the reference's.
"""
import argparse
import json
import math
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent

# ---- the roofline ------------------------------------------------------------------------------
GPU = {
    "name": "H100-SXM5-80GB",
    # Dense tensor-core peak for TF32 inputs (NVIDIA H100 datasheet: 989 TFLOPS is the 2:4-sparse
    # figure, 494.7 dense). The reference trains in fp32; PyTorch runs convolutions (cuDNN) in TF32
    # by default and matmuls when allow_tf32 is set.
    "peak_flops": 494.7e12,
    "mfu": 0.40,               # achieved fraction of peak (model FLOPs utilization)
    "hbm_bytes_per_s": 3.35e12,  # HBM3 bandwidth
    "hbm_efficiency": 0.80,    # achieved fraction of it for elementwise kernels
}
FWD_SHARE, BWD_SHARE = 1.0 / 3.0, 2.0 / 3.0   # forward : backward = 1 : 2 of the step's FLOPs
ADAM_BYTES_PER_PARAM = 7 * 4  # fp32 AdamW: read param, grad, m, v; write param, m, v

EXPECTED = {  # reference counts (arctopk.md 5.2 and 10): parameters, tensors (None: not given)
    "llama-60m": (58.07e6, 75), "llama-130m": (134.11e6, 111), "llama-350m": (367.97e6, 219),
    "llama-1b": (1339.08e6, 219), "resnet18-cifar": (11.17e6, None), "resnet50-cifar": (23.52e6, None),
    "roberta-base": (124.65e6, None),
}


def flops_time(flops):
    return flops / (GPU["peak_flops"] * GPU["mfu"])


def bytes_time(nbytes):
    return nbytes / (GPU["hbm_bytes_per_s"] * GPU["hbm_efficiency"])


class Model:
    """Parameters in registration order, each assigned to a compute layer (forward order)."""

    def __init__(self, name):
        self.name = name
        self.params = []          # (name, shape, layer)
        self.layers = []          # layer names in forward order
        self.layer_flops = {}     # forward FLOPs per micro-batch, when known per layer
        self.layer_bytes = {}     # forward bytes (memory-bound layers: embedding lookups)
        self.layer_acts = {}      # conv layers: (input, output) elements per image

    def add(self, layer, name, shape):
        if layer not in self.layers:
            self.layers.append(layer)
        self.params.append((name, list(shape), layer))

    def numel(self, shape):
        return math.prod(shape)

    def total(self):
        return sum(self.numel(s) for _, s, _ in self.params)


# ---- LLaMA (HF LlamaForCausalLM as in the reference's C4 code; untied lm_head) ------------------
LLAMA = {  # hidden, intermediate, heads, layers
    "60m": (512, 1376, 8, 8), "130m": (768, 2048, 12, 12), "350m": (1024, 2736, 16, 24),
    "1b": (2048, 5461, 32, 24),
}
VOCAB = 32000


def llama(size):
    h, inter, heads, L = LLAMA[size]
    m = Model(f"llama-{size}")
    m.add("model.embed_tokens", "model.embed_tokens.weight", [VOCAB, h])
    for i in range(L):
        p = f"model.layers.{i}"
        # LlamaDecoderLayer registers self_attn, mlp, input_layernorm, post_attention_layernorm.
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            m.add(f"{p}.self_attn", f"{p}.self_attn.{proj}.weight", [h, h])
        m.add(f"{p}.mlp", f"{p}.mlp.gate_proj.weight", [inter, h])
        m.add(f"{p}.mlp", f"{p}.mlp.up_proj.weight", [inter, h])
        m.add(f"{p}.mlp", f"{p}.mlp.down_proj.weight", [h, inter])
        m.add(f"{p}.self_attn", f"{p}.input_layernorm.weight", [h])        # RMSNorm before attention
        m.add(f"{p}.mlp", f"{p}.post_attention_layernorm.weight", [h])    # RMSNorm before the MLP
    m.add("model.norm", "model.norm.weight", [h])
    m.add("lm_head", "lm_head.weight", [VOCAB, h])
    m.hidden, m.heads = h, heads
    return m


# ---- RoBERTa-base (HF RobertaForSequenceClassification, 2 labels, no pooler) --------------------
def roberta_base(labels=2):
    h, inter, L, vocab, positions = 768, 3072, 12, 50265, 514
    m = Model("roberta-base")
    e = "roberta.embeddings"
    m.add(e, f"{e}.word_embeddings.weight", [vocab, h])
    m.add(e, f"{e}.position_embeddings.weight", [positions, h])
    m.add(e, f"{e}.token_type_embeddings.weight", [1, h])
    m.add(e, f"{e}.LayerNorm.weight", [h])
    m.add(e, f"{e}.LayerNorm.bias", [h])
    for i in range(L):
        p = f"roberta.encoder.layer.{i}"
        att = f"{p}.attention"
        for q in ("query", "key", "value"):
            m.add(att, f"{att}.self.{q}.weight", [h, h])
            m.add(att, f"{att}.self.{q}.bias", [h])
        m.add(att, f"{att}.output.dense.weight", [h, h])
        m.add(att, f"{att}.output.dense.bias", [h])
        m.add(att, f"{att}.output.LayerNorm.weight", [h])
        m.add(att, f"{att}.output.LayerNorm.bias", [h])
        ffn = f"{p}.ffn"
        m.add(ffn, f"{p}.intermediate.dense.weight", [inter, h])
        m.add(ffn, f"{p}.intermediate.dense.bias", [inter])
        m.add(ffn, f"{p}.output.dense.weight", [h, inter])
        m.add(ffn, f"{p}.output.dense.bias", [h])
        m.add(ffn, f"{p}.output.LayerNorm.weight", [h])
        m.add(ffn, f"{p}.output.LayerNorm.bias", [h])
    m.add("classifier", "classifier.dense.weight", [h, h])
    m.add("classifier", "classifier.dense.bias", [h])
    m.add("classifier", "classifier.out_proj.weight", [labels, h])
    m.add("classifier", "classifier.out_proj.bias", [labels])
    m.hidden, m.heads = h, 12
    return m


# ---- ResNet-18/50, CIFAR variant (3x3 stem, no max-pool, 32x32 input), 10 classes --------------
def resnet_cifar(depth, classes=10):
    blocks = {18: ("basic", [2, 2, 2, 2]), 50: ("bottleneck", [3, 4, 6, 3])}[depth]
    kind, counts = blocks
    expansion = 1 if kind == "basic" else 4
    m = Model(f"resnet{depth}-cifar")

    def conv_bn(layer, conv, bn, cin, cout, k, hw_out, hw_in=None):
        m.add(layer, f"{conv}.weight", [cout, cin, k, k])          # convolutions have no bias
        m.add(layer, f"{bn}.weight", [cout])
        m.add(layer, f"{bn}.bias", [cout])
        m.layer_flops[layer] = m.layer_flops.get(layer, 0) + 2 * cout * cin * k * k * hw_out * hw_out
        # Per image, for the cost model: conv input and output elements, BatchNorm elements.
        m.layer_acts[layer] = ((hw_in or hw_out) ** 2 * cin, hw_out ** 2 * cout)

    conv_bn("conv1", "conv1", "bn1", 3, 64, 3, 32)
    cin, hw = 64, 32
    for stage, (planes, n) in enumerate(zip([64, 128, 256, 512], counts), start=1):
        for b in range(n):
            stride = 2 if (stage > 1 and b == 0) else 1
            hw_out = hw // stride
            p = f"layer{stage}.{b}"
            if kind == "basic":
                conv_bn(f"{p}.conv1", f"{p}.conv1", f"{p}.bn1", cin, planes, 3, hw_out, hw)
                conv_bn(f"{p}.conv2", f"{p}.conv2", f"{p}.bn2", planes, planes, 3, hw_out)
            else:
                conv_bn(f"{p}.conv1", f"{p}.conv1", f"{p}.bn1", cin, planes, 1, hw)
                conv_bn(f"{p}.conv2", f"{p}.conv2", f"{p}.bn2", planes, planes, 3, hw_out, hw)
                conv_bn(f"{p}.conv3", f"{p}.conv3", f"{p}.bn3", planes, planes * expansion, 1, hw_out)
            if stride != 1 or cin != planes * expansion:
                conv_bn(f"{p}.shortcut", f"{p}.shortcut.0", f"{p}.shortcut.1", cin, planes * expansion, 1, hw_out,
                        hw)
            cin, hw = planes * expansion, hw_out
    m.add("linear", "linear.weight", [classes, cin])
    m.add("linear", "linear.bias", [classes])
    m.layer_flops["linear"] = 2 * classes * cin
    m.layer_acts["linear"] = (cin, classes)
    return m


# ---- per-layer cost (FLOPs, bytes, launches per micro-batch; the recorder's counting rules) -----
def _cost(ff, fb, bf, bb, lf, lb):
    return {"flops_forward": float(ff), "flops_backward": float(fb), "bytes_forward": float(bf),
            "bytes_backward": float(bb), "launches_forward": int(lf), "launches_backward": int(lb)}


def transformer_cost(m, layer, tokens, seq, heads=None):
    """fp32. Each 2-D weight [out, in] is a matmul over the tokens: forward 2*tokens*in*out FLOPs,
    reads the input and the weight, writes the output; backward dX and dW (2x the FLOPs), reads
    grad_out twice, input and weight, writes dX and dW. 1-D parameters: a norm weight (8 FLOPs per
    element forward, 14 backward) or a bias (an add). Embedding tables: a gather forward, a
    scatter-add into a zeroed dense gradient backward. Attention layers add the score core:
    Q K^T and A V (4*tokens*seq*hidden forward, 2x backward) and the softmax."""
    ff = fb = bf = bb = 0.0
    lf = lb = 0
    params = [(n, shape) for n, shape, l in m.params if l == layer]
    for name, shape in params:
        if len(shape) == 2 and ("embed" in name or "embeddings" in name):
            rows = tokens * shape[1]
            ff += 0
            fb += rows
            bf += 4 * 2 * rows + 8 * tokens
            bb += 4 * (3 * rows + math.prod(shape)) + 8 * tokens
            lf, lb = lf + 1, lb + 2
        elif len(shape) == 2:
            o, i = shape
            ff += 2 * tokens * i * o
            fb += 4 * tokens * i * o
            bf += 4 * (tokens * i + i * o + tokens * o)
            bb += 4 * (2 * tokens * o + 2 * tokens * i + 2 * i * o)
            lf, lb = lf + 1, lb + 2
        elif "norm" in name.lower() and name.endswith("weight"):
            n = tokens * shape[0]
            ff += 8 * n
            fb += 14 * n
            bf += 4 * (2 * n + shape[0])
            bb += 4 * (3 * n + 2 * shape[0])
            lf, lb = lf + 1, lb + 2
        elif "norm" in name.lower():
            continue  # a norm's bias: inside the norm's kernels
        else:  # a bias
            n = tokens * shape[0]
            ff += n
            fb += n
            bf += 4 * 2 * n
            bb += 4 * (n + shape[0])
            lb += 1
    if layer.endswith("self_attn") or layer.endswith(".attention"):
        h = m.hidden
        core = 4 * tokens * seq * h
        ff += core + 5 * tokens * seq * (heads or 1)
        fb += 2 * core + 10 * tokens * seq * (heads or 1)
        scores = 4 * tokens * seq * (heads or 1)
        bf += 4 * 3 * tokens * h + 3 * scores
        bb += 4 * 6 * tokens * h + 5 * scores
        lf, lb = lf + 3, lb + 5
    return _cost(ff, fb, bf, bb, lf, lb)


def conv_cost(m, layer, batch, first):
    """fp32 conv + BatchNorm (or the final linear) per micro-batch: forward the layer's FLOPs plus
    BatchNorm's 8 per element; backward dW (+ dX except for the first layer) and BatchNorm's 14."""
    f = m.layer_flops[layer] * batch
    x, y = (a * batch for a in m.layer_acts[layer])
    wn = sum(math.prod(s) for _, s, l in m.params if l == layer and len(s) > 1)
    bn = 0 if layer == "linear" else y
    ff = f + 8 * bn
    fb = (1 if first else 2) * f + 14 * bn
    bf = 4 * (x + wn + y) + 4 * 2 * bn
    bb = 4 * ((y + x + wn) + (0 if first else y + wn + x)) + 4 * 3 * bn
    lf = 1 + (1 if bn else 0)
    lb = (1 if first else 2) + (2 if bn else 1)
    return _cost(ff, fb, bf, bb, lf, lb)


# ---- compute profiles ---------------------------------------------------------------------------
EMBEDDINGS = {"model.embed_tokens", "roberta.embeddings"}


def transformer_profile(m, batch, seq):
    """6 * params * tokens per step (2 forward, 4 backward) for every parameter outside the input
    embeddings, spread per layer by parameter share; the embedding lookups are memory-bound: the
    forward reads tokens x hidden fp32 values, the backward scatters as many into the gradient."""
    tokens = batch * seq
    per_layer = {l: 0 for l in m.layers}
    for _, shape, layer in m.params:
        per_layer[layer] += math.prod(shape)
    dense_params = sum(n for l, n in per_layer.items() if l not in EMBEDDINGS)
    step_flops = 6 * dense_params * tokens
    layers = []
    for l in m.layers:
        names = [n for n, _, layer in m.params if layer == l]
        if l in EMBEDDINGS:
            fwd = bytes_time(tokens * m.hidden * 4 * 2)        # read rows, write activations
            bwd = bytes_time(tokens * m.hidden * 4 * 2)        # read grads, scatter-add
        else:
            share = per_layer[l] / dense_params
            fwd = flops_time(step_flops * FWD_SHARE * share)
            bwd = flops_time(step_flops * BWD_SHARE * share)
        layers.append({"name": l, "params": names, "forward_s": fwd, "backward_s": bwd,
                       "cost": transformer_cost(m, l, tokens, seq, getattr(m, "heads", None))})
    notes = {"method": "roofline", "flops_per_step": step_flops,
             "rule": "6 x parameters (outside the input embeddings) x tokens per micro-batch; forward:backward "
                     "= 1:2; per layer by parameter share; attention-score FLOPs (12 x layers x hidden x seq "
                     "per token) not counted; embedding lookups memory-bound",
             "batch_per_worker": batch, "seq_len": seq, "tokens_per_step": tokens}
    return layers, notes


def conv_profile(m, batch):
    """Per-layer convolution FLOPs (2 x Cout x Cin x k^2 x Hout x Wout per image, forward), x batch;
    backward = 2 x forward (input and weight gradients). BatchNorm/ReLU are not counted."""
    layers = []
    step_flops = 0
    for l in m.layers:
        names = [n for n, _, layer in m.params if layer == l]
        f = m.layer_flops[l] * batch
        step_flops += 3 * f
        layers.append({"name": l, "params": names, "forward_s": flops_time(f), "backward_s": flops_time(2 * f),
                       "cost": conv_cost(m, l, batch, first=(l == m.layers[0]))})
    notes = {"method": "roofline", "flops_per_step": step_flops,
             "rule": "conv/linear FLOPs per layer (2 x Cout x Cin x k^2 x Hout x Wout per 32x32 image) x batch; "
                     "backward = 2 x forward; BatchNorm and ReLU not counted",
             "batch_per_worker": batch, "image": [3, 32, 32]}
    return layers, notes


def trace_doc(m, layers, notes, batch, description, workload):
    total = m.total()
    forward = sum(l["forward_s"] for l in layers)
    optimizer = bytes_time(total * ADAM_BYTES_PER_PARAM)
    notes = dict(notes)
    notes.update({
        "gpu": GPU["name"], "peak_flops": GPU["peak_flops"], "mfu": GPU["mfu"],
        "hbm_bytes_per_s": GPU["hbm_bytes_per_s"], "hbm_efficiency": GPU["hbm_efficiency"],
        "optimizer": f"AdamW fp32, memory-bound: {ADAM_BYTES_PER_PARAM} bytes per parameter at "
                     f"{GPU['hbm_efficiency']:.0%} of HBM bandwidth",
        "workload": workload, "generator": "traces/layouts/generate.py",
        "parameters": total, "tensors": len(m.params),
    })
    return {
        "format": "arcsim-trace/1",
        "name": m.name if batch_suffix(m, batch) == "" else m.name + batch_suffix(m, batch),
        "description": description,
        "layout": {"model": m.name,
                   "parameters": [{"name": n, "shape": s, "dtype": "float32", "layer": l} for n, s, l in m.params]},
        "compute": {"format": "arcsim-compute/1",
                    "device": f"model: {GPU['name']} roofline, {GPU['mfu']:.0%} MFU of "
                              f"{GPU['peak_flops'] / 1e12:.1f} TFLOPS (TF32 dense), batch {batch} per worker",
                    "forward_s": forward, "optimizer_s": optimizer, "layers": layers},
        "compute_notes": notes,
        "synthetic": {"distribution": "lognormal-rows/1", "row_sigma": 1.0, "shared": 0.5, "scale": 1e-2, "seed": 1},
        "samples": [],
        "convergence": [],
        "provenance": {
            "seed": 1,
            "command": "python3 traces/layouts/generate.py",
            "batch_per_worker": batch,
            "dataset": workload,
            "notes": "layout-only trace: no gradient samples (replay draws synthetic gradients, "
                     "traces/synthetic.hpp) and no convergence logs (no time-to-accuracy: no step counts "
                     "were recorded for this model)",
        },
    }


def batch_suffix(m, batch):
    return "-b1" if m.name.startswith("llama") and batch == 1 else ""


def build_all():
    out = []
    for size in LLAMA:
        for batch, tag in ((32, ""), (1, "-b1")):
            m = llama(size)
            layers, notes = transformer_profile(m, batch, 256)
            what = ("C4 pre-training micro-batch: 32 sequences x 256 tokens per GPU (global 256 = 32 x GA 2 x 4)"
                    if batch == 32 else "C4 timing script (c4_none_prof.sh): batch 1 x 256 tokens per GPU")
            desc = (f"LLaMA-{size.upper()} layout (hidden {m.hidden}, {LLAMA[size][1]} intermediate, "
                    f"{LLAMA[size][2]} heads, {LLAMA[size][3]} layers, vocab {VOCAB}, untied lm_head), "
                    f"layout-only; {what}")
            out.append((m.name + tag, m, trace_doc(m, layers, notes, batch, desc, "C4, T5 tokenizer, seq 256, fp32; " + what)))
    for depth in (18, 50):
        m = resnet_cifar(depth)
        layers, notes = conv_profile(m, 32)
        desc = f"ResNet-{depth} (CIFAR variant, 10 classes) layout-only; batch 32 per GPU"
        out.append((m.name, m, trace_doc(m, layers, notes, 32, desc, "CIFAR-10, 32 images per GPU")))
    m = roberta_base()
    layers, notes = transformer_profile(m, 8, 512)
    desc = "RoBERTa-base (sequence classification, 2 labels) layout-only; batch 8 x 512 tokens per GPU (GLUE)"
    out.append((m.name, m, trace_doc(m, layers, notes, 8, desc, "GLUE, max_length 512, 8 sequences per GPU")))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--check", action="store_true", help="print counts only")
    args = ap.parse_args()
    ok = True
    for dirname, m, doc in build_all():
        total, tensors = m.total(), len(m.params)
        want = EXPECTED.get(m.name)
        good = want is None or (round(total / 1e6, 2) == round(want[0] / 1e6, 2) and want[1] in (None, tensors))
        ok &= good
        step = sum(l["forward_s"] + l["backward_s"] for l in doc["compute"]["layers"])
        print(f"{dirname:20s} {total:>14,d} parameters ({total / 1e6:.2f}M) {tensors:4d} tensors  "
              f"fwd+bwd {step * 1e3:8.3f} ms  {'ok' if good else 'MISMATCH with reference ' + str(want)}")
        if not args.check:
            d = pathlib.Path(args.out) / dirname
            d.mkdir(parents=True, exist_ok=True)
            tmp = d / "trace.json.tmp"
            tmp.write_text(json.dumps(doc, indent=1) + "\n")
            os.replace(tmp, d / "trace.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
