"""The arcsim_kernels Python binding (docs/contracts.md section 4), as the recorder uses it."""
import numpy as np
import pytest

ak = pytest.importorskip("arcsim_kernels", reason="binding not built (build target arcsim_kernels_py)")


def grads(workers, numel, seed=0):
    return np.random.default_rng(seed).standard_normal((workers, numel)).astype(np.float32)


def test_contract_example():
    c = ak.Compressor(workers=8, compressor="arctopk", ratio=0.2, rank=4, ef="ef14", seed=1, row_scores="sketch",
                      shape_rule="rows", sketch_allreduce="tensor", warmup=0, ramp=False)
    g = grads(8, 64 * 32 + 64)
    agg, report = c.step(bucket=0, shapes=[(64, 32), (64,)], grads=g)
    assert agg.dtype == np.float32 and agg.shape == (64 * 32 + 64,)
    for key in ("k", "plan", "relative_error", "retained_energy", "kernels", "plan_bucket", "shape_rule"):
        assert key in report
    assert report["k"] == 12 + 12
    assert [op["bytes_per_rank"] for op in report["plan"]] == [64 * 4 * 4, 64 * 4, (12 * 32 + 12) * 4]
    bucket = report["plan_bucket"]
    assert bucket["elements"] == 64 * 32 + 64 and bucket["bucket"] == 0
    header = c.plan_header()
    assert header["format"] == "arcsim-plan/1" and header["world_size"] == 8


def test_dense_is_the_mean():
    c = ak.Compressor(workers=3, compressor="dense")
    g = grads(3, 10)
    agg, report = c.step(0, [(10,)], g)
    np.testing.assert_allclose(agg, g.mean(0), rtol=1e-6)
    assert report["plan"][0]["op"] == "allreduce" and report["plan"][0]["blocking"] is False


def test_names_reach_the_plan():
    c = ak.Compressor(workers=2, compressor="topk", ratio=0.5)
    _, report = c.step(4, [(2, 2)], grads(2, 4), names=["fc.weight"])
    assert report["plan_bucket"]["tensors"] == ["fc.weight"]
    assert report["plan_bucket"]["bucket"] == 4


def test_wrong_dtype_is_a_type_error():
    c = ak.Compressor(workers=2, compressor="topk", ratio=0.5)
    with pytest.raises(TypeError, match="float32"):
        c.step(0, [(4,)], grads(2, 4).astype(np.float64))


def test_wrong_shape_is_a_value_error():
    c = ak.Compressor(workers=2, compressor="topk", ratio=0.5)
    with pytest.raises(ValueError, match="grads"):
        c.step(0, [(5,)], grads(2, 4))


def test_nan_is_a_value_error():
    c = ak.Compressor(workers=2, compressor="topk", ratio=0.5)
    g = grads(2, 4)
    g[1, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        c.step(0, [(4,)], g)


@pytest.mark.parametrize("kwargs", [dict(compressor="nope"), dict(ratio=0.0), dict(ratio=2.0), dict(ef="x"),
                                    dict(shape_rule="x"), dict(rank=0), dict(workers=0)])
def test_bad_options_are_value_errors(kwargs):
    args = dict(workers=2, compressor="topk", ratio=0.5)
    args.update(kwargs)
    with pytest.raises(ValueError):
        ak.Compressor(**args)


def test_primitives_exposed():
    idx = ak.topk_magnitude(np.array([1, -3, 2, 3], np.float32), 2)
    assert idx.tolist() == [1, 3]
    v = ak.sketch_matrix(5, 4, 1, 0, 0)
    assert v.shape == (5, 4)
    r = ak.randk_indices(100, 10, 1, 0, 0)
    assert len(set(r.tolist())) == 10
    assert r.tolist() == sorted(r.tolist())  # the set, ascending
