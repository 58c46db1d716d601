"""The comm hook for real DistributedDataParallel: 2 processes, gloo on localhost, same format."""
import numpy as np

from test_recorder import record
from test_trace_io import run
from traces.recorder import trace_io


def test_ddp_two_processes_records_a_valid_trace(arcsim_bin, tmp_path):
    t = record(arcsim_bin, tmp_path / "d", "--ddp", 2, "--compressors", "dense", "arctopk:0.2", "--max-steps", 3,
               "--eval-every", 3, "--sample-steps", "0,2", "--sample-workers", "0,1", "--sample-aggregate",
               "--model", "tiny-mlp", timeout=240)
    assert run(arcsim_bin, "trace", "validate", tmp_path / "d").returncode == 0
    assert [(c["config"], c["world"]) for c in t["convergence"]] == [("dense", 2), ("arctopk-0.2-ef14", 2)]
    dense = [s for s in t["samples"] if s["config"] == "dense"]
    assert {s["step"] for s in dense} == {0, 2}
    for s in dense:  # DDP's aggregate is the mean of the two ranks' local gradients
        g = trace_io.load_file(t, s["data"])
        np.testing.assert_allclose(trace_io.load_file(t, s["aggregate"]), g.mean(0), rtol=1e-5, atol=1e-7)
        assert not np.allclose(g[0], g[1])  # each rank its own micro-batch
    # Every rank's timings next to the trace, with the compressor's own collectives.
    for cid, ops in (("dense", {"allreduce"}), ("arctopk-0.2-ef14", {"allreduce"})):
        for rank in (0, 1):
            rows = (tmp_path / "d" / "timings" / f"{cid}-n2-seed1" / f"rank{rank}.csv").read_text().splitlines()
            coll = [r.split(",") for r in rows[1:] if r.split(",")[3] == "collective"]
            assert coll and {c[5] for c in coll} == ops


NAN_ON_RANK_1 = '''
import torch
import torch.distributed as dist
calls = [0]
def model():
    return torch.nn.Linear(4, 1)
def train_data():
    g = torch.Generator().manual_seed(0)
    return torch.utils.data.TensorDataset(torch.randn(256, 4, generator=g), torch.randn(256, 1, generator=g))
def eval_data():
    return train_data()
def loss(output, target):
    calls[0] += 1
    value = torch.mean((output - target) ** 2)
    return value * float("nan") if dist.get_rank() == 1 and calls[0] == 3 else value
'''


def test_ddp_a_rank_that_fails_is_named_in_one_line_and_the_others_stop(arcsim_bin, tmp_path):
    import subprocess
    script = tmp_path / "nan_rank1.py"
    script.write_text(NAN_ON_RANK_1)
    r = subprocess.run([arcsim_bin, "record", "--out", str(tmp_path / "d"), "--ddp", "3", "--script", str(script),
                        "--compressors", "topk:0.2", "--max-steps", "6", "--eval-every", "3", "--target", "loss:0.01",
                        "--timeout", "30"], capture_output=True, text=True, timeout=240)
    assert r.returncode != 0
    line = r.stderr.strip().splitlines()[-1]
    assert "--ddp: " in line and "expected a finite value, got nan at step" in line and ", rank 1;" in line, line
    assert line.endswith("2 other rank(s) stopped with it"), line
    assert not (tmp_path / "d" / "trace.json").exists() or "convergence" in (tmp_path / "d" / "trace.json").read_text()
