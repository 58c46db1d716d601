"""Kernel backends seen from outside: --backend on compress, replay and record, the binding's
backend= argument and topk_magnitude (the fast CPU backend, the same indices as the reference)."""
import json
import subprocess

import numpy as np
import pytest

import arcsim_kernels as ak

from conftest import ROOT


def oracle_topk(x, k):
    """First k of a stable sort by descending |x| bit key, sorted ascending (kernels/primitives.hpp)."""
    key = x.view(np.uint32) & np.uint32(0x7FFFFFFF)
    order = np.argsort(-key.astype(np.int64), kind="stable")
    return np.sort(order[:k]).astype(np.uint32)


@pytest.mark.parametrize("n", [1, 33, 70001, (1 << 20) + 7])
def test_topk_magnitude_is_the_reference_selection(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    x[::7] = 0.5  # ties
    for k in sorted({1, int(rng.integers(1, n + 1)), n}):
        got = ak.topk_magnitude(x, k)
        assert got.dtype == np.uint32
        np.testing.assert_array_equal(got, oracle_topk(x, k))


def test_binding_backends_give_the_same_bits():
    rng = np.random.default_rng(3)
    g = rng.standard_normal((3, 5000)).astype(np.float32)
    out = {}
    for be in ("reference", "cpu", "auto"):
        c = ak.Compressor(3, "arctopk", 0.1, rank=2, ef="ef14", backend=be)
        agg, rep = c.step(0, [[50, 100]], g)
        assert rep["backend"] == c.backend
        out[be] = agg
    assert out["reference"].tobytes() == out["cpu"].tobytes() == out["auto"].tobytes()
    assert set(ak.backends()) == {"auto", "cpu", "cuda", "reference"}


def test_binding_rejects_unknown_and_unavailable_backends():
    with pytest.raises(ValueError, match="backend: expected auto, cpu, cuda or reference"):
        ak.Compressor(2, "topk", 0.1, backend="gpu")
    if not ak.cuda_available():
        with pytest.raises(RuntimeError, match="backend cuda"):
            ak.Compressor(2, "topk", 0.1, backend="cuda")


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)


@pytest.mark.skipif(ak.cuda_available(), reason="a CUDA device is present")
@pytest.mark.parametrize("args", [
    ["compress", "--compressor", "topk", "--ratio", "0.1", "--input", "in.npy", "--output", "out.npy"],
    ["replay", "traces/default", "--compressor", "topk"],
    ["record", "--out", "unused-trace-dir"],
])
def test_backend_cuda_without_a_device_is_one_line_and_exit_3(arcsim_bin, args):
    p = run([arcsim_bin, *args, "--backend", "cuda"])
    assert p.returncode == 3, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "backend cuda" in lines[0], p.stderr


def test_compress_and_replay_name_the_backend(arcsim_bin, tmp_path):
    g = np.random.default_rng(1).standard_normal((2, 4096)).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    aggs = {}
    for be in ("reference", "cpu"):
        p = run([arcsim_bin, "compress", "--compressor", "topk", "--ratio", "0.05", "--input", str(tmp_path / "g.npy"),
                 "--output", str(tmp_path / f"a-{be}.npy"), "--report", str(tmp_path / f"r-{be}.json"), "--backend", be])
        assert p.returncode == 0, p.stderr
        assert json.loads((tmp_path / f"r-{be}.json").read_text())["backend"] == be
        aggs[be] = np.load(tmp_path / f"a-{be}.npy")
    assert aggs["reference"].tobytes() == aggs["cpu"].tobytes()
    p = run([arcsim_bin, "replay", "traces/default", "--compressor", "arctopk", "--workers", "2", "--backend", "cpu",
             "--json", "--quiet"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["backend"] == "cpu"
    assert p.stderr == ""
