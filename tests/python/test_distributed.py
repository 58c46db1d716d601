"""arcsim.distributed: the compressors in real multi-process training over gloo (issue: compressors
in real distributed training). Each test spawns P processes on localhost."""
import json
import multiprocessing as mp
import os
import queue
import socket
import time

import numpy as np
import pytest
import torch

import distributed_ranks as ranks
from traces.recorder import kernels
from traces.recorder.distributed import plan_bytes

pytestmark = pytest.mark.skipif(kernels.import_binding() is None, reason="arcsim_kernels is not built")


def launch(target, world, *args, timeout=240):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=target, args=(r, world, port, q) + args) for r in range(world)]
    for p in procs:
        p.start()
    deadline, out = time.time() + timeout, {}
    # Read while the ranks run: a result larger than the pipe's buffer blocks its sender until read.
    while len(out) < world and (any(p.is_alive() for p in procs) or not q.empty()):
        assert time.time() < deadline, "a rank did not finish in time"
        try:
            r, v = q.get(timeout=0.5)
            out[r] = v
        except queue.Empty:
            pass
    for p in procs:
        p.join(max(1, deadline - time.time()))
        assert not p.is_alive(), "a rank did not finish in time"
    return out, [p.exitcode for p in procs]


@pytest.mark.parametrize("world", [2, 3, 4])
def test_every_compressor_and_ef_matches_the_emulated_run_bit_for_bit(world):
    got, codes = launch(ranks.equivalence, world)
    for r in range(world):
        assert isinstance(got.get(r), dict), got.get(r)
    ak = kernels.import_binding()
    for text, ef in ranks.configurations():
        spec = ranks.spec_of(text, ef)
        emulated = kernels.make_compressor(spec, world)
        for s in range(ranks.STEPS):
            agg, rep = emulated.step(bucket=0, shapes=ranks.SHAPES, grads=ranks.gradients(world, s))
            plan = [op for op in rep["plan_bucket"]["ops"] if op.get("kind", "collective") == "collective"
                    and "op" in op]
            for r in range(world):
                mine, calls = got[r][(text, ef)][s]
                assert mine.tobytes() == agg.tobytes(), f"{text} {ef} step {s} rank {r}: aggregate differs"
                assert [c[0] for c in calls] == [op["op"] for op in plan], f"{text} {ef}"
                assert [c[1] for c in calls] == [plan_bytes(op, r) for op in plan], f"{text} {ef} rank {r}: bytes"
    assert ak is not None


@pytest.mark.parametrize("compressor", ["topk:0.2", "arctopk:0.2"])
def test_ddp_training_with_the_hook_is_the_emulated_training(compressor):
    """3 ranks, 20 steps: every hook call's aggregate is the emulated compressor's on the three
    ranks' gradients, and the loss curve is that of one model trained on those aggregates."""
    world = 3
    got, _ = launch(ranks.train, world, compressor, "ef14")
    for r in range(world):
        assert "losses" in got[r], got[r]
    spec = kernels.parse_compressor(compressor, "ef14")
    emulated = kernels.make_compressor(spec, world)
    first = {}  # a bucket's tensors -> (id, the order first seen): the hook keeps that order
    rebuilt_in_another_order = False
    for call in zip(*(got[r]["calls"] for r in range(world))):
        step, names, shapes, _, agg0 = call[0]
        cid, order = first.setdefault(frozenset(names), (len(first), list(zip(names, shapes))))
        rebuilt_in_another_order |= [n for n, _ in order] != names
        G = np.stack([permute(c[3], names, shapes, order) for c in call])
        agg, _ = emulated.step(bucket=cid, shapes=[s for _, s in order], grads=G, names=[n for n, _ in order])
        agg = permute(agg, [n for n, _ in order], [s for _, s in order], list(zip(names, shapes)))
        for c in call:
            assert c[4].tobytes() == agg.tobytes(), f"step {step}: aggregate differs from the emulated one"
    assert len(first) == 1  # DDP's one bucket keeps one compressor bucket (and its EF) across its rebuild
    # One model trained on the emulated aggregates gives rank 0's loss curve.
    model = ranks.tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    params = dict(model.named_parameters())
    emulated = kernels.make_compressor(spec, world)
    losses = []
    for step in range(20):
        grads, loss0 = [], None
        for r in range(world):
            x, y = ranks.batch(r, step)
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss0 = float(loss) if r == 0 else loss0
            grads.append(dict(zip(params, torch.autograd.grad(loss, list(params.values())))))
        losses.append(loss0)
        for _, names, _, _, _ in [c for c in got[0]["calls"] if c[0] == step]:
            cid, order = first[frozenset(names)]
            names = [n for n, _ in order]
            G = np.stack([np.concatenate([grads[r][n].reshape(-1).numpy() for n in names]) for r in range(world)])
            agg, _ = emulated.step(bucket=cid, shapes=[s for _, s in order], grads=G, names=names)
            at = 0
            for n in names:
                k = params[n].numel()
                params[n].grad = torch.from_numpy(agg[at:at + k].copy()).reshape(params[n].shape)
                at += k
        opt.step()
    assert losses == got[0]["losses"]


