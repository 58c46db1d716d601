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
