"""The testbed (testbed/): a small emulated cluster of 3 ranks in network namespaces, 2 compressors,
a few steps of real gloo training, then its validation. Skips (the way CI's exit 77 does) only
where this machine cannot make namespaces or shape links, saying why."""
import csv
import json
import os
import subprocess
import sys

import pytest

from testbed import cluster
from testbed.spec import SpecError, load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _unavailable():
    try:
        return cluster.capabilities()[1]
    except (OSError, RuntimeError) as e:
        return str(e)


needs_netns = pytest.mark.skipif(_unavailable() is not None, reason=f"testbed unavailable: {_unavailable()}")


def _spec(tmp_path, **over):
    doc = {"script": os.path.join(ROOT, "examples", "mlp_mse.py"), "compressors": ["dense", "arctopk:0.2"],
           "nodes": [3], "bandwidths": ["200Mbps"], "seeds": [1], "steps": 6, "eval_every": 3,
           "target": "loss:0.3", "timeout_s": 30, "bench": {"sizes": [512, 4096, 32768], "repeats": 2}}
    doc.update(over)
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(doc))
    return p


def test_bad_specs_are_refused_in_one_line(tmp_path):
    for over, needle in (({"nodes": [1]}, "nodes: expected rank counts in [2, 16]"),
                         ({"bandwidths": ["fast"]}, "bandwidths[0]: expected a bandwidth"),
                         ({"topologies": ["ring"]}, "topologies[0]: expected"),
                         ({"compressors": ["nope:0.1"]}, "compressors[0]"),
                         ({"steps": 0}, "steps: expected a number in [2, 100000]"),
                         ({"script": "missing.py"}, "script: expected a `record --script` file"),
                         ({"speed": 1}, "speed: unknown key")):
        with pytest.raises(SpecError) as e:
            load(_spec(tmp_path, **over))
        assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


@needs_netns
def test_a_small_testbed_runs_validates_and_leaves_nothing_behind(arcsim_bin, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([arcsim_bin, "testbed", "run", str(_spec(tmp_path)), "--out", str(out)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert cluster.leftovers() == []
    with open(out / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert [(x["label"], x["status"]) for x in runs] == [("dense", "ok"), ("arctopk-0.2-none", "ok")]
    for x in runs:
        assert float(x["iteration_s"]) > 0 and int(x["wire_tx_bytes_per_step"]) > 0
    dense, arc = (int(x["wire_tx_bytes_per_step"]) for x in runs)
    assert arc < dense  # ARC-Top-K's traffic on the wire is smaller than dense's (netdev counters)
    r = subprocess.run([arcsim_bin, "testbed", "validate", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out / "validation.csv") as f:
        rows = list(csv.DictReader(f))
    want = {"compressor", "label", "nodes", "bandwidth_gbps", "topology", "measured_iteration_s",
            "predicted_iteration_s", "iteration_error_pct", "measured_tta_s", "measured_tta_lo", "measured_tta_hi",
            "predicted_tta_s"}
    assert len(rows) == 2 and want <= set(rows[0])
    for x in rows:
        assert float(x["predicted_iteration_s"]) > 0
    assert (out / "validation.pdf").stat().st_size > 0 and (out / "validation.png").stat().st_size > 0
    # Resumable: a second run keeps the finished runs.
    r = subprocess.run([arcsim_bin, "testbed", "run", str(_spec(tmp_path)), "--out", str(out)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0 and "seed 1: ok" not in r.stderr


@needs_netns
def test_clean_removes_leftovers():
    k = cluster.Cluster(2, 100).up()
    assert set(cluster.leftovers()) >= {k.ns(0), k.ns(1), k.switch}
    r = subprocess.run([sys.executable, "-m", "testbed", "clean"], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0 and "removed 3 namespace(s)" in r.stdout
    assert cluster.leftovers() == []
