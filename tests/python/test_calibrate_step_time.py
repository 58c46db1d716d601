"""arcsim calibrate --step-time: one measured dense iteration fixes the compute model's fixed host cost
(or its MFU); a sweep with the written settings gives that dense iteration back."""
import csv
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRACE = os.path.join(ROOT, "traces", "layouts", "llama-60m-b1")


def calibrate(arcsim_bin, out, *extra, step_time="0.15"):
    return subprocess.run([arcsim_bin, "calibrate", "--step-time", step_time, "--trace", TRACE, "--compute",
                           "model:A100-40GB", "--topology", "host-4xa100-shm", "--nodes", "1", "--output", str(out),
                           *extra], capture_output=True, text=True, timeout=300)


def test_the_fitted_settings_give_the_measured_dense_iteration_back(arcsim_bin, tmp_path):
    r = calibrate(arcsim_bin, tmp_path / "c.json")
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / "c.json").read_text())
    assert c["format"] == "arcsim-compute-settings/1" and c["model"] == "A100-40GB"
    assert 0 < c["fixed_step_s"] < 0.15
    assert abs(c["calibrated_from"]["model_after_s"] - 0.15) < 1e-9
    assert abs(c["calibrated_from"]["model_before_s"] + c["fixed_step_s"] - 0.15) < 1e-9
    spec = {"trace": TRACE, "compressors": [{"name": "dense"}], "nodes": [1], "topologies": ["host-4xa100-shm"],
            "profiles": ["nccl"], "compute": "c.json", "kernel_timing": "model:A100-40GB",
            "replay": {"workers": 2, "samples": 1}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = subprocess.run([arcsim_bin, "sweep", str(tmp_path / "s.json"), "--out", str(tmp_path / "o"), "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    row = next(csv.DictReader((tmp_path / "o" / "results.csv").open()))
    assert abs(float(row["iteration_s"]) - 0.15) < 1e-6
    assert row["transport"] == "shm" and "fixed_step_s" in row["compute_source"]


def test_fitting_the_mfu(arcsim_bin, tmp_path):
    r = calibrate(arcsim_bin, tmp_path / "m.json", "--fit", "mfu", step_time="0.03")
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / "m.json").read_text())
    assert 0.01 <= c["mfu"] < 0.4  # slower than the default 40 % of peak
    assert abs(c["calibrated_from"]["model_after_s"] - 0.03) < 1e-4
    # Beyond what any MFU gives: one line naming the flag, nothing written.
    r = calibrate(arcsim_bin, tmp_path / "x.json", "--fit", "mfu", step_time="100")
    assert r.returncode == 2 and "--step-time" in r.stderr and "fit fixed_step_s" in r.stderr
    assert not (tmp_path / "x.json").exists()
