"""DDP buckets: the C++ rule (arcsim trace buckets) == the recorder's Python rule == torch's own
assignment function (the one DDP calls when it rebuilds buckets)."""
import json

import numpy as np
import pytest
import torch
import torch.distributed as dist

from test_trace_io import run
from traces.recorder import buckets as bk
from traces.recorder import trace_io


def torch_buckets(params, first_cap, cap):
    tensors = [torch.empty(p["shape"], dtype=getattr(torch, p["dtype"])) for p in params]
    rev = list(reversed(tensors))
    idx, _ = dist._compute_bucket_assignment_by_size(rev, [first_cap, cap], [False] * len(rev))
    n = len(params)
    return [[n - 1 - i for i in b] for b in idx]  # positions in the reversed list -> layout indices


def random_layout(rng, n):
    params = []
    for i in range(n):
        shape = [int(rng.integers(1, 3000))] if rng.random() < 0.3 else [int(rng.integers(1, 700)), int(rng.integers(1, 900))]
        params.append({"name": f"p{i}", "shape": shape, "dtype": "float16" if rng.random() < 0.2 else "float32",
                       "layer": f"l{i}"})
    return params


@pytest.mark.parametrize("seed", range(6))
def test_cpp_python_torch_agree(arcsim_bin, tmp_path, seed):
    rng = np.random.default_rng(seed)
    params = random_layout(rng, int(rng.integers(5, 60)))
    first_cap, cap = int(rng.integers(1, 4)) << 19, int(rng.integers(1, 6)) << 20
    w = trace_io.TraceWriter(tmp_path, "b", {"model": "random", "parameters": params})
    w.set_provenance({"seed": seed, "command": "pytest"})
    w.save()
    r = run(arcsim_bin, "trace", "buckets", tmp_path, "--json", "--first-cap", first_cap, "--cap", cap)
    assert r.returncode == 0, r.stderr
    cpp = [b["params"] for b in json.loads(r.stdout)["buckets"]]
    py = [b["params"] for b in bk.ddp_buckets(params, first_cap, cap)]
    ref = torch_buckets(params, first_cap, cap)
    assert py == ref
    assert cpp == ref


def test_strict_rule_same_in_both(arcsim_bin, tmp_path):
    params = [{"name": f"p{i}", "shape": [s], "dtype": "float32", "layer": "l"}
              for i, s in enumerate([100, 300000, 10, 200000, 7000000, 5, 50])]
    w = trace_io.TraceWriter(tmp_path, "b", {"model": "m", "parameters": params})
    w.set_provenance({"seed": 0, "command": "pytest"})
    w.save()
    cpp = [b["params"] for b in json.loads(run(arcsim_bin, "trace", "buckets", tmp_path, "--json", "--rule", "strict").stdout)["buckets"]]
    assert cpp == [b["params"] for b in bk.ddp_buckets(params, rule="strict")] == [[6, 5], [4], [3, 2, 1, 0]]
