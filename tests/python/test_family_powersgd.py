"""PowerSGD end to end: `arcsim compress --compressor powersgd` and the binding's Compressor."""

import numpy as np
import pytest

from compress_run import compress


def test_cli_reconstructs_a_rank_4_mean_and_sends_r_n_plus_r_m(arcsim_bin, tmp_path):
    rng = np.random.default_rng(6)
    B = rng.standard_normal((40, 4))
    g = np.stack([rng.standard_normal((64, 4)) @ B.T for _ in range(4)]).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "powersgd", "--ratio", 1, "--input", tmp_path / "g.npy")
    mean = g.astype(np.float64).mean(0)
    assert agg.shape == (64, 40)
    assert np.abs(agg - mean).max() < 1e-4 * np.abs(mean).max()
    assert rep["k"] == 4 and rep["k_unit"] == "rank"
    assert [(c["op"], c["bytes_per_rank"]) for c in rep["plan"]] == [("allreduce", 4 * 4 * 64), ("allreduce", 4 * 4 * 40)]


def test_cli_all_reduces_a_1d_tensor_densely(arcsim_bin, tmp_path):
    g = np.random.default_rng(7).standard_normal((2, 50)).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", "powersgd", "--ratio", 1, "--input", tmp_path / "g.npy")
    np.testing.assert_allclose(agg, g.mean(0), rtol=1e-6)
    assert [(c["op"], c["bytes_per_rank"]) for c in rep["plan"]] == [("allreduce", 200)]


def test_binding_warm_start_and_ef14():
    ak = pytest.importorskip("arcsim_kernels", reason="binding not built (build target arcsim_kernels_py)")
    rng = np.random.default_rng(8)
    u, v = rng.standard_normal((60, 8)), rng.standard_normal((8, 50))
    m = (u * 0.5 ** np.arange(8)) @ v
    g = np.stack([m, m]).reshape(2, -1).astype(np.float32)
    c = ak.Compressor(workers=2, compressor="powersgd", ratio=1.0, rank=2)
    errs = [c.step(0, [(60, 50)], g)[1]["relative_error"] for _ in range(6)]
    assert errs[-1] < errs[0]
    e = ak.Compressor(workers=2, compressor="powersgd", ratio=1.0, rank=2, ef="ef14")
    agg1, _ = e.step(0, [(60, 50)], g)
    agg2, _ = e.step(0, [(60, 50)], g)
    assert not np.array_equal(agg1, agg2)  # the memory changes the second input


def test_cli_rank_option_sets_the_factor_bytes(arcsim_bin, tmp_path):
    g = np.random.default_rng(11).standard_normal((2, 30, 20)).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    _, rep = compress(arcsim_bin, tmp_path, "--compressor", "powersgd", "--ratio", 1, "--rank", 2, "--value-dtype", "bf16",
                      "--input", tmp_path / "g.npy")
    assert rep["k"] == 2
    assert [(c["op"], c["bytes_per_rank"], c["dtype"]) for c in rep["plan"]] == [
        ("allreduce", 2 * 2 * 30, "bfloat16"), ("allreduce", 2 * 2 * 20, "bfloat16")]
