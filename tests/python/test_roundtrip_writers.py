"""Whatever arcsim writes, arcsim reads: every writer's output goes back through the reader that
consumes it (calibration files, plans, compress outputs, synthetic gradients, copied traces)."""
import json
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRACE = ROOT / "traces" / "default"


def run(*args, ok=True):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)
    if ok:
        assert r.returncode == 0, (args, r.stderr)
    return r


@pytest.mark.parametrize("gpu", ["A100", "H100-SXM", "RTX4090"])
def test_modelled_calibration_is_accepted_by_replay(arcsim_bin, tmp_path, gpu):
    cal = tmp_path / "cal.json"
    run(arcsim_bin, "calibrate", "--model", gpu, "--output", cal, "--min-log2", "10", "--max-log2", "16")
    doc = json.loads(cal.read_text())
    assert doc["measured"] is False
    r = run(arcsim_bin, "replay", TRACE, "--compressor", "topk", "--ratio", "0.1", "--workers", "2",
            "--kernel-timing", f"calibration:{cal}", "--json")
    assert "modelled" in r.stdout


def test_replay_plan_is_accepted_by_simulate(arcsim_bin, tmp_path):
    plan = tmp_path / "plan.json"
    run(arcsim_bin, "replay", TRACE, "--compressor", "arctopk", "--ratio", "0.1", "--workers", "2",
        "--kernel-timing", "model:H100-SXM", "--plan-out", plan)
    compute = tmp_path / "compute.json"
    compute.write_text(json.dumps(json.loads((TRACE / "trace.json").read_text())["compute"]))
    r = run(arcsim_bin, "simulate", "--plan", plan, "--compute", compute, "--nodes", "2")
    assert json.loads(r.stdout)["total_s"] > 0


def test_compress_outputs_are_read_back(arcsim_bin, tmp_path):
    g = tmp_path / "g.npy"
    np.save(g, np.random.default_rng(1).standard_normal((4, 256)).astype(np.float32))
    agg, rep = tmp_path / "agg.npy", tmp_path / "rep.json"
    run(arcsim_bin, "compress", "--compressor", "topk", "--ratio", "0.1", "--input", g, "--output", agg,
        "--report", rep)
    assert np.load(agg).shape == (256,)
    # The report's plan document is a plan simulate accepts.
    plan = tmp_path / "plan.json"
    doc = json.loads(rep.read_text())["plan_document"]
    plan.write_text(json.dumps(doc))
    tensors = [t for b in doc["buckets"] for t in b.get("tensors", [])] or ["g"]
    compute = tmp_path / "compute.json"
    compute.write_text(json.dumps({"format": "arcsim-compute/1", "device": "t", "forward_s": 0.001,
                                   "optimizer_s": 0.0, "layers": [{"name": "l", "params": tensors,
                                                                   "forward_s": 0.001, "backward_s": 0.001}]}))
    run(arcsim_bin, "simulate", "--plan", plan, "--compute", compute, "--nodes", "4")
    # A stacked aggregate is a valid compress input again.
    g2 = tmp_path / "g2.npy"
    np.save(g2, np.stack([np.load(agg)] * 2))
    run(arcsim_bin, "compress", "--compressor", "dense", "--input", g2, "--output", tmp_path / "agg2.npy")


def test_synth_output_is_a_compress_input(arcsim_bin, tmp_path):
    out = tmp_path / "s.npy"
    run(arcsim_bin, "trace", "synth", TRACE, "--out", out, "--workers", "3")
    assert np.load(out).shape[0] == 3
    run(arcsim_bin, "compress", "--compressor", "randk", "--ratio", "0.2", "--input", out,
        "--output", tmp_path / "agg.npy")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_copied_trace_validates(arcsim_bin, tmp_path, dtype):
    dst = tmp_path / "copy"
    run(arcsim_bin, "trace", "copy", TRACE, "--out", dst, "--dtype", dtype)
    r = run(arcsim_bin, "trace", "validate", dst)
    assert "valid" in r.stdout
    # A second copy of the copy is byte-identical (the writer is deterministic).
    dst2 = tmp_path / "copy2"
    run(arcsim_bin, "trace", "copy", dst, "--out", dst2)
    assert (dst / "trace.json").read_bytes() == (dst2 / "trace.json").read_bytes()


def test_atomic_writer_leaves_no_temporary_and_refuses_devices(arcsim_bin, tmp_path):
    out = tmp_path / "cal.json"
    run(arcsim_bin, "calibrate", "--model", "A100", "--output", out, "--min-log2", "10", "--max-log2", "12")
    first = out.read_bytes()
    # A stale temporary of a writer that was killed (its pid no longer runs) is cleaned up.
    stale = tmp_path / ".cal.json.tmp.999999999.0123456789abcdef"
    stale.write_text("half")
    run(arcsim_bin, "calibrate", "--model", "A100", "--output", out, "--min-log2", "10", "--max-log2", "12")
    assert out.read_bytes() == first
    assert not stale.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cal.json"]
    # A symlink planted where an old writer put its predictable temporary is never followed.
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / f"cal.json.tmp.{12345}").symlink_to(victim)
    run(arcsim_bin, "calibrate", "--model", "A100", "--output", out, "--min-log2", "10", "--max-log2", "12")
    assert victim.read_text() == "keep"
