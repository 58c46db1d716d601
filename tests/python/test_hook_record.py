"""arcsim record --hook: any PyTorch DDP comm hook run under op interception and a recording process
group; the plan it writes (ops per tensor, collectives with their bytes and blocking), the shipped
reference hooks and PyTorch's own, bad hooks named in one line; and a sweep costing
`implementation: "hook"`."""
import csv
import json
import pathlib
import subprocess

# Two buckets (first cap 100 bytes): [b (10), w2 (8 x 16)] and [w1 (16 x 32)] in DDP's reverse order.
LAYOUT = {"layout": {"parameters": [{"name": "w1", "shape": [16, 32], "dtype": "float32"},
                                    {"name": "w2", "shape": [8, 16], "dtype": "float32"},
                                    {"name": "b", "shape": [10], "dtype": "float32"}]}}


def record(arcsim_bin, tmp_path, hook, *extra, world=4):
    (tmp_path / "t").mkdir(exist_ok=True)
    (tmp_path / "t" / "trace.json").write_text(json.dumps(LAYOUT))
    out = tmp_path / "plan.json"
    r = subprocess.run([arcsim_bin, "record", "--hook", hook, "--trace", str(tmp_path / "t"), "--world", str(world),
                        "--first-bucket-cap", "100", "--bucket-cap", "4096", "--out", str(out), *extra],
                       capture_output=True, text=True, timeout=300)
    return r, (json.loads(out.read_text()) if out.exists() else None)


def collectives(plan):
    return [[(o["op"], o["bytes_per_rank"], o["blocking"]) for o in b["ops"] if o["kind"] == "collective"]
            for b in plan["buckets"]]


def kernels(plan, name):
    return sum(1 for b in plan["buckets"] for o in b["ops"] if o["kind"] == "kernel" and o["name"] == name)


def test_topk_hook_gathers_values_and_indices_per_bucket_blocking(arcsim_bin, tmp_path):
    r, plan = record(arcsim_bin, tmp_path, "arcsim.reference_hooks:topk_hook", "--config", '{"ratio": 0.25}',
                     "--steps", "2")
    assert r.returncode == 0, r.stderr
    assert plan["format"] == "arcsim-plan/1" and plan["world_size"] == 4
    assert [b["tensors"] for b in plan["buckets"]] == [["b", "w2"], ["w1"]]
    k = [[2, 32], [128]]  # max(1, floor(numel x 0.25)) per tensor
    assert collectives(plan) == [[("allgather", 4 * sum(ks), True)] * 2 for ks in k]
    assert kernels(plan, "torch.topk") == 3  # one per tensor
    assert kernels(plan, "torch.add_") >= 2  # step 2: error feedback added per bucket
    ops = [o for b in plan["buckets"] for o in b["ops"] if o["kind"] == "kernel"]
    assert all(o["duration_source"] == "measured-cpu" and o["duration_s"] >= 0 for o in ops)


def test_randk_and_arctopk_hooks_send_what_their_papers_say(arcsim_bin, tmp_path):
    r, plan = record(arcsim_bin, tmp_path, "arcsim.reference_hooks:randk_hook", "--config", '{"ratio": 0.25}')
    assert r.returncode == 0, r.stderr
    assert collectives(plan) == [[("allreduce", 4 * (2 + 32), True)], [("allreduce", 4 * 128, True)]]
    assert kernels(plan, "torch.randperm") == 3  # a full permutation per tensor
    r, plan = record(arcsim_bin, tmp_path, "arcsim.reference_hooks:arctopk_hook", "--config",
                     '{"ratio": 0.25, "rank": 2}')
    assert r.returncode == 0, r.stderr
    # One blocking sketch all-reduce per tensor (1-D: itself; [n, m]: n x r), then the selected rows.
    assert collectives(plan) == [[("allreduce", 4 * 10, True), ("allreduce", 4 * 8 * 2, True),
                                  ("allreduce", 4 * (2 * 1 + 2 * 16), True)],
                                 [("allreduce", 4 * 16 * 2, True), ("allreduce", 4 * 4 * 32, True)]]


def test_pytorch_builtin_hooks_record_their_asynchronous_collectives(arcsim_bin, tmp_path):
    r, plan = record(arcsim_bin, tmp_path, "torch:fp16_compress_hook")
    assert r.returncode == 0, r.stderr
    assert collectives(plan) == [[("allreduce", 2 * (10 + 128), False)], [("allreduce", 2 * 512, False)]]
    r, plan = record(arcsim_bin, tmp_path, "torch:powerSGD_hook", "--steps", "3")
    assert r.returncode == 0, r.stderr
    assert all(ops for ops in collectives(plan))


def test_bad_hooks_are_one_line_naming_the_hook(arcsim_bin, tmp_path):
    (tmp_path / "h.py").write_text("def none_hook(state, bucket):\n    return None\n"
                                   "def boom(state, bucket):\n    raise RuntimeError('kaboom')\n")
    for hook, words in [(f"{tmp_path}/h.py:none_hook", ["none_hook", "Future"]),
                        (f"{tmp_path}/h.py:boom", ["boom", "bucket 0", "kaboom"]),
                        (f"{tmp_path}/h.py:missing", ["h.py", "missing"]),
                        (f"{tmp_path}/nope.py:f", ["nope.py", "no such file"]),
                        ("torch:nonsense_hook", ["torch:nonsense_hook"])]:
        r, plan = record(arcsim_bin, tmp_path, hook)
        assert r.returncode == 2 and plan is None, (hook, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("arcsim record --hook: error:"), r.stderr
        for word in words:
            assert word in lines[0], (word, lines[0])


def test_a_sweep_costs_the_hook_implementation_and_says_so(arcsim_bin, tmp_path):
    spec = {"name": "hook", "trace": str(pathlib.Path(__file__).resolve().parents[2] / "traces" / "default"),
            "compressors": [{"name": "dense", "convergence": "none"},
                            {"name": "topk", "ratio": 0.1, "ef": "ef14", "ramp": False, "convergence": "none"},
                            {"name": "topk", "ratio": 0.1, "ef": "ef14", "ramp": False, "label": "topk-hook",
                             "convergence": "none", "implementation": "hook"}],
            "nodes": [4], "bandwidths": ["10Gbps"], "topologies": ["star"], "profiles": ["nccl"],
            "kernel_timing": "model:H100-SXM", "replay": {"workers": 4, "samples": 1}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = subprocess.run([arcsim_bin, "sweep", str(tmp_path / "s.json"), "--out", str(tmp_path / "o"), "-q"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    rows = {x["label"]: x for x in csv.DictReader((tmp_path / "o" / "results.csv").open())}
    assert rows["topk-0.1"]["implementation"] == "fused" and rows["topk-hook"]["implementation"] == "hook"
    # The same compressor: the same quality and convergence, a different cost (a Python loop per tensor).
    assert rows["topk-hook"]["relative_error"] == rows["topk-0.1"]["relative_error"]
    assert float(rows["topk-hook"]["compression_s"]) > float(rows["topk-0.1"]["compression_s"])
    assert list((tmp_path / "o" / "plans").glob("hook-*.json"))
