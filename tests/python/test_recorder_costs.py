"""Per-layer cost counting (traces/recorder/costs.py): hand-computed FLOPs/bytes/launches for the
counted layer types; unknown layer types say so instead of counting zero."""
import torch
import torch.nn as nn

from traces.recorder.costs import CostCounter, layer_cost


def cost_of(module, *inputs):
    out = module(*inputs)
    return layer_cost(module, inputs, out)


def test_linear_counts_matmul_and_bias():
    c = cost_of(nn.Linear(10, 5), torch.randn(3, 10, requires_grad=True))
    assert c == {"flops_forward": 2 * 3 * 10 * 5 + 15, "flops_backward": 2 * 2 * 150 + 15,
                 "bytes_forward": 4 * (30 + 50 + 5 + 15), "bytes_backward": 4 * ((15 + 30 + 50) + (15 + 50 + 30) + 20),
                 "launches_forward": 1, "launches_backward": 3}


def test_first_layer_skips_input_gradient():
    c = cost_of(nn.Linear(10, 5, bias=False), torch.randn(3, 10))   # input needs no gradient
    assert c["flops_backward"] == 2 * 150 and c["launches_backward"] == 1


def test_conv2d_counts_per_output_element():
    conv = nn.Conv2d(1, 8, 5, stride=2, padding=2)
    c = cost_of(conv, torch.randn(16, 1, 28, 28))
    out = 16 * 8 * 14 * 14
    assert c["flops_forward"] == 2 * out * 25 + out and c["flops_backward"] == 2 * out * 25 + out
    grouped = cost_of(nn.Conv2d(8, 8, 3, padding=1, groups=4, bias=False), torch.randn(2, 8, 6, 6, requires_grad=True))
    assert grouped["flops_forward"] == 2 * (2 * 8 * 36) * 2 * 9


def test_embedding_norm_attention():
    e = cost_of(nn.Embedding(100, 16), torch.randint(0, 100, (4, 7)))
    assert e["flops_forward"] == 0 and e["flops_backward"] == 4 * 7 * 16 and e["bytes_backward"] > 100 * 16 * 4
    n = cost_of(nn.LayerNorm(16), torch.randn(4, 7, 16))
    assert n["flops_forward"] == 8 * 448 and n["launches_backward"] == 2
    mha = nn.MultiheadAttention(16, 2, batch_first=True)
    x = torch.randn(3, 5, 16)
    a = cost_of(mha, x, x, x)
    proj = 4 * 15 * 16 * 16        # q, k, v and out projections, 15 tokens
    core = 2 * 3 * 5 * 5 * 16      # Q K^T and A V
    assert a["flops_forward"] == 2 * proj + 2 * core + 5 * 3 * 2 * 25


def test_unknown_layer_is_never_zero():
    c = cost_of(nn.PReLU(), torch.randn(3, 4))
    assert set(c) == {"unknown"} and "PReLU" in c["unknown"]


def test_counter_sums_a_layer_called_twice():
    lin = nn.Linear(4, 4)
    counter = CostCounter({"lin": lin}, ["lin"])
    lin(lin(torch.randn(2, 4)))
    counter.remove()
    assert counter.costs["lin"]["flops_forward"] == 2 * (2 * 2 * 16 + 8)


def test_shipped_traces_carry_costs(tmp_path):
    """traces/default (counted by `record --costs-only`) and every layout trace (modelled by
    traces/layouts/generate.py, which regenerates the shipped files exactly)."""
    import json
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[2]
    dirs = [root / "traces" / "default"] + sorted((root / "traces" / "layouts").glob("*/"))
    for d in dirs:
        layers = json.loads((d / "trace.json").read_text())["compute"]["layers"]
        for l in layers:
            c = l["cost"]
            assert "unknown" in c or (c["flops_forward"] > 0 or c["bytes_forward"] > 0), (d.name, l["name"])
            assert "unknown" in c or c["launches_forward"] >= 1, (d.name, l["name"])
    r = subprocess.run([sys.executable, str(root / "traces" / "layouts" / "generate.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for d in sorted((root / "traces" / "layouts").glob("*/")):
        assert (tmp_path / d.name / "trace.json").read_bytes() == (d / "trace.json").read_bytes(), d.name
