"""Trace format v1 across languages: Python writes, C++ reads/validates/re-writes, Python reads back."""
import json
import subprocess

import numpy as np
import pytest

from traces.recorder import trace_io


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def write_small(root, dtype="float32"):
    layout = {"model": "toy", "parameters": [
        {"name": "fc1.weight", "shape": [4, 3], "dtype": "float32", "layer": "fc1"},
        {"name": "fc1.bias", "shape": [4], "dtype": "float32", "layer": "fc1"},
        {"name": "fc2.weight", "shape": [2, 4], "dtype": "float32", "layer": "fc2"}]}
    w = trace_io.TraceWriter(root, "small", layout)
    w.set_compute({"format": "arcsim-compute/1", "device": "cpu: test", "forward_s": 0.002, "optimizer_s": 1e-4,
                   "layers": [{"name": "fc1", "params": ["fc1.weight", "fc1.bias"], "forward_s": 1e-3, "backward_s": 2e-3},
                              {"name": "fc2", "params": ["fc2.weight"], "forward_s": 5e-4, "backward_s": 1e-3}]},
                  {"method": "unit test"})
    rng = np.random.default_rng(0)
    g = rng.standard_normal((3, 24)).astype(np.float32)
    w.add_sample("dense", 4, 7, ["fc2.weight", "fc1.bias", "fc1.weight"], [0, 1, 3], g, bucket=0, dtype=dtype,
                 aggregate=g.mean(0))
    w.add_convergence({"config": "dense", "world": 4, "compressor": {"compressor": "dense", "ratio": 1.0, "ef": "none",
                                                                     "seed": 1, "warmup": 0, "ramp": False},
                       "target_accuracy": 0.8, "steps_to_target": None, "max_steps": 20, "eval_every": 10,
                       "stopped": "budget", "wall_s": 0.5,
                       "points": [{"step": 0, "loss": 2.3, "accuracy": 0.1}, {"step": 20, "loss": 1.1, "accuracy": 0.7}]})
    w.set_provenance({"seed": 1, "command": "pytest", "software": {"numpy": np.__version__}})
    w.save()
    return g


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_python_write_cpp_read_write_python_read(arcsim_bin, tmp_path, dtype):
    g = write_small(tmp_path / "py", dtype)
    r = run(arcsim_bin, "trace", "validate", tmp_path / "py")
    assert r.returncode == 0, r.stderr
    # C++ parses and serialises: the same document (info adds derived keys only).
    info = json.loads(run(arcsim_bin, "trace", "info", tmp_path / "py", "--json").stdout)
    doc = json.loads((tmp_path / "py" / "trace.json").read_text())
    for key in ("format", "name", "layout", "samples", "convergence", "provenance", "compute"):
        want = doc[key]
        got = {k: v for k, v in info[key].items() if k not in ("tensors", "total_elements")} if key == "layout" else info[key]
        assert got == want, key
    # C++ writes a copy (data files re-encoded by the C++ writer); Python reads it back.
    r = run(arcsim_bin, "trace", "copy", tmp_path / "py", "--out", tmp_path / "cpp")
    assert r.returncode == 0, r.stderr
    t = trace_io.read_trace(tmp_path / "cpp")
    back = trace_io.load_file(t, t["samples"][0]["data"])
    tol = 0 if dtype == "float32" else 2e-3
    np.testing.assert_allclose(back, g, atol=tol * np.abs(g).max(), rtol=0)
    assert t["convergence"] == doc["convergence"]
    assert t["layout"] == doc["layout"]
    # Same bytes for the data files: the two writers agree on the .npy encoding's content.
    a = np.load(tmp_path / "py" / t["samples"][0]["data"]["file"])
    b = np.load(tmp_path / "cpp" / t["samples"][0]["data"]["file"])
    assert a.dtype == b.dtype and np.array_equal(a, b)


def test_cpp_fp16_conversion_matches_numpy(arcsim_bin, tmp_path):
    g = write_small(tmp_path / "py", "float32")
    assert run(arcsim_bin, "trace", "copy", tmp_path / "py", "--out", tmp_path / "h", "--dtype", "float16").returncode == 0
    t = trace_io.read_trace(tmp_path / "h")
    half = np.load(tmp_path / "h" / t["samples"][0]["data"]["file"])
    assert half.dtype == np.float16
    assert np.array_equal(half, g.astype(np.float16))  # round-to-nearest-even, bit for bit


def test_python_reader_refuses_other_versions(tmp_path):
    write_small(tmp_path)
    doc = json.loads((tmp_path / "trace.json").read_text())
    doc["format"] = "arcsim-trace/9"
    (tmp_path / "trace.json").write_text(json.dumps(doc))
    with pytest.raises(trace_io.TraceError, match="format"):
        trace_io.read_trace(tmp_path)


def test_python_reader_catches_flipped_byte(tmp_path):
    write_small(tmp_path)
    t = trace_io.read_trace(tmp_path, check_data=False)
    f = tmp_path / t["samples"][0]["data"]["file"]
    b = bytearray(f.read_bytes())
    b[-3] ^= 0x10
    f.write_bytes(bytes(b))
    with pytest.raises(trace_io.TraceError, match="sha256"):
        trace_io.read_trace(tmp_path)


def test_python_atomic_writer_never_clobbers_or_leaves_temporaries(tmp_path):
    """The recorder's writer: exclusive, unpredictable temporaries; non-regular targets refused."""
    import os
    target = tmp_path / "trace.json"
    trace_io.write_atomic(target, "one\n")
    trace_io.write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(victim)
    with pytest.raises(trace_io.TraceError, match="link.json: expected a regular file"):
        trace_io.write_atomic(link, "overwrite")
    assert victim.read_text() == "keep"
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(trace_io.TraceError, match="fifo.json: expected a regular file"):
        trace_io.write_atomic(fifo, "x")
    assert not fifo.is_file() and fifo.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.json", "link.json", "trace.json", "victim"]
