"""ADTopk end to end: `arcsim compress --compressor adtopk` and the binding's Compressor."""
import subprocess

import numpy as np
import pytest

from compress_run import compress


def per_row_topk_mean(g, k_row):
    """Brute force: each worker's per-row top-k_row by |x| (lowest index on ties), averaged."""
    out = np.zeros(g.shape[1:], dtype=np.float64)
    for w in g:
        for i, row in enumerate(w):
            order = sorted(range(row.size), key=lambda j: (-abs(float(row[j])), j))[:k_row]
            out[i, order] += row[order]
    return out / g.shape[0]


def test_cli_selects_per_row_and_sends_row_local_indices(arcsim_bin, tmp_path):
    g = np.random.default_rng(3).standard_normal((4, 32, 50)).astype(np.float32)
    g[:, 0] *= 1000.0  # a dominant row: a global top-k would take only it
    np.save(tmp_path / "g.npy", g)
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "adtopk", "--ratio", 0.1, "--input", tmp_path / "g.npy")
    assert agg.shape == (32, 50)
    assert rep["k"] == 32 * 5
    np.testing.assert_allclose(agg, per_row_topk_mean(g, 5), rtol=1e-6, atol=1e-6)
    assert np.all((agg != 0).sum(axis=1) >= 5)  # every row contributes
    assert [c["op"] for c in rep["plan"]] == ["allgather", "allgather"]
    assert [c["bytes_per_rank"] for c in rep["plan"]] == [32 * 5 * 4, 32 * 5 * 4]
    assert [c["dtype"] for c in rep["plan"]] == ["float32", "int32"]


def test_cli_sends_a_1d_tensor_whole(arcsim_bin, tmp_path):
    g = np.random.default_rng(4).standard_normal((3, 100)).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "adtopk", "--ratio", 0.01, "--input", tmp_path / "g.npy")
    np.testing.assert_allclose(agg, g.mean(0), rtol=1e-6)
    assert rep["k"] == 100 and rep["relative_error"] == pytest.approx(0.0, abs=1e-12)
    assert [(c["op"], c["bytes_per_rank"]) for c in rep["plan"]] == [("allgather", 400)]


def test_cli_rejects_an_option_adtopk_does_not_take(arcsim_bin, tmp_path):
    np.save(tmp_path / "g.npy", np.ones((2, 4, 4), dtype=np.float32))
    p = subprocess.run([arcsim_bin, "compress", "--compressor", "adtopk", "--ratio", "0.5", "--rank", "2",
                        "--input", str(tmp_path / "g.npy"), "--output", str(tmp_path / "a.npy")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "rank" in p.stderr
    assert not (tmp_path / "a.npy").exists()


def test_binding_runs_adtopk_with_ef14_and_is_deterministic():
    ak = pytest.importorskip("arcsim_kernels", reason="binding not built (build target arcsim_kernels_py)")
    g = np.random.default_rng(5).standard_normal((4, 20 * 30 + 20)).astype(np.float32)
    runs = []
    for _ in range(2):
        c = ak.Compressor(workers=4, compressor="adtopk", ratio=0.1, ef="ef14", seed=3)
        aggs = [c.step(0, [(20, 30), (20,)], g)[0] for _ in range(3)]
        runs.append(np.stack(aggs))
    np.testing.assert_array_equal(runs[0], runs[1])
    _, report = ak.Compressor(workers=4, compressor="adtopk", ratio=0.1).step(0, [(20, 30), (20,)], g)
    assert report["k"] == 20 * 3 + 20
    assert [op["bytes_per_rank"] for op in report["plan"]] == [60 * 4, 60 * 4, 20 * 4]


def test_cli_threshold_reuse_with_fgbuff_reports_k_by_worker_and_allgatherv(arcsim_bin, tmp_path):
    # 18 steps of 3 workers: 15 exact warm-up calls, then filtered calls (the last one reported).
    g = np.random.default_rng(9).standard_normal((18, 3, 64, 128)).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    _, rep = compress(arcsim_bin, tmp_path, "--compressor", "adtopk", "--ratio", 0.05, "--threshold-reuse",
                      "--fgbuff", "--fgbuff-elements", 100, "--steps", 18, "--input", tmp_path / "g.npy")
    k = rep["k_by_worker"]
    assert len(k) == 3 and len(set(k)) > 1 and all(0.7 * 64 * 6 <= x <= 1.3 * 64 * 6 for x in k)
    # After the 15 exact calls the counts depend on the data: one int32 all-gather of them comes first.
    size_exchange, *ops = rep["plan"]
    assert size_exchange["op"] == "allgather" and size_exchange["dtype"] == "int32"
    assert size_exchange["bytes_per_rank"] == 4
    assert len(ops) == 2 * -(-max(k) // 100)
    for j, op in enumerate(ops):
        sizes = [4 * min(100, max(0, x - 100 * (j // 2))) for x in k]
        if len(set(sizes)) == 1:
            assert op["op"] == "allgather" and op["bytes_per_rank"] == sizes[0]
        else:
            assert op["op"] == "allgatherv" and op["bytes_by_rank"] == sizes


def test_binding_interleave_alternates_per_row_and_global():
    ak = pytest.importorskip("arcsim_kernels", reason="binding not built (build target arcsim_kernels_py)")
    g = np.random.default_rng(10).standard_normal((2, 10 * 100)).astype(np.float32)
    g[:, :100] *= 1000.0  # row 0 dominates
    c = ak.Compressor(workers=2, compressor="adtopk", ratio=0.05, interleave=True)
    touched = []
    for _ in range(4):
        agg, report = c.step(0, [(10, 100)], g)
        touched.append(int((agg[100:] != 0).sum()))
        assert report["k"] == 50
    assert touched[0] > 0 and touched[2] > 0 and touched[1] == 0 and touched[3] == 0
    with pytest.raises(ValueError, match="threshold_reuse"):
        ak.Compressor(workers=2, compressor="adtopk", ratio=0.05, interleave=True, threshold_reuse=True)
