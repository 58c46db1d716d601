"""Bring your own model: the examples recorded through `--script`, validated and swept; the
Python API; the DDP comm hook in a user's own 2-process script; emulated-worker equivalence for
script models; seeds."""
import csv
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from test_trace_io import run
from traces.recorder import trace_io
from traces.recorder.data import WorkerShards
from traces.recorder.emulated import GradFn
from traces.recorder.task import load_script

ROOT = pathlib.Path(__file__).resolve().parents[2]
EX = ROOT / "examples"
FAST = ["--profile-steps", "2", "--threads", "2", "--ef", "ef14"]

# (script, extra args, the sweep spec's target is reached by dense)
EXAMPLES = {
    "mlp_mse": ["--max-steps", 30, "--eval-every", 10, "--target", "loss:0.25"],
    "tiny_lm": ["--max-steps", 30, "--eval-every", 10, "--lr", "3e-3", "--target", "perplexity:20"],
    "fmnist_cnn": ["--max-steps", 20, "--eval-every", 10, "--target", "accuracy:0.5", "--train-subset", 512,
                   "--eval-size", 200],
}


def record(arcsim_bin, out, *args, timeout=300):
    r = subprocess.run([arcsim_bin, "record", "--out", str(out), *map(str, args), *FAST],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return trace_io.read_trace(out)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_records_validates_and_sweeps(arcsim_bin, tmp_path, example):
    out = tmp_path / f"{example}.trace"
    t = record(arcsim_bin, out, "--script", EX / f"{example}.py", "--workers", 2, "--compressors", "dense",
               "arctopk:0.2", *EXAMPLES[example])
    v = run(arcsim_bin, "trace", "validate", out)
    assert v.returncode == 0, v.stderr
    assert [(c["config"], c["world"], c["seed"]) for c in t["convergence"]] == [("dense", 2, 1),
                                                                                 ("arctopk-0.2-ef14", 2, 1)]
    dense = t["convergence"][0]
    assert dense["steps_to_target"] is not None, dense["points"]
    # Every layer has a cost (counted) or says why not; these models use only counted layer types.
    assert all("flops_forward" in l["cost"] and l["cost"]["flops_forward"] >= 0 for l in t["compute"]["layers"])
    if example == "tiny_lm":
        assert dense["target"] == {"metric": "perplexity", "value": 20.0, "mode": "min"}
        assert all("perplexity" in p and "accuracy" not in p for p in dense["points"])
    # The example's spec, pointed at this trace, sweeps with TTA for dense.
    spec = json.loads((EX / f"{example}.spec.json").read_text())
    spec["trace"] = str(out)
    spec["bandwidths"] = ["100Gbps"]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    s = subprocess.run([arcsim_bin, "sweep", str(tmp_path / "spec.json"), "--out", str(tmp_path / "res"), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert s.returncode == 0, s.stderr[-2000:]
    with open(tmp_path / "res" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    dense_rows = [r for r in rows if r["compressor"] == "dense" and r["nodes"] == "2"]
    assert dense_rows and all(r["tta_s"] not in ("", "nan") and float(r["tta_s"]) > 0 for r in dense_rows), dense_rows
    # The user's workflow: init writes a spec matching the trace's logs; sweep gives a TTA for every
    # recorded configuration whose target was reached; plot draws it.
    reached = {c["config"] for c in t["convergence"] if c["steps_to_target"] is not None}
    i = subprocess.run([arcsim_bin, "init", str(out), "--out", str(tmp_path / "init.json"), "--bandwidths", "10Gbps"],
                       capture_output=True, text=True, timeout=60)
    assert i.returncode == 0, i.stderr
    s = subprocess.run([arcsim_bin, "sweep", str(tmp_path / "init.json"), "--out", str(tmp_path / "init"), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert s.returncode == 0, s.stderr[-2000:]
    with open(tmp_path / "init" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["convergence_config"] in reached or r["label"] in reached:
            assert r["tta_s"] not in ("", "nan") and float(r["tta_s"]) > 0, r
    assert {r["convergence_config"] for r in rows if r["tta_s"]} == reached
    p = subprocess.run([arcsim_bin, "plot", str(tmp_path / "init")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert (tmp_path / "init" / "speedup_vs_nodes.png").exists()


def test_python_api_records_the_same_format(tmp_path):
    """arcsim.recorder.record from /usr/bin/python3 with the repository on PYTHONPATH."""
    code = ("import sys; sys.path.insert(0, 'examples'); import mlp_mse\n"
            "from arcsim.recorder import record\n"
            f"record(model=mlp_mse.model, train_data=mlp_mse.train_data(), loss=mlp_mse.loss, "
            f"evaluate=mlp_mse.evaluate, optimizer=mlp_mse.optimizer, out={str(tmp_path / 'api')!r}, workers=[2], "
            "compressors=['dense', 'topk:0.2'], ef='ef14', seeds=[1, 2], max_steps=20, eval_every=10, target='loss:0.25', "
            "profile_steps=2, quiet=True)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-3000:]
    t = trace_io.read_trace(tmp_path / "api")
    assert sorted((c["config"], c["seed"]) for c in t["convergence"]) == [
        ("dense", 1), ("dense", 2), ("topk-0.2-ef14", 1), ("topk-0.2-ef14", 2)]
    assert all(c["target"]["mode"] == "min" for c in t["convergence"])


def test_ddp_hook_in_a_users_script(arcsim_bin, tmp_path):
    """examples/ddp_mlp.py: 2 gloo processes, the hook applies the compressor, rank 0 writes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for comp in ("dense", "arctopk:0.2"):
        r = subprocess.run(["/usr/bin/python3", str(EX / "ddp_mlp.py"), "--out", str(tmp_path / "d"), "--procs", "2",
                            "--compressor", comp, "--steps", "20"], capture_output=True, text=True, timeout=300,
                           env=env, cwd=ROOT)
        assert r.returncode == 0, r.stderr[-3000:]
    v = run(arcsim_bin, "trace", "validate", tmp_path / "d")
    assert v.returncode == 0, v.stderr
    t = trace_io.read_trace(tmp_path / "d")
    assert [(c["config"], c["world"]) for c in t["convergence"]] == [("dense", 2), ("arctopk-0.2-ef14", 2)]
    assert t["compute"]["layers"] and all("cost" in l for l in t["compute"]["layers"])
    a, b = (c["points"] for c in t["convergence"])
    assert a[0] == b[0] and a[-1] != b[-1]  # same start, the compressor changed the run
    assert a[-1]["loss"] < a[0]["loss"]


@pytest.mark.parametrize("example,method", [("mlp_mse", "vmap"), ("mlp_mse", "loop"), ("tiny_lm", "vmap")])
def test_mean_of_emulated_workers_is_full_batch_gradient(example, method):
    """Dense, equal shards: the mean of N workers' gradients of the script's loss equals the
    gradient of the loss over the union of their micro-batches (mean losses)."""
    torch.set_num_threads(2)
    task = load_script(EX / f"{example}.py")
    model = task.build_model(3)
    ds = task.train_dataset(3)
    N, B = 4, 8
    shards = WorkerShards(len(ds), N, B, seed=3)
    idx = [shards.batch(w) for w in range(N)]
    per = GradFn(task, model, method, log=lambda m: None)([task.batch(ds, i) for i in idx])
    model.zero_grad()
    x, y = task.batch(ds, torch.cat(idx))
    task.loss(model, x, y).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(per[name].mean(0).numpy(), p.grad.numpy(), rtol=2e-4, atol=2e-6)
    assert not torch.allclose(per[next(iter(per))][0], per[next(iter(per))][1])


def test_seeds_one_log_per_seed_and_resume_adds_seeds(arcsim_bin, tmp_path):
    out = tmp_path / "s"
    args = ["--model", "tiny-mlp", "--workers", 2, "--compressors", "dense", "randk:0.2", "--max-steps", 4,
            "--eval-every", 2, "--train-subset", 512, "--eval-size", 200, "--sample-steps", 0, "--target", 0.9]
    t = record(arcsim_bin, out, *args, "--seeds", 1, 2)
    logs = {(c["config"], c["seed"]): c for c in t["convergence"]}
    assert sorted(logs) == [("dense", 1), ("dense", 2), ("randk-0.2-ef14", 1), ("randk-0.2-ef14", 2)]
    assert logs[("randk-0.2-ef14", 2)]["compressor"]["seed"] == 2
    # Different seeds: different initialization and data order (curves differ from step 0).
    assert logs[("dense", 1)]["points"][0] != logs[("dense", 2)]["points"][0]
    assert {s["config"] for s in t["samples"]} == {"dense", "randk-0.2-ef14"}
    assert len(t["samples"]) == 2 * len([s for s in t["samples"] if s["config"] == "dense"])  # seed 1 only
    # Without --resume an existing trace is refused, untouched.
    before = (out / "trace.json").read_bytes()
    r = subprocess.run([arcsim_bin, "record", "--out", str(out), *map(str, args), "--seeds", "3"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "--resume" in r.stderr and "Traceback" not in r.stderr
    assert (out / "trace.json").read_bytes() == before
    # With it, seed 3 is added; seeds 1 and 2 are kept as they were.
    t2 = record(arcsim_bin, out, *args, "--seeds", 1, 3, "--resume")
    logs2 = {(c["config"], c["seed"]): c for c in t2["convergence"]}
    assert sorted(logs2) == sorted(list(logs) + [("dense", 3), ("randk-0.2-ef14", 3)])
    assert logs2[("dense", 1)]["points"] == logs[("dense", 1)]["points"]
    assert t2["provenance"]["command"] == t["provenance"]["command"]
    assert t2["provenance"]["resumed"][0]["seeds"] == [1, 3]
    assert run(arcsim_bin, "trace", "validate", out).returncode == 0
    # Same seed, same bits: seed 2 recorded again elsewhere gives the same curve.
    t3 = record(arcsim_bin, tmp_path / "s2", *args, "--seed", 1, "--seeds", 2)
    assert [c["points"] for c in t3["convergence"]] == [logs[(c["config"], 2)]["points"] for c in t3["convergence"]]


def test_costs_only_adds_the_same_costs_without_training(arcsim_bin, tmp_path):
    out = tmp_path / "c"
    t = record(arcsim_bin, out, "--model", "tiny-mlp", "--workers", 2, "--max-steps", 1, "--eval-every", 1,
               "--train-subset", 256, "--eval-size", 100, "--micro-batch", 8)
    doc = json.loads((out / "trace.json").read_text())
    want = [l.pop("cost") for l in doc["compute"]["layers"]]
    times = [(l["forward_s"], l["backward_s"]) for l in doc["compute"]["layers"]]
    (out / "trace.json").write_text(json.dumps(doc))
    r = subprocess.run([arcsim_bin, "record", "--out", str(out), "--model", "tiny-mlp", "--costs-only",
                        "--train-subset", "256"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    after = json.loads((out / "trace.json").read_text())
    assert [l["cost"] for l in after["compute"]["layers"]] == want
    assert [(l["forward_s"], l["backward_s"]) for l in after["compute"]["layers"]] == times
    assert [c["points"] for c in after["convergence"]] == [c["points"] for c in t["convergence"]]
    assert run(arcsim_bin, "trace", "validate", out).returncode == 0
