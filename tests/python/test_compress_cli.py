"""`arcsim compress`: the happy paths (report fields, plan bytes, output shape) and every bad input
giving exit status 2 with one error line on stderr."""

import numpy as np
import pytest

from compress_run import compress, run


@pytest.fixture()
def grads(tmp_path):
    rng = np.random.default_rng(0)
    paths = {}
    for name, shape in {"flat": (4, 100), "mat": (4, 32, 16), "steps": (3, 4, 32, 16)}.items():
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], rng.standard_normal(shape).astype(np.float32))
    return paths


def test_help(arcsim_bin):
    p = run(arcsim_bin, "--help")
    assert p.returncode == 0 and "--compressor" in p.stdout and "--row-scores" in p.stdout


def test_topk_report_and_plan(arcsim_bin, grads, tmp_path):
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "topk", "--ratio", 0.1, "--input", grads["flat"])
    g = np.load(grads["flat"])
    assert agg.shape == (100,) and agg.dtype == np.float32
    assert rep["k"] == 10
    mean = g.mean(0)
    assert rep["relative_error"] == pytest.approx(((agg - mean) ** 2).sum() / (mean ** 2).sum(), rel=1e-4)
    assert 0 < rep["retained_energy"] <= 1
    assert [c["op"] for c in rep["plan"]] == ["allgather", "allgather"]
    assert sum(c["bytes_per_rank"] for c in rep["plan"]) == 10 * 8
    assert rep["kernels"] and all(k["duration_source"] == "measured-cpu" for k in rep["kernels"])


def test_arctopk_report(arcsim_bin, grads, tmp_path):
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "arctopk", "--ratio", 0.25, "--rank", 4,
                        "--input", grads["mat"])
    assert agg.shape == (32, 16)
    assert rep["k"] == 8 and rep["shape_rule"] == "rows"
    assert 0 <= rep["row_recall"] <= 1
    assert [c["bytes_per_rank"] for c in rep["plan"]] == [32 * 4 * 4, 8 * 16 * 4]
    assert rep["plan_document"]["format"] == "arcsim-plan/1"
    # Whole rows: each row of the aggregate is all zero or the mean row.
    mean = np.load(grads["mat"]).mean(0)
    kept = np.any(agg != 0, axis=1)
    assert kept.sum() == 8
    np.testing.assert_allclose(agg[kept], mean[kept], rtol=1e-6, atol=1e-7)


def test_arctopk_exact_rows_recall_one(arcsim_bin, grads, tmp_path):
    _, rep = compress(arcsim_bin, tmp_path, "--compressor", "arctopk", "--ratio", 0.25, "--row-scores", "exact",
                      "--input", grads["mat"])
    assert rep["row_recall"] == 1.0
    assert rep["retained_energy"] >= 0.25


@pytest.mark.parametrize("ef", ["none", "ef14", "ef21", "ef21m"])
def test_steps_with_error_feedback(arcsim_bin, grads, tmp_path, ef):
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "randk", "--ratio", 0.2, "--ef", ef, "--steps", 3,
                        "--seed", 5, "--input", grads["steps"])
    assert agg.shape == (32, 16)
    assert rep["steps"] == 3 and len(rep["per_step"]) == 3
    assert rep["per_step"][0]["phase"] == ("ef21-init-dense" if ef in ("ef21", "ef21m") else "compressed")


def test_deterministic_output(arcsim_bin, grads, tmp_path):
    a, _ = compress(arcsim_bin, tmp_path, "--compressor", "arctopk", "--ratio", 0.2, "--input", grads["mat"])
    b, _ = compress(arcsim_bin, tmp_path, "--compressor", "arctopk", "--ratio", 0.2, "--input", grads["mat"])
    assert a.tobytes() == b.tobytes()


def bad_inputs(tmp_path):
    rng = np.random.default_rng(1)
    ok = tmp_path / "ok.npy"
    np.save(ok, rng.standard_normal((2, 10)).astype(np.float32))
    ints = tmp_path / "ints.npy"
    np.save(ints, np.ones((2, 10), np.int32))
    nan = tmp_path / "nan.npy"
    a = rng.standard_normal((2, 10)).astype(np.float32)
    a[1, 4] = np.nan
    np.save(nan, a)
    inf = tmp_path / "inf.npy"
    a[1, 4] = np.inf
    np.save(inf, a)
    one_d = tmp_path / "oned.npy"
    np.save(one_d, np.ones(10, np.float32))
    conv = tmp_path / "conv.npy"
    np.save(conv, np.ones((2, 5, 3, 3), np.float32))
    return {
        "missing file": ["--ratio", 0.1, "--input", tmp_path / "missing.npy"],
        "non-float dtype": ["--ratio", 0.1, "--input", ints],
        "nan": ["--ratio", 0.1, "--input", nan],
        "inf": ["--ratio", 0.1, "--input", inf],
        "k > d": ["--k", 11, "--input", ok],
        "ratio zero": ["--ratio", 0, "--input", ok],
        "ratio above one": ["--ratio", 1.5, "--input", ok],
        "ratio negative": ["--ratio", -0.5, "--input", ok],
        "shape without workers": ["--ratio", 0.1, "--input", one_d],
        "steps mismatch": ["--ratio", 0.1, "--steps", 3, "--input", ok],
        "unknown ef": ["--ratio", 0.1, "--ef", "ef99", "--input", ok],
        "unknown option": ["--ratio", 0.1, "--bogus", 1, "--input", ok],
        "reference rule indivisible": ["--ratio", 0.1, "--input", conv, "--shape-rule", "reference"],
    }


BAD_CASES = ["missing file", "non-float dtype", "nan", "inf", "k > d", "ratio zero", "ratio above one",
             "ratio negative", "shape without workers", "steps mismatch", "unknown ef", "unknown option",
             "reference rule indivisible"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_2_with_one_line(arcsim_bin, tmp_path, case):
    args = bad_inputs(tmp_path)[case]
    compressor = "arctopk" if case == "reference rule indivisible" else "topk"
    p = run(arcsim_bin, "--compressor", compressor, *args, "--output", tmp_path / "o.npy")
    assert p.returncode == 2, (case, p.stdout, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert "error" in lines[0]
    assert not (tmp_path / "o.npy").exists()