def permute(flat, names, shapes, order):
    """A flat bucket in tensor order `names` rearranged into `order` [(name, shape)]."""
    at, spans = 0, {}
    for n, s in zip(names, shapes):
        k = int(np.prod(s)) if s else 1
        spans[n] = flat[at:at + k]
        at += k
    return np.concatenate([spans[n] for n, _ in order])


def test_bytes_and_timings_of_a_run():
    got, _ = launch(ranks.train, 2, "topk:0.2", "ef14", 4)
    for r in range(2):
        res = got[r]
        rows = res["timings"]
        coll = [t for t in rows if t["phase"] == "collective"]
        assert res["bytes_sent"] == sum(t["bytes"] for t in coll) > 0
        assert {t["phase"] for t in rows} >= {"compute", "hook", "compress", "decompress", "collective", "optimizer"}
        assert all(t["end_s"] >= t["start_s"] for t in rows)
        assert {t["op"] for t in coll} == {"allgather"}  # Top-K: values and indices all-gathered
        assert all(set(t) >= {"step", "bucket", "phase", "start_s", "end_s"} for t in rows)


def test_a_nan_on_one_rank_stops_every_rank_with_one_line_naming_it():
    got, _ = launch(ranks.train, 3, "topk:0.2", "ef14", 6, ("nan", 1, 3), 30)
    assert got[1]["type"] == "DistributedError"
    assert got[1]["error"].startswith("rank 1, step 3, bucket ")
    assert "finite" in got[1]["error"] and "\n" not in got[1]["error"]
    for r in (0, 2):
        e = got[r]["error"]
        assert got[r]["type"] == "DistributedError" and "\n" not in e, e
        assert e.startswith(f"rank {r}, step 3, bucket ") and "stopped because rank 1, step 3" in e, e
        assert got[r]["elapsed"] < 30


def test_a_rank_that_dies_mid_step_is_named_as_a_lost_peer_within_the_timeout():
    got, codes = launch(ranks.train, 3, "arctopk:0.2", "ef14", 6, ("exit", 2, 2), 20)
    assert codes[2] == 3 and 2 not in got
    for r in (0, 1):
        e = got[r]["error"]
        assert e.startswith(f"rank {r}, step 2, bucket ") and "a peer left or the collective timed out" in e, e
        assert got[r]["elapsed"] < 20


def test_ranks_with_different_configurations_are_refused():
    got, _ = launch(ranks.train, 2, "topk:0.2", "ef14", 3, None, 30, True)
    for r in (0, 1):
        assert "has another compressor configuration" in got[r]["error"], got[r]


def test_a_float16_model_is_refused_naming_the_dtype():
    got, _ = launch(ranks.train, 2, "topk:0.2", "ef14", 2, None, 30, False, torch.float16)
    for r in (0, 1):
        assert got[r]["error"].startswith(f"rank {r}, step 0, bucket 0: gradient dtype float16"), got[r]


@pytest.mark.parametrize("compressor", ["topk:0.2", "arctopk:0.2"])
def test_the_ddp_example_trains_three_ranks_with_real_compressed_traffic(compressor, tmp_path):
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=f"{root}:{root / 'build' / 'python'}")
    r = subprocess.run([sys.executable, str(root / "examples" / "ddp_mlp.py"), "--out", str(tmp_path), "--procs", "3",
                        "--compressor", compressor, "--steps", "20"], env=env, capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    sent = [line for line in r.stdout.splitlines() if "bytes sent through gloo" in line]
    assert len(sent) == 3
    sys.path.insert(0, str(root / "examples"))
    import mlp_mse
    dense_bytes = 20 * 4 * sum(p.numel() for p in mlp_mse.model().parameters())
    for line in sent:  # compressed: well below a dense all-reduce of every step
        assert 0 < int(line.split(", ")[-1].split()[0]) < dense_bytes
    cid = kernels.config_id(kernels.parse_compressor(compressor, "ef14"))
    for rank in range(3):
        rows = (tmp_path / "timings" / f"{cid}-rank{rank}.csv").read_text().splitlines()
        assert rows[0].split(",")[:4] == ["rank", "step", "bucket", "phase"] and len(rows) > 20
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert [c["world"] for c in trace["convergence"]] == [3]
