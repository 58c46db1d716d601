"""The recorder: smoke run through `arcsim record`, emulated-worker equivalence, determinism, and
the compressed aggregate == what `arcsim compress` gives on the recorded worker gradients."""
import json
import os
import signal
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from test_trace_io import run
from traces.recorder import data as dataset
from traces.recorder import models, trace_io
from traces.recorder.emulated import GradFn

TINY = ["--train-subset", "512", "--eval-size", "200", "--profile-steps", "2", "--threads", "2", "--ef", "ef14"]


def record(arcsim_bin, out, *args, timeout=120):
    # Its own process group, killed whole on a timeout: the recorder's DDP and script modes start
    # worker processes that would otherwise outlive the test (and spin in a collective).
    p = subprocess.Popen([arcsim_bin, "record", "--out", str(out), *map(str, args), *TINY],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    assert p.returncode == 0, err[-3000:]
    return trace_io.read_trace(out)


def test_record_help(arcsim_bin):
    r = run(arcsim_bin, "record", "--help")
    assert r.returncode == 0 and "--workers" in r.stdout and "--compressors" in r.stdout


def test_smoke_four_workers(arcsim_bin, tmp_path):
    t = record(arcsim_bin, tmp_path / "t", "--workers", 4, "--compressors", "dense", "arctopk:0.2",
               "--max-steps", 4, "--eval-every", 2, "--sample-steps", "0,3", "--sample-workers", "0,2")
    assert run(arcsim_bin, "trace", "validate", tmp_path / "t").returncode == 0
    assert [(c["config"], c["world"]) for c in t["convergence"]] == [("dense", 4), ("arctopk-0.2-ef14", 4)]
    assert [p["step"] for p in t["convergence"][0]["points"]] == [0, 2, 4]
    assert len(t["samples"]) == 4 and all(s["workers"] == [0, 2] for s in t["samples"])
    names = [p["name"] for p in t["layout"]["parameters"]]
    assert names == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                     "fc2.weight", "fc2.bias"]
    assert [l["name"] for l in t["compute"]["layers"]] == ["conv1", "conv2", "fc1", "fc2"]
    assert all(l["backward_s"] > 0 for l in t["compute"]["layers"])
    assert t["provenance"]["batch_per_worker"] == 16 and t["provenance"]["seed"] == 1


@pytest.mark.parametrize("method", ["vmap", "loop"])
def test_mean_of_workers_is_full_batch_gradient(method):
    torch.set_num_threads(2)
    task = models.load("fmnist-cnn")
    model = task.build_model(3)
    tx, ty, _, _ = dataset.load_fashion_mnist()
    N, B = 6, 8
    shards = dataset.WorkerShards(600, N, B, seed=3)
    idx = torch.stack([shards.batch(w) for w in range(N)])
    per = GradFn(task, model, method, log=lambda m: None)([(tx[i], ty[i]) for i in idx])
    model.zero_grad()
    F.cross_entropy(model(tx[idx.reshape(-1)]), ty[idx.reshape(-1)]).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(per[name].mean(0).numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6)
    # Each worker's gradient is its own micro-batch's: not all equal.
    assert not torch.allclose(per["fc2.weight"][0], per["fc2.weight"][1])


def test_shards_are_disjoint_and_equal():
    s = dataset.WorkerShards(1000, 8, 4, seed=1)
    allidx = torch.cat(s.shards)
    assert len(allidx) == 1000 and len(set(allidx.tolist())) == 1000
    assert {len(x) for x in s.shards} == {125}


def test_dense_aggregate_is_worker_mean_and_run_is_deterministic(arcsim_bin, tmp_path):
    args = ("--workers", 4, "--compressors", "dense", "randk:0.2", "--max-steps", 3, "--eval-every", 3,
            "--sample-steps", "0,2", "--sample-workers", "0,1,2,3", "--sample-aggregate", "--model", "tiny-mlp")
    a = record(arcsim_bin, tmp_path / "a", *args)
    b = record(arcsim_bin, tmp_path / "b", *args)
    for s in a["samples"]:
        if s["config"] == "dense":
            g = trace_io.load_file(a, s["data"])
            np.testing.assert_allclose(trace_io.load_file(a, s["aggregate"]), g.mean(0), rtol=1e-5, atol=1e-7)
    # Same seed -> same bits (samples, aggregates, curves); only measured times differ.
    assert [s["data"]["sha256"] for s in a["samples"]] == [s["data"]["sha256"] for s in b["samples"]]
    assert [s["aggregate"]["sha256"] for s in a["samples"]] == [s["aggregate"]["sha256"] for s in b["samples"]]
    assert [c["points"] for c in a["convergence"]] == [c["points"] for c in b["convergence"]]


@pytest.mark.parametrize("spec", ["topk:0.2", "randk:0.2", "arctopk:0.2"])
def test_aggregate_equals_arcsim_compress(arcsim_bin, tmp_path, spec):
    """Bucket 0 is fc2.weight [10, 32] alone (first bucket cap 1 byte); at step 0 the EF memory is
    zero, so `arcsim compress` on the recorded gradients of all workers must give the aggregate
    the run applied."""
    help_text = run(arcsim_bin, "compress", "--help")
    assert help_text.returncode == 0, help_text.stderr
    name, ratio = spec.split(":")
    ramp = name in ("topk", "randk")  # with the ratio ramp (off by default, as in compress)
    t = record(arcsim_bin, tmp_path / "t", "--model", "tiny-mlp", "--workers", 4, "--compressors", spec,
               "--max-steps", 1, "--eval-every", 1, "--sample-steps", "0", "--sample-workers", "0,1,2,3",
               "--sample-aggregate", "--first-bucket-cap", 1, "--bucket-cap", 1 << 30,
               *(["--ramp", "on"] if ramp else []))
    assert t["convergence"][0]["compressor"].get("ramp", False) is ramp
    s = next(s for s in t["samples"] if s["bucket"] == 0)
    assert s["tensors"] == ["fc2.weight"]
    g = trace_io.load_file(t, s["data"]).reshape(4, 10, 32)
    np.save(tmp_path / "g.npy", g)
    extra = ["--ramp"] if ramp else []
    r = run(arcsim_bin, "compress", "--compressor", name, "--ratio", ratio, "--ef", "ef14", "--seed", 1,
            "--input", tmp_path / "g.npy", "--output", tmp_path / "agg.npy", *extra)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "agg.npy").reshape(-1), trace_io.load_file(t, s["aggregate"]))


def test_binding_search_order_prefers_the_requested_dir(tmp_path):
    """$ARCSIM_PYTHON_DIR (what `arcsim record` passes) must win over any build*/python of the
    tree: an older, stale binding found by the glob used to shadow it (the inserts reversed the
    priority), so the recorder silently ran other kernels than `arcsim compress`."""
    import os
    import pathlib
    import sys
    (tmp_path / "arcsim_kernels.py").write_text("MARK = 'requested'\n")
    root = pathlib.Path(__file__).resolve().parents[2]
    code = ("from traces.recorder import kernels; m = kernels.import_binding(); "
            "print(getattr(m, 'MARK', m and m.__file__))")
    env = dict(os.environ, ARCSIM_PYTHON_DIR=str(tmp_path))
    env.pop("ARCSIM_BUILD", None)
    r = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "requested"
