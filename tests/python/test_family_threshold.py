"""The threshold estimators dgc, gaussiank, redsync, sidco end to end: `arcsim compress` and the
binding, the report's per-worker k and the plan's real per-worker sizes, determinism, their own
options (and bad values rejected by name), heavy-tailed inputs."""

import numpy as np
import pytest

from compress_run import compress, run

METHODS = ["dgc", "gaussiank", "redsync", "sidco"]


def heavy(workers, numel, seed):
    """Student-t(3) gradients at a gradient-like scale."""
    return (1e-3 * np.random.default_rng(seed).standard_t(3, size=(workers, numel))).astype(np.float32)


@pytest.fixture()
def grads(tmp_path):
    path = tmp_path / "g.npy"
    np.save(path, heavy(4, 20000, 0))
    return path


def check_plan(rep, workers, value_bytes=4, index_bytes=4):
    kw = rep["k_by_worker"]
    assert len(kw) == workers
    ops = [c["op"] for c in rep["plan"]]
    assert ops == ["allgather", "allgatherv", "allgatherv"]
    sizes, vals, idx = rep["plan"]
    assert sizes["bytes_per_rank"] == 4 and sizes["dtype"] == "int32"
    assert vals["bytes_by_rank"] == [value_bytes * k for k in kw]
    assert idx["bytes_by_rank"] == [index_bytes * k for k in kw]
    assert rep["k"] == int(sum(kw) / workers + 0.5)  # half up, as the C++ report


@pytest.mark.parametrize("method", METHODS)
def test_compress_cli_reports_variable_k_and_the_real_sizes(arcsim_bin, grads, tmp_path, method):
    agg, rep = compress(arcsim_bin, tmp_path, "--compressor", method, "--ratio", 0.01, "--input", grads)
    g = np.load(grads)
    assert agg.shape == (20000,) and agg.dtype == np.float32
    check_plan(rep, 4)
    # fp32 values + int32 indices: 8 bytes per selected element per worker.
    assert [v + i for v, i in zip(rep["plan"][1]["bytes_by_rank"], rep["plan"][2]["bytes_by_rank"])] == \
        [8 * k for k in rep["k_by_worker"]]
    # Every aggregate entry is the mean of the workers that sent it: a subset of sum g / N.
    nz = agg != 0
    assert 0 < nz.sum() <= sum(rep["k_by_worker"])
    mean = g.mean(0)
    assert rep["relative_error"] == pytest.approx(((agg - mean) ** 2).sum() / (mean ** 2).sum(), rel=1e-4)
    for key in ("relative_error", "retained_energy", "plan", "kernels"):
        assert key in rep
    again, rep2 = compress(arcsim_bin, tmp_path, "--compressor", method, "--ratio", 0.01, "--input", grads, tag="b")
    assert again.tobytes() == agg.tobytes() and rep2["k_by_worker"] == rep["k_by_worker"]


@pytest.mark.parametrize("method", METHODS)
def test_compress_cli_honours_value_and_index_dtype(arcsim_bin, grads, tmp_path, method):
    _, rep = compress(arcsim_bin, tmp_path, "--compressor", method, "--ratio", 0.01, "--input", grads,
                      "--value-dtype", "fp16", "--index-dtype", "int64")
    check_plan(rep, 4, value_bytes=2, index_bytes=8)


@pytest.mark.parametrize("args,option", [
    (["--compressor", "dgc", "--sample-ratio", "0"], "sample_ratio"),
    (["--compressor", "dgc", "--momentum-correction", "1"], "momentum_correction"),
    (["--compressor", "gaussiank", "--max-adjust", "-1"], "max_adjust"),
    (["--compressor", "sidco", "--fit", "weibull"], "fit"),
    (["--compressor", "sidco", "--stages", "0"], "stages"),
    (["--compressor", "redsync", "--stages", "2"], "stages"),
])
def test_compress_cli_rejects_bad_options_by_name(arcsim_bin, grads, tmp_path, args, option):
    p = run(arcsim_bin, *args, "--ratio", 0.01, "--input", grads, "--output", tmp_path / "o.npy")
    assert p.returncode == 2
    assert option.replace("_", "-") in p.stderr or option in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.npy").exists()


def test_help_lists_the_family_and_their_options(arcsim_bin):
    p = run(arcsim_bin, "--help")
    assert p.returncode == 0
    for name in METHODS + ["--sample-ratio", "--max-adjust", "--momentum-correction", "--clip-norm", "--trim",
                           "--stages", "--first-ratio", "--fit"]:
        assert name in p.stdout, name


@pytest.fixture()
def binding():
    return pytest.importorskip("arcsim_kernels", reason="binding not built (build target arcsim_kernels_py)")


@pytest.mark.parametrize("method,opts", [
    ("dgc", {"momentum_correction": 0.9, "sample_ratio": 0.05}),
    ("dgc", {"clip_norm": 1e-2}),
    ("gaussiank", {"max_adjust": 5}),
    ("redsync", {"trim": True}),
    ("sidco", {"fit": "gamma", "stages": 3}),
    ("sidco", {"fit": "pareto"}),
])
def test_binding_runs_each_method_with_its_options(binding, method, opts):
    c = binding.Compressor(workers=4, compressor=method, ratio=0.02, seed=3, **opts)
    g = heavy(4, 64 * 50 + 64, 1)
    agg, rep = c.step(bucket=0, shapes=[(64, 50), (64,)], grads=g)
    assert agg.shape == (64 * 50 + 64,)
    check_plan(rep, 4)
    c2 = binding.Compressor(workers=4, compressor=method, ratio=0.02, seed=3, **opts)
    agg2, rep2 = c2.step(bucket=0, shapes=[(64, 50), (64,)], grads=g)
    assert agg2.tobytes() == agg.tobytes() and rep2["k_by_worker"] == rep["k_by_worker"]


def test_binding_dgc_accumulates_across_steps(binding):
    # With momentum correction the second step sends values DGC kept from the first: its
    # aggregate differs from a fresh compressor's on the same gradients.
    g1, g2 = heavy(2, 5000, 2), heavy(2, 5000, 3)
    c = binding.Compressor(workers=2, compressor="dgc", ratio=0.01)
    c.step(0, [(5000,)], g1)
    a2, _ = c.step(0, [(5000,)], g2)
    fresh, _ = binding.Compressor(workers=2, compressor="dgc", ratio=0.01).step(0, [(5000,)], g2)
    assert a2.tobytes() != fresh.tobytes()


@pytest.mark.parametrize("kwargs", [
    {"compressor": "dgc", "sample_ratio": 2.0},
    {"compressor": "gaussiank", "max_adjust": 1000},
    {"compressor": "sidco", "fit": "lognormal"},
    {"compressor": "redsync", "trim": "no"},
])
def test_binding_rejects_bad_options(binding, kwargs):
    with pytest.raises(ValueError, match=next(k for k in kwargs if k != "compressor")):
        binding.Compressor(workers=2, ratio=0.1, **kwargs)
