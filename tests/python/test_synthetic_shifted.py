"""The ARC-Top-K authors' synthetic Robust Shifted Objective (examples/synthetic_shifted.py) through
arcsim's compressors with the reference preset (EF21M heavy ball, beta 0.5, cold start), 1000 steps:
ARC-Top-K, exact and rank-2 sketch, ends within about 3x of the uncompressed run's distance to w*;
local top-k selection stalls far from it."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ak = pytest.importorskip("arcsim_kernels", reason="binding not built (build target arcsim_kernels_py)")

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import synthetic_shifted as syn  # noqa: E402

STEPS = 1000


@pytest.fixture(scope="module")
def runs():
    return {m: syn.run(m, STEPS, seed=42, backend="cpu") for m in
            ("dense", "arc-exact", "arc-sketch", "arc-exact-dense-init", "topk", "local-row-topk")}


def test_the_objective():
    """w* is the optimum of the average objective (zero mean gradient) and not of any node's."""
    obj = syn.RobustShifted()
    g = obj.gradients(obj.w_star)
    assert np.abs(g.mean(axis=0)).max() < 1e-12
    assert np.abs(g).max() > 0.02          # every node's own gradient at w* is far from zero
    assert obj.w_star[syn.SIGNAL_BLOCK * syn.COLS] == pytest.approx(-499 / 26)
    assert obj.loss(obj.w_star) == pytest.approx(2120.1923, abs=1e-4)
    assert obj.distance(np.zeros(syn.ROWS * syn.COLS)) == pytest.approx(np.sqrt(10) * 499 / 26)


def test_arc_reaches_the_optimum_and_local_topk_stalls(runs):
    final = {m: d[-1] for m, (d, _) in runs.items()}
    dense = final["dense"]
    assert dense < 2e-3                                   # the uncompressed run converges
    assert final["arc-exact"] <= 3.0 * dense
    assert final["arc-sketch"] <= 3.5 * dense             # "about 3x" (docs/compressors/oracle-and-synthetic.md)
    for stalled in ("topk", "local-row-topk"):
        assert final[stalled] > 20 * dense, stalled
        assert min(runs[stalled][0]) > 0.01, f"{stalled} never gets close to w*"
    # arcsim's default dense first call costs ARC accuracy here: the cold start is the authors' choice.
    assert final["arc-exact-dense-init"] > 1.5 * final["arc-exact"]
    for m, (_, loss) in runs.items():                     # every method reaches the same loss floor
        assert loss == pytest.approx(2120.19, abs=0.05), m


def test_deterministic():
    a, _ = syn.run("arc-sketch", 50, seed=42, backend="cpu")
    b, _ = syn.run("arc-sketch", 50, seed=42, backend="reference")
    assert a == b


def test_cli(tmp_path):
    out = tmp_path / "s.json"
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "synthetic_shifted.py"), "--steps", "20",
                        "--methods", "dense", "arc-sketch", "--json", str(out), "--csv", str(tmp_path / "c.csv")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "arc-sketch" in r.stdout and out.exists()
    assert (tmp_path / "c.csv").read_text().splitlines()[0] == "Iteration,dense,arc-sketch"
    bad = subprocess.run([sys.executable, str(ROOT / "examples" / "synthetic_shifted.py"), "--steps", "0"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "--steps" in bad.stderr
