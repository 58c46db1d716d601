"""arcsim simulate / arcsim topology: the interface outside checks use, and bad input."""
import json
import subprocess

import pytest


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def simulate(arcsim_bin, *args):
    # The closed-form checks below are about the ideal profile; the default profile is nccl.
    if "--profile" not in args:
        args = ("--profile", "ideal") + args
    r = run(arcsim_bin, "simulate", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def one_error_line(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert r.stderr.startswith("arcsim "), r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_help(arcsim_bin):
    r = run(arcsim_bin, "simulate", "--help")
    assert r.returncode == 0
    for opt in ["--collective", "--algorithm", "--bytes", "--nodes", "--bandwidth", "--latency",
                "--topology", "--profile", "--plan", "--compute", "--json"]:
        assert opt in r.stdout


@pytest.mark.parametrize("alg,closed", [("ring", 2 * 63 * (5e-6 + 1e8 / 64 / 12.5e9)),
                                        ("rabenseifner", 2 * 6 * 5e-6 + 2 * 63 / 64 * 1e8 / 12.5e9)])
def test_allreduce_matches_closed_form(arcsim_bin, alg, closed):
    d = simulate(arcsim_bin, "--collective", "allreduce", "--algorithm", alg, "--bytes", "1e8",
                 "--nodes", "64", "--bandwidth", "100Gbps", "--latency", "5us", "--json")
    assert d["closed_form_s"] == pytest.approx(closed, rel=1e-9)
    assert d["simulated_s"] == pytest.approx(closed, rel=1e-9)
    assert d["profile"] == "ideal"


def test_allgather_bytes_is_total_gathered(arcsim_bin):
    d = simulate(arcsim_bin, "--collective", "allgather", "--algorithm", "ring", "--bytes", "64MiB",
                 "--nodes", "16", "--bandwidth", "100Gbps", "--latency", "5us", "--json")
    assert d["simulated_s"] == pytest.approx(15 * (5e-6 + 64 * 2**20 / 16 / 12.5e9), rel=1e-9)
    d = simulate(arcsim_bin, "--collective", "allgather", "--algorithm", "bruck", "--bytes", "64MiB",
                 "--nodes", "16", "--bandwidth", "100Gbps", "--latency", "5us", "--json")
    assert d["simulated_s"] == pytest.approx(4 * 5e-6 + 15 / 16 * 64 * 2**20 / 12.5e9, rel=1e-9)


def test_tree_has_no_closed_form_and_profiles_are_named(arcsim_bin):
    for profile in ["ideal", "nccl", "tcp"]:
        d = simulate(arcsim_bin, "--collective", "allreduce", "--algorithm", "tree", "--bytes", "1MiB",
                     "--nodes", "8", "--bandwidth", "10Gbps", "--latency", "10us", "--profile", profile, "--json")
        assert d["closed_form_s"] is None
        assert d["profile"] == profile
        assert d["simulated_s"] > 0


def test_gloo_profile_runs_gloo_algorithms_and_names_them(arcsim_bin):
    d = simulate(arcsim_bin, "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "4", "--bandwidth", "1Gbps",
                 "--latency", "30us", "--profile", "gloo", "--json")
    assert (d["profile"], d["algorithm"], d["protocol"]) == ("gloo", "ordered", "tcp")
    assert d["simulated_s"] == pytest.approx(d["closed_form_s"], rel=1e-6)
    r = subprocess.run([arcsim_bin, "simulate", "--collective", "allreduce", "--algorithm", "tree", "--bytes", "1MiB",
                        "--nodes", "4", "--profile", "gloo"], capture_output=True, text=True)
    assert r.returncode != 0 and "expected auto|ordered|ring" in r.stderr


def test_topologies_and_determinism(arcsim_bin):
    args = ["--collective", "allreduce", "--algorithm", "auto", "--bytes", "32MiB", "--nodes", "16",
            "--bandwidth", "100Gbps", "--latency", "5us", "--json"]
    for topo in ["star", "fattree", "torus", "ib-fattree", "dgx-8gpu", "ethernet-star"]:
        a = run(arcsim_bin, "simulate", *args, "--topology", topo)
        b = run(arcsim_bin, "simulate", *args, "--topology", topo)
        assert a.returncode == 0, a.stderr
        assert a.stdout == b.stdout
        assert json.loads(a.stdout)["topology"] == topo


def write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(json.dumps(obj))
    return p


def plan_and_compute(tmp_path, tensors=None, bucket_id=0):
    compute = {"format": "arcsim-compute/1", "device": "test", "forward_s": 0.01, "optimizer_s": 0.001,
               "layers": [{"name": f"l{i}", "params": [f"l{i}.w"], "forward_s": 0.001, "backward_s": 0.002}
                          for i in range(4)]}
    plan = {"format": "arcsim-plan/1", "compressor": {"name": "dense"}, "world_size": 4,
            "buckets": [{"bucket": bucket_id, "elements": 1000, "tensors": tensors or ["l3.w", "l2.w"],
                         "ops": [{"kind": "collective", "op": "allreduce", "bytes_per_rank": 4000000,
                                  "dtype": "float32", "blocking": False}]}]}
    return write(tmp_path, "plan.json", plan), write(tmp_path, "compute.json", compute)


def test_iteration_point(arcsim_bin, tmp_path):
    plan, compute = plan_and_compute(tmp_path)
    d = simulate(arcsim_bin, "--plan", plan, "--compute", compute, "--nodes", "8", "--bandwidth", "10Gbps",
                 "--latency", "5us", "--profile", "nccl")
    for k in ["total_s", "compute_s", "compression_s", "exposed_comm_s", "comm_s", "bytes_per_node"]:
        assert k in d
    assert d["profile"] == "nccl"
    assert d["total_s"] >= d["compute_s"] == pytest.approx(0.019)
    assert d["bytes_per_node"] == pytest.approx(2 * 7 / 8 * 4000000)


BAD = [
    (["--topology", "hypercube"], ["topology", "hypercube"]),
    (["--topology", "ib-fattree", "--nodes", "12"], ["multiple of 8"]),
    (["--topology", "dragonfly-72", "--nodes", "64"], ["only with 72 nodes"]),
    (["--bandwidth", "-5Gbps"], ["--bandwidth", "positive"]),
    (["--bandwidth", "100"], ["--bandwidth", "unit"]),
    (["--latency", "5"], ["--latency"]),
    (["--profile", "fast"], ["--profile", "ideal|nccl|tcp"]),
    (["--algorithm", "magic"], ["algorithm"]),
    (["--nodes", "0"], ["--nodes"]),
]


@pytest.mark.parametrize("extra,needles", BAD)
def test_bad_collective_input_is_one_line(arcsim_bin, extra, needles):
    base = {"--collective": "allreduce", "--bytes": "1MiB", "--nodes": "8", "--bandwidth": "10Gbps",
            "--latency": "5us", "--topology": "star"}
    for i in range(0, len(extra), 2):
        base[extra[i]] = extra[i + 1]
    args = [x for kv in base.items() for x in kv]
    one_error_line(run(arcsim_bin, "simulate", *args), *needles)


def test_torus_node_mismatch_message(arcsim_bin, tmp_path):
    topo = write(tmp_path, "t.json", {"format": "arcsim-topology/1", "type": "torus", "bandwidth": "10Gbps", "latency": "1us",
                                      "torus": {"dims": [4, 4]}})
    r = run(arcsim_bin, "simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "8",
            "--topology", topo)
    one_error_line(r, "torus 4x4 has 16 nodes, got --nodes 8")


def test_dragonfly_crash_case_refused(arcsim_bin, tmp_path):
    topo = write(tmp_path, "df.json", {"format": "arcsim-topology/1", "type": "dragonfly", "bandwidth": "10Gbps",
                                       "latency": "1us",
                                       "dragonfly": {"groups": [4, 1], "chassis": [2, 1], "routers": [2, 1],
                                                     "nodes_per_router": 4}})
    r = run(arcsim_bin, "simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "64",
            "--topology", topo)
    one_error_line(r, "routers per chassis (2) >= groups (4)")


def test_plan_with_unknown_tensor_bucket_or_op(arcsim_bin, tmp_path):
    plan, compute = plan_and_compute(tmp_path, tensors=["ghost.w"])
    one_error_line(run(arcsim_bin, "simulate", "--plan", plan, "--compute", compute, "--nodes", "8"),
                   "ghost.w")
    plan, compute = plan_and_compute(tmp_path, bucket_id=5)
    one_error_line(run(arcsim_bin, "simulate", "--plan", plan, "--compute", compute, "--nodes", "8"),
                   "plan.json", "buckets[0].bucket")
    p = json.loads(plan.read_text())
    p["buckets"][0]["bucket"] = 0
    p["buckets"][0]["ops"][0]["op"] = "alltoall"
    plan.write_text(json.dumps(p))
    one_error_line(run(arcsim_bin, "simulate", "--plan", plan, "--compute", compute, "--nodes", "8"),
                   "buckets[0].ops[0].op")


def test_topology_show(arcsim_bin):
    r = run(arcsim_bin, "topology", "show", "ib-fattree", "--nodes", "64", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["ranks"] == 64 and d["routes"]["min_links"] == 2 and d["routes"]["max_links"] == 4
    r = run(arcsim_bin, "topology", "show", "torus", "--nodes", "64")
    assert r.returncode == 0 and "ring neighbours: up to 3 links" in r.stdout
    one_error_line(run(arcsim_bin, "topology", "show", "nope", "--nodes", "4"), "nope")
    r = run(arcsim_bin, "topology", "list")
    assert "dgx-8gpu" in r.stdout
