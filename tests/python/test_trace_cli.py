"""`arcsim trace validate|info`: exit 0 on a valid trace; each corruption is one error line
naming the file and the field, non-zero exit."""
import json
import math

import numpy as np
import pytest

from test_trace_io import run, write_small
from traces.recorder import trace_io


def corrupt_and_check(arcsim_bin, root, file_part, field_part):
    r = run(arcsim_bin, "trace", "validate", root)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert file_part in lines[0] and field_part in lines[0], lines[0]
    return lines[0]


def edit(root, fn):
    doc = json.loads((root / "trace.json").read_text())
    fn(doc)
    (root / "trace.json").write_text(json.dumps(doc))


def data_file(root):
    return root / json.loads((root / "trace.json").read_text())["samples"][0]["data"]["file"]


def test_valid_trace(arcsim_bin, tmp_path):
    write_small(tmp_path)
    r = run(arcsim_bin, "trace", "validate", tmp_path)
    assert r.returncode == 0 and "valid" in r.stdout
    info = json.loads(run(arcsim_bin, "trace", "info", tmp_path, "--json").stdout)
    assert info["layout"]["total_elements"] == 24
    assert info["samples"][0]["workers"] == [0, 1, 3]
    assert info["convergence"][0]["points"][1]["accuracy"] == 0.7


def test_unknown_version(arcsim_bin, tmp_path):
    write_small(tmp_path)
    edit(tmp_path, lambda d: d.update(format="arcsim-trace/2"))
    corrupt_and_check(arcsim_bin, tmp_path, "trace.json", "format")


def test_shape_mismatch_vs_layout(arcsim_bin, tmp_path):
    write_small(tmp_path)
    edit(tmp_path, lambda d: d["layout"]["parameters"][2].update(shape=[3, 4]))
    corrupt_and_check(arcsim_bin, tmp_path, "trace.json", "samples[0].data.shape")


def test_npy_shape_not_as_declared(arcsim_bin, tmp_path):
    write_small(tmp_path)
    f = data_file(tmp_path)
    ref = trace_io.write_data_file(tmp_path, f.relative_to(tmp_path).as_posix(), np.zeros((3, 4, 6), np.float32))
    edit(tmp_path, lambda d: d["samples"][0]["data"].update(sha256=ref["sha256"]))
    corrupt_and_check(arcsim_bin, tmp_path, f.name, "shape")


def test_truncated_npy(arcsim_bin, tmp_path):
    write_small(tmp_path)
    f = data_file(tmp_path)
    f.write_bytes(f.read_bytes()[:-5])
    line = corrupt_and_check(arcsim_bin, tmp_path, f.name, "samples[0].data")
    assert "truncated" in line


def test_flipped_byte_is_checksum_error(arcsim_bin, tmp_path):
    write_small(tmp_path)
    f = data_file(tmp_path)
    b = bytearray(f.read_bytes())
    b[len(b) - 20] ^= 0x04
    f.write_bytes(bytes(b))
    corrupt_and_check(arcsim_bin, tmp_path, f.name, "sha256")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_inf_in_samples(arcsim_bin, tmp_path, bad):
    write_small(tmp_path)
    f = data_file(tmp_path)
    g = np.load(f)
    g[1, 5] = bad
    data = trace_io.npy_bytes(g)
    f.write_bytes(data)
    import hashlib
    edit(tmp_path, lambda d: d["samples"][0]["data"].update(sha256=hashlib.sha256(data).hexdigest()))
    line = corrupt_and_check(arcsim_bin, tmp_path, f.name, "samples[0].data")
    assert "finite" in line


def test_missing_file(arcsim_bin, tmp_path):
    write_small(tmp_path)
    data_file(tmp_path).unlink()
    corrupt_and_check(arcsim_bin, tmp_path, "samples/", "missing")


def test_unknown_key(arcsim_bin, tmp_path):
    write_small(tmp_path)
    edit(tmp_path, lambda d: d["samples"][0].update(colour="red"))
    corrupt_and_check(arcsim_bin, tmp_path, "trace.json", "samples[0].colour")


def test_info_of_missing_dir_is_one_line(arcsim_bin, tmp_path):
    r = run(arcsim_bin, "trace", "info", tmp_path / "nope", "--json")
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1


def test_synth_writes_deterministic_gradients(arcsim_bin, tmp_path):
    tr = tmp_path / "tr"
    tr.mkdir()
    write_small(tr)
    outs = []
    for name in ("a", "b"):
        # Outside the trace: a file written into a trace directory is refused (the output guard).
        out = tmp_path / f"{name}.npy"
        r = run(arcsim_bin, "trace", "synth", tr, "--out", out, "--workers", 3, "--step", 2)
        assert r.returncode == 0, r.stderr
        outs.append(np.load(out))
    assert outs[0].shape == (3, 24) and np.array_equal(outs[0], outs[1]) and np.isfinite(outs[0]).all()


# The shipped layout-only traces (traces/layouts/generate.py): valid, no data, and the parameter
# and tensor counts of the reference (arctopk.md sections 5.2 and 10).
LAYOUTS = {"llama-60m": (58.07, 75), "llama-130m": (134.11, 111), "llama-350m": (367.97, 219),
           "llama-1b": (1339.08, 219), "llama-60m-b1": (58.07, 75), "llama-1b-b1": (1339.08, 219),
           "resnet18-cifar": (11.17, None), "resnet50-cifar": (23.52, None), "roberta-base": (124.65, None)}


@pytest.mark.parametrize("model", sorted(LAYOUTS))
def test_shipped_layouts(arcsim_bin, model):
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2] / "traces" / "layouts" / model
    r = run(arcsim_bin, "trace", "validate", root)
    assert r.returncode == 0, r.stderr
    doc = json.loads((root / "trace.json").read_text())
    params = doc["layout"]["parameters"]
    millions, tensors = LAYOUTS[model]
    assert round(sum(math.prod(p["shape"]) for p in params) / 1e6, 2) == millions
    assert tensors is None or len(params) == tensors
    assert doc["samples"] == [] and doc["convergence"] == [] and doc["compute"]["layers"]
