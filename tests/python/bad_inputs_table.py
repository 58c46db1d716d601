"""The bad-input table: one row per bad input, run by test_bad_inputs.py.

Each row is a dict:
  id        unique name of the case
  argv      the arcsim command line; "{d}" is the row's own scratch directory, "{trace}" the shipped
            default trace (read only), "{src}" the source tree
  files     files to create in {d} first: name -> str | bytes | dict/list (written as JSON) | FIFO | DIR
            | ("symlink", target); "tr" = TRACE(mutation) makes a small copy of the default trace
  rc        expected exit status (2: bad input)
  err       substrings the single stderr line must contain
  unchanged files in {d} that must be byte-identical (or still absent) after the run
The runner also checks: stderr is one line, no Python traceback, no temporary file left in {d}.
"""
import copy
import json
import struct
import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[2] / "bench"))
from gen_nccl_log import header as nccl_log_header  # noqa: E402

FIFO = "@fifo"
DIR = "@dir"


class TRACE:
    """A small copy of the default trace (one sample), with `mutate(doc)` applied to trace.json."""

    def __init__(self, mutate=None, npy=None):
        self.mutate = mutate
        self.npy = npy  # replacement bytes for the sample's .npy file


def npy(shape, dtype="<f4", payload=None, header=None, version=1):
    """A .npy file; `header` replaces the dict text, `payload` the data bytes."""
    if header is None:
        dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
        header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (dtype, dims)
    h = header.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h += b" " * pad + b"\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h))
    else:
        head = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h))
    if payload is None:
        n = 1
        for s in shape:
            n *= s
        size = {"<f4": 4, "<f2": 2, "<f8": 8, "<i4": 4, "<i8": 8}.get(dtype, 4)
        payload = b"\x00" * (n * size if n * size < (1 << 20) else 64)  # a lying header: little data
    return head + h + payload


TOPO = {"format": "arcsim-topology/1", "name": "t", "type": "star", "bandwidth": "10Gbps", "latency": "5us"}
PLAN = {"format": "arcsim-plan/1", "compressor": {"name": "dense"}, "world_size": 4,
        "buckets": [{"bucket": 0, "elements": 1000, "tensors": ["l0.w"],
                     "ops": [{"kind": "collective", "op": "allreduce", "bytes_per_rank": 4000,
                              "dtype": "float32", "blocking": False}]}]}
COMPUTE = {"format": "arcsim-compute/1", "device": "test", "forward_s": 0.01, "optimizer_s": 0.001,
           "layers": [{"name": "l0", "params": ["l0.w"], "forward_s": 0.001, "backward_s": 0.002}]}
SPEC = {"name": "bad", "trace": "{trace}", "compressors": [{"name": "dense"}, {"name": "topk", "ratio": 0.1}],
        "nodes": [4], "bandwidths": ["10Gbps"], "latencies": ["5us"], "topologies": ["star"],
        "profiles": ["ideal"], "kernel_timing": "model:H100-SXM"}
CAL = {"format": "arcsim-calibration/1", "measured": True, "device": "d", "driver": "1", "cuda_runtime": "1",
       "kernels": {"topk_select": [{"elements": 1024, "bytes_moved": 4096, "median_s": 1e-5, "runs": 20}]}}
GOOD_NPY = npy([4, 64])


def w(base, **changes):
    """A copy of `base` with keys changed (value None removes the key)."""
    out = copy.deepcopy(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def raw(text):
    return text  # a JSON file written exactly as given (duplicate keys, 1e999, truncation)


ROWS = []


def row(id, argv, rc=2, err=(), files=None, unchanged=()):
    ROWS.append({"id": id, "argv": argv, "rc": rc, "err": [err] if isinstance(err, str) else list(err),
                 "files": files or {}, "unchanged": list(unchanged)})


# ---------------------------------------------------------------------------------------------
# arcsim itself
row("no-command", [], err="expected a command")
row("unknown-command", ["frobnicate"], err="unknown command 'frobnicate'")

# ---------------------------------------------------------------------------------------------
# simulate: limits, units, checked sizes, mode-specific options
SIM = ["simulate", "--collective", "allreduce", "--nodes", "8", "--bandwidth", "10Gbps", "--latency", "5us"]
row("sim-bytes-1e30", SIM + ["--bytes", "1e30"], err=["--bytes", "at most 2^53"])
row("sim-bytes-over-1TiB", SIM + ["--bytes", "2e12"], err=["--bytes", "1 TiB"])
row("sim-bytes-negative", SIM + ["--bytes", "-5"], err=["--bytes", "non-negative"])
row("sim-bytes-nan", SIM + ["--bytes", "nan"], err="--bytes")
row("sim-bytes-inf", SIM + ["--bytes", "inf"], err="--bytes")
row("sim-bytes-unit", SIM + ["--bytes", "5 parsecs"], err="--bytes")
row("sim-bytes-missing", SIM, err=["--bytes", "required"])
row("sim-nodes-zero", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "0"], err="--nodes")
row("sim-nodes-negative", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "-3"], err="--nodes")
row("sim-nodes-16384", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "16384",
                        "--algorithm", "ring"], err=["at most 1024 simulated ranks", "16384"])
row("sim-nodes-4096-ring", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "4096",
                            "--algorithm", "ring"], err="at most 1024")
row("sim-nodes-2048", ["simulate", "--collective", "allgather", "--bytes", "1MiB", "--nodes", "2048"], err="1024")
row("sim-nodes-not-int", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "eight"],
    err="--nodes")
row("sim-nodes-huge-int", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "99999999999"],
    err="--nodes")
row("sim-nodes-missing", ["simulate", "--collective", "allreduce", "--bytes", "1MiB"], err="--nodes")
row("sim-dgx-ranks", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "256",
                      "--topology", "dgx-8gpu"], err=["1024 simulated ranks", "8 GPUs per node"])
row("sim-bandwidth-unitless", SIM[:6] + ["100", "--bytes", "1MiB"], err=["--bandwidth", "unit"])
row("sim-bandwidth-zero", SIM[:6] + ["0Gbps", "--bytes", "1MiB"], err=["--bandwidth", "positive"])
row("sim-bandwidth-overflow", SIM[:6] + ["1e308Tbps", "--bytes", "1MiB"], err=["--bandwidth", "finite"])
row("sim-latency-unitless", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "8",
                             "--latency", "5"], err=["--latency", "unit"])
row("sim-latency-negative", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "8",
                             "--latency", "-5us"], err=["--latency", "non-negative"])
row("sim-latency-overflow", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "8",
                             "--latency", "1e308h"], err=["--latency", "finite"])
row("sim-algorithm-unknown", SIM + ["--bytes", "1MiB", "--algorithm", "magic"], err="algorithm")
row("sim-bruck-allreduce", SIM + ["--bytes", "1MiB", "--algorithm", "bruck"], err=["bruck", "allreduce"])
row("sim-rabenseifner-allgather", ["simulate", "--collective", "allgather", "--bytes", "1MiB", "--nodes", "8",
                                   "--algorithm", "rabenseifner"], err=["rabenseifner", "allgather"])
row("sim-collective-unknown", ["simulate", "--collective", "alltoall", "--bytes", "1MiB", "--nodes", "8"],
    err="alltoall")
row("sim-allgatherv", ["simulate", "--collective", "allgatherv", "--bytes", "1MiB", "--nodes", "8"],
    err="allgatherv")
row("sim-profile-unknown", SIM + ["--bytes", "1MiB", "--profile", "fast"], err="ideal|nccl|tcp")
row("sim-both-modes", SIM + ["--bytes", "1MiB", "--plan", "{d}/plan.json"], err="exactly one of",
    files={"plan.json": PLAN})
row("sim-no-mode", ["simulate", "--nodes", "8"], err="exactly one of")
row("sim-blocking-with-collective", SIM + ["--bytes", "1MiB", "--blocking"], err=["--blocking", "--plan only"])
row("sim-compute-with-collective", SIM + ["--bytes", "1MiB", "--compute", "x.json"], err="--compute")
row("sim-bytes-with-plan", ["simulate", "--plan", "{d}/plan.json", "--compute", "{d}/c.json", "--nodes", "4",
                            "--bytes", "1MiB"], err=["--bytes", "--collective only"],
    files={"plan.json": PLAN, "c.json": COMPUTE})
row("sim-blocking-and-async", ["simulate", "--plan", "{d}/plan.json", "--compute", "{d}/c.json", "--nodes", "4",
                               "--blocking", "--async"], err="exclude each other",
    files={"plan.json": PLAN, "c.json": COMPUTE})
row("sim-unknown-option", SIM + ["--bytes", "1MiB", "--colour", "red"], err="colour")
row("sim-topology-unknown", SIM + ["--bytes", "1MiB", "--topology", "hypercube"], err="hypercube")

# simulate --plan / --compute: the plan and compute-profile readers
PS = ["simulate", "--plan", "{d}/plan.json", "--compute", "{d}/c.json", "--nodes", "4"]
def plan_row(id, plan, err, compute=COMPUTE):
    row(id, PS, err=err, files={"plan.json": plan, "c.json": compute})
plan_row("plan-missing-format", w(PLAN, format=None), ["plan.json", "format"])
plan_row("plan-wrong-format", w(PLAN, format="arcsim-plan/9"), ["plan.json", "format"])
plan_row("plan-world-wraps", w(PLAN, world_size=4294967297), ["world_size", "1..1024"])
plan_row("plan-world-zero", w(PLAN, world_size=0), "world_size")
plan_row("plan-duplicate-key", raw('{"format": "arcsim-plan/1", "world_size": 4, "world_size": 8, "buckets": []}'),
         ["plan.json", "world_size", "duplicate key"])
plan_row("plan-number-overflow", raw('{"format": "arcsim-plan/1", "world_size": 1e999, "buckets": []}'),
         ["plan.json", "world_size", "1e999"])
plan_row("plan-truncated", raw('{"format": "arcsim-plan/1", "world_si'), ["plan.json", "malformed JSON"])
plan_row("plan-empty-file", raw(""), ["plan.json", "malformed JSON"])
plan_row("plan-bytes-1e30", w(PLAN, buckets=[{"bucket": 0, "ops": [{"kind": "collective", "op": "allreduce",
                                                                   "bytes_per_rank": 1e30}]}]),
         ["buckets[0].ops[0].bytes_per_rank", "2^40"])
plan_row("plan-bytes-negative", w(PLAN, buckets=[{"bucket": 0, "ops": [{"kind": "collective", "op": "allreduce",
                                                                       "bytes_per_rank": -1}]}]), "bytes_per_rank")
plan_row("plan-bucket-id", w(PLAN, buckets=[{"bucket": 4294967296, "ops": []}]), ["buckets[0].bucket", "bucket id 0"])
plan_row("plan-unknown-key", w(PLAN, colour="red"), ["colour", "unknown key"])
plan_row("plan-unknown-op", w(PLAN, buckets=[{"bucket": 0, "ops": [{"kind": "collective", "op": "alltoall",
                                                                   "bytes_per_rank": 1}]}]), "buckets[0].ops[0].op")
plan_row("plan-not-object", [1, 2, 3], ["plan.json", "expected a JSON object"])
plan_row("plan-deep-nesting", raw("[" * 100000 + "]" * 100000), ["plan.json", "nested at most"])
plan_row("plan-kernel-elements-huge", w(PLAN, buckets=[{"bucket": 0, "ops": [{"kind": "kernel", "name": "k",
                                                                             "elements": 1e300, "duration_s": 0}]}]),
         "elements")
plan_row("compute-duplicate-key", PLAN, ["c.json", "duplicate key"],
         compute=raw('{"format": "arcsim-compute/1", "device": "a", "device": "b"}'))
plan_row("compute-overflow", PLAN, ["c.json", "forward_s"],
         compute=raw('{"format": "arcsim-compute/1", "device": "a", "forward_s": -1e999}'))
row("plan-is-directory", PS, err=["plan.json", "directory"], files={"plan.json": DIR, "c.json": COMPUTE})
row("plan-is-fifo", PS, err=["plan.json", "FIFO"], files={"plan.json": FIFO, "c.json": COMPUTE})
row("plan-is-dev-zero", ["simulate", "--plan", "/dev/zero", "--compute", "{d}/c.json", "--nodes", "4"],
    err=["/dev/zero", "character device"], files={"c.json": COMPUTE})
row("plan-missing-file", ["simulate", "--plan", "{d}/nope.json", "--compute", "{d}/c.json", "--nodes", "4"],
    err=["nope.json", "no such file"], files={"c.json": COMPUTE})

# ---------------------------------------------------------------------------------------------
# topology show: the topology reader and its limits
TS = ["topology", "show", "{d}/t.json", "--nodes", "8"]
def topo_row(id, topo, err, nodes="8"):
    row(id, TS[:4] + [nodes], err=err, files={"t.json": topo})
topo_row("topo-no-format", w(TOPO, format=None), ["t.json", "format", "required"])
topo_row("topo-wrong-format", w(TOPO, format="arcsim-topology/2"), ["t.json", "format"])
topo_row("topo-duplicate-key", raw('{"format": "arcsim-topology/1", "type": "star", "bandwidth": "1Gbps", '
                                   '"latency": "1us", "latency": "9us"}'), ["t.json", "latency", "duplicate key"])
topo_row("topo-duplicate-nested", raw('{"format": "arcsim-topology/1", "type": "star", "bandwidth": "1Gbps", '
                                      '"latency": "1us", "node": {"gpus": 2, "gpus": 4}}'),
         ["t.json", "node.gpus", "duplicate key"])
topo_row("topo-gpus-100000", w(TOPO, node={"gpus": 100000}), ["node.gpus", "1..72"])
topo_row("topo-gpus-zero", w(TOPO, node={"gpus": 0}), "node.gpus")
topo_row("topo-gpus-float", w(TOPO, node={"gpus": 2.5}), ["node.gpus", "integer"])
topo_row("topo-gpus-1e999", raw('{"format": "arcsim-topology/1", "type": "star", "bandwidth": "1Gbps", '
                                '"latency": "1us", "node": {"gpus": 1e999}}'), ["t.json", "node.gpus", "1e999"])
topo_row("topo-gpus-uint64", raw('{"format": "arcsim-topology/1", "type": "star", "bandwidth": "1Gbps", '
                                 '"latency": "1us", "node": {"gpus": 18446744073709551615}}'), "node.gpus")
topo_row("topo-nics-over-gpus", w(TOPO, node={"gpus": 2, "nics": 4}), "node.nics")
topo_row("topo-ranks-limit", w(TOPO, node={"gpus": 64}), ["1024 simulated ranks", "64 GPUs per node"], nodes="32")
topo_row("topo-hosts-per-leaf-over-n", w(TOPO, type="fattree", fattree={"hosts_per_leaf": 16}),
         ["hosts_per_leaf 16", "8 nodes"])
topo_row("topo-hosts-per-leaf-huge", w(TOPO, type="fattree", fattree={"hosts_per_leaf": 10**12}),
         "fattree.hosts_per_leaf")
topo_row("topo-fattree-section-on-star", w(TOPO, fattree={"hosts_per_leaf": 2}), "fattree")
topo_row("topo-torus-dims-wrap", w(TOPO, type="torus", torus={"dims": [4294967296, 2]}), "torus.dims")
topo_row("topo-torus-dims-float", w(TOPO, type="torus", torus={"dims": [1e30]}), "torus.dims")
topo_row("topo-torus-mismatch", w(TOPO, type="torus", torus={"dims": [4, 4]}), "torus 4x4 has 16 nodes")
topo_row("topo-dragonfly-overflow", w(TOPO, type="dragonfly",
                                      dragonfly={"groups": [1000000, 1], "routers": [1000000, 1],
                                                 "chassis": [1000000, 1], "nodes_per_router": 1000000}),
         "dragonfly.groups")
topo_row("topo-dragonfly-crash-case", w(TOPO, type="dragonfly", dragonfly={"groups": [4, 1], "chassis": [2, 1],
                                                                        "routers": [2, 1], "nodes_per_router": 1}),
         "routers per chassis", nodes="16")
topo_row("topo-unknown-key", w(TOPO, colour="red"), ["colour", "unknown key"])
topo_row("topo-unknown-type", w(TOPO, type="hypercube"), ["type", "star|fattree"])
topo_row("topo-bandwidth-unitless", w(TOPO, bandwidth="100"), ["bandwidth", "unit"])
topo_row("topo-bandwidth-number", w(TOPO, bandwidth=100), "bandwidth")
topo_row("topo-latency-negative", w(TOPO, latency="-1us"), "latency")
topo_row("topo-fixed-nodes-huge", w(TOPO, nodes=10**9), ["nodes", "1..1024"])
topo_row("topo-truncated", raw('{"format": "arcsim-topology/1", "type": "st'), ["t.json", "malformed JSON", "line 1"])
topo_row("topo-not-utf8", b'{"format": "arcsim-topology/1", "name": "\xff\xfe", "type": "star"}',
         ["t.json", "malformed JSON"])
topo_row("topo-array-root", [TOPO], ["t.json", "expected a JSON object"])
row("topo-is-directory", ["topology", "show", "{d}/t.json", "--nodes", "8"], err=["t.json", "directory"],
    files={"t.json": DIR})
row("topo-is-fifo", ["topology", "show", "{d}/t.json", "--nodes", "8"], err=["t.json", "FIFO"],
    files={"t.json": FIFO})
row("topo-nodes-limit", ["topology", "show", "star", "--nodes", "5000"], err="at most 1024")
row("topo-nodes-missing", ["topology", "show", "star"], err="--nodes")
row("topo-bad-action", ["topology", "draw", "star", "--nodes", "4"], err="show|list")
row("topo-unknown-preset", ["topology", "show", "nosuch", "--nodes", "4"], err="nosuch")
row("topo-bandwidth-flag", ["topology", "show", "star", "--nodes", "4", "--bandwidth", "fast"], err="--bandwidth")

# ---------------------------------------------------------------------------------------------
# trace validate | info | buckets | synth | copy: the trace reader on mutated copies
def first_sample(doc):
    return doc["samples"][0]


def set_shape(doc, shape, i=0):
    doc["layout"]["parameters"][i]["shape"] = shape
    return doc


row("trace-missing-dir", ["trace", "validate", "{d}/nothere"], err="nothere")
row("trace-is-file", ["trace", "validate", "{d}/f"], err="f", files={"f": "x"})
row("trace-json-dir", ["trace", "validate", "{d}/tr"], err=["trace.json", "directory"],
    files={"tr/trace.json": DIR})
row("trace-json-fifo", ["trace", "validate", "{d}/tr"], err=["trace.json", "FIFO"], files={"tr/trace.json": FIFO})
TRACE_ROWS = [
    ("trace-shape-wraps", lambda d: set_shape(d, [4294967296, 4294967296, 4294967296]), ["shape", "2^40"]),
    ("trace-shape-product-2^64", lambda d: set_shape(d, [65536, 65536, 65536, 65536]), ["shape", "2^40"]),
    ("trace-shape-uint64", lambda d: set_shape(d, [18446744073709551615]), "shape"),
    ("trace-shape-zero", lambda d: set_shape(d, [0, 4]), "shape"),
    ("trace-shape-negative", lambda d: set_shape(d, [-8, 1, 5, 5]), "shape"),
    ("trace-shape-float", lambda d: set_shape(d, [8.5, 1, 5, 5]), "shape"),
    ("trace-shape-mismatch", lambda d: set_shape(d, [9, 1, 5, 5]), "shape"),
    ("trace-format-unknown", lambda d: d.update(format="arcsim-trace/9") or d, "format"),
    ("trace-format-missing", lambda d: d.pop("format") and d, "format"),
    ("trace-unknown-key", lambda d: d.update(colour="red") or d, ["colour", "unknown key"]),
    ("trace-sample-path-traversal",
     lambda d: first_sample(d)["data"].update(file="../../etc/passwd") or d, "samples[0].data.file"),
    ("trace-sample-absolute", lambda d: first_sample(d)["data"].update(file="/etc/passwd") or d, "samples[0].data.file"),
    ("trace-sample-sha", lambda d: first_sample(d)["data"].update(sha256="0" * 64) or d, "samples[0]"),
    ("trace-sample-sha-format", lambda d: first_sample(d)["data"].update(sha256="XYZ") or d, "sha256"),
    ("trace-sample-workers-absent", lambda d: first_sample(d).update(workers=[0, 99]) or d, "workers"),
    ("trace-sample-workers-dup", lambda d: first_sample(d).update(workers=[1, 1]) or d, "workers"),
    ("trace-sample-tensor-unknown", lambda d: first_sample(d).update(tensors=["nope"]) or d, "tensors"),
    ("trace-duplicate-sample", lambda d: d["samples"].append(copy.deepcopy(d["samples"][0])) or d, "samples[1]"),
    ("trace-param-duplicate-name",
     lambda d: d["layout"]["parameters"].append(copy.deepcopy(d["layout"]["parameters"][0])) or d, "name"),
    ("trace-compute-negative",
     lambda d: d["compute"].update(forward_s=-1.0) or d, "compute.forward_s"),
    # 64-bit values that would wrap to small valid ones if narrowed before the range check
    ("trace-world-wraps", lambda d: d["convergence"][0].update(world=2**32 + 8) or d, "convergence[0].world"),
    ("trace-sample-world-wraps", lambda d: d["samples"][0].update(world=2**32 + 8) or d, "samples[0].world"),
    ("trace-sample-bucket-wraps", lambda d: d["samples"][0].update(bucket=2**32) or d, "samples[0].bucket"),
    ("trace-sample-worker-wraps", lambda d: d["samples"][0].update(workers=[2**32, 1]) or d, "samples[0].workers"),
]
for id, mut, err in TRACE_ROWS:
    row(id, ["trace", "validate", "{d}/tr"], err=err, files={"tr": TRACE(mut)}, unchanged=["tr/trace.json"])
row("trace-duplicate-key-raw", ["trace", "validate", "{d}/tr"], err=["trace.json", "duplicate key"],
    files={"tr": TRACE(lambda d: "DUPKEY")})
row("trace-overflow-raw", ["trace", "validate", "{d}/tr"], err=["trace.json", "1e999"],
    files={"tr": TRACE(lambda d: "OVERFLOW")})
row("trace-npy-truncated", ["trace", "validate", "{d}/tr"], err=["npy", "truncated"],
    files={"tr": TRACE(npy=lambda b: b[:-10])})
row("trace-npy-trailing", ["trace", "validate", "{d}/tr"], err=["npy", "trailing"],
    files={"tr": TRACE(npy=lambda b: b + b"\0\0")})
row("trace-npy-bad-magic", ["trace", "validate", "{d}/tr"], err=["npy", "magic"],
    files={"tr": TRACE(npy=lambda b: b"XXXXXX" + b[6:])})
row("trace-npy-fifo", ["trace", "validate", "{d}/tr"], err=["npy", "FIFO"], files={"tr": TRACE(npy=FIFO)})
row("trace-npy-dev-zero", ["trace", "validate", "{d}/tr"], err=["npy", "character device"],
    files={"tr": TRACE(npy=("symlink", "/dev/zero"))})
row("trace-synth-out-dir", ["trace", "synth", "{trace}", "--out", "{d}/o/"], err=["o/", "directory"])
row("trace-synth-out-chardev", ["trace", "synth", "{trace}", "--out", "/dev/null"],
    err=["/dev/null", "character device"])
row("trace-synth-out-missing-dir", ["trace", "synth", "{trace}", "--out", "{d}/no/such/x.npy"],
    err="does not exist")
row("trace-synth-workers-neg", ["trace", "synth", "{trace}", "--out", "{d}/x.npy", "--workers", "-2"],
    err="--workers", unchanged=["x.npy"])
row("trace-synth-bucket-range", ["trace", "synth", "{trace}", "--out", "{d}/x.npy", "--bucket", "999"],
    err="--bucket", unchanged=["x.npy"])
row("trace-synth-no-out", ["trace", "synth", "{trace}"], err="--out")
row("trace-buckets-cap-bad", ["trace", "buckets", "{trace}", "--cap", "lots"], err="--cap")
row("trace-buckets-rule-bad", ["trace", "buckets", "{trace}", "--rule", "nonsense"], err="rule")
row("trace-unknown-sub", ["trace", "explode", "{trace}"], err="explode")
row("trace-unknown-option", ["trace", "info", "{trace}", "--colour"], err="--colour")
row("trace-copy-dtype", ["trace", "copy", "{trace}", "--out", "{d}/c", "--dtype", "int8"], err="--dtype")
row("trace-copy-invalid-src", ["trace", "copy", "{d}/tr", "--out", "{d}/c"], err="sha256",
    files={"tr": TRACE(lambda d: first_sample(d)["data"].update(sha256="0" * 64) or d)},
    unchanged=["c/trace.json"])

# ---------------------------------------------------------------------------------------------
# compress: the .npy reader, checked sizes, options per compressor, outputs
CP = ["compress", "--input", "{d}/g.npy", "--output", "{d}/agg.npy"]
def npy_row(id, data, err):
    row(id, CP + ["--compressor", "topk", "--ratio", "0.1"], err=err, files={"g.npy": data},
        unchanged=["agg.npy"])
npy_row("npy-shape-wraps", npy([4294967296, 4294967296, 2]), ["g.npy", "shape", "64 bits"])
npy_row("npy-shape-2^63", npy([2**62, 4]), ["g.npy", "shape"])
npy_row("npy-shape-over-int64", npy([2**64, 1]), ["g.npy", "shape"])
npy_row("npy-shape-negative", npy([], header="{'descr': '<f4', 'fortran_order': False, 'shape': (-4, 2), }"), "shape")
npy_row("npy-shape-text", npy([], header="{'descr': '<f4', 'fortran_order': False, 'shape': (a, b), }"), "shape")
npy_row("npy-shape-unclosed", npy([], header="{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2"), "shape")
npy_row("npy-too-many-dims", npy([1] * 40), ["g.npy", "32 dimensions"])
npy_row("npy-big-endian", npy([4, 64], dtype=">f4"), ["g.npy", "little-endian"])
npy_row("npy-fortran", npy([], header="{'descr': '<f4', 'fortran_order': True, 'shape': (4, 64), }",
                           payload=b"\0" * 1024), "fortran_order")
npy_row("npy-object", npy([4, 64], dtype="|O"), ["g.npy", "descr"])
npy_row("npy-truncated", GOOD_NPY[:-7], ["g.npy", "truncated"])
npy_row("npy-trailing", GOOD_NPY + b"\0" * 4, ["g.npy", "trailing"])
npy_row("npy-empty", b"", ["g.npy", "magic"])
npy_row("npy-header-len-lies", b"\x93NUMPY\x01\x00\xff\xff{'descr'", ["g.npy", "truncated"])
npy_row("npy-version-9", b"\x93NUMPY\x09\x00" + GOOD_NPY[8:], ["g.npy", "version"])
npy_row("npy-v2-header-huge", b"\x93NUMPY\x02\x00\xff\xff\xff\xff" + b" " * 16, ["g.npy", "truncated"])
npy_row("npy-int-dtype", npy([4, 64], dtype="<i4"), ["g.npy", "dtype"])
row("npy-fifo", CP + ["--compressor", "dense"], err=["g.npy", "FIFO"], files={"g.npy": FIFO},
    unchanged=["agg.npy"])
row("npy-dev-zero", ["compress", "--input", "/dev/zero", "--output", "{d}/agg.npy", "--compressor", "dense"],
    err=["/dev/zero", "character device"], unchanged=["agg.npy"])
row("npy-directory", CP + ["--compressor", "dense"], err=["g.npy", "directory"], files={"g.npy": DIR},
    unchanged=["agg.npy"])
row("compress-report-is-dir", CP + ["--compressor", "dense", "--report", "{d}/rep"], err=["rep", "directory"],
    files={"g.npy": GOOD_NPY, "rep": DIR, "agg.npy": "previous"}, unchanged=["agg.npy"])
row("compress-report-chardev", CP + ["--compressor", "dense", "--report", "/dev/null"],
    err=["/dev/null", "character device"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-output-chardev", ["compress", "--input", "{d}/g.npy", "--output", "/dev/null", "--compressor", "dense"],
    err=["/dev/null", "character device"], files={"g.npy": GOOD_NPY})
row("compress-output-fifo", CP + ["--compressor", "dense"], err=["agg.npy", "FIFO"],
    files={"g.npy": GOOD_NPY, "agg.npy": FIFO})
row("compress-report-missing-dir", CP + ["--compressor", "dense", "--report", "{d}/no/r.json"],
    err="does not exist", files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-rank-on-topk", CP + ["--compressor", "topk", "--ratio", "0.1", "--rank", "8"],
    err=["--rank", "does not apply to topk"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-ratio-on-dense", CP + ["--compressor", "dense", "--ratio", "0.5"], err=["--ratio", "dense"],
    files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-ef-on-dense", CP + ["--compressor", "dense", "--ef", "ef14"], err=["--ef", "dense"],
    files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-unbiased-on-topk", CP + ["--compressor", "topk", "--ratio", "0.1", "--unbiased"],
    err=["--unbiased", "topk"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-ramp-on-arctopk", CP + ["--compressor", "arctopk", "--ratio", "0.1", "--ramp"],
    err=["--ramp", "arctopk"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-eta-without-ef21m", CP + ["--compressor", "topk", "--ratio", "0.1", "--eta", "0.5"],
    err=["--eta", "ef21m"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-seed-negative", CP + ["--compressor", "randk", "--ratio", "0.1", "--seed", "-1"],
    err=["--seed", "-1"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-seed-text", CP + ["--compressor", "randk", "--ratio", "0.1", "--seed", "x"], err="--seed",
    files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-k-and-ratio", CP + ["--compressor", "topk", "--ratio", "0.1", "--k", "5"],
    err=["--k", "both"], files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-ratio-zero", CP + ["--compressor", "topk", "--ratio", "0"], err="--ratio",
    files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-ratio-nan", CP + ["--compressor", "topk", "--ratio", "nan"], err="--ratio",
    files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-unknown", CP + ["--compressor", "zip", "--ratio", "0.1"], err="zip", files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-steps-zero", CP + ["--compressor", "dense", "--steps", "0"], err="--steps",
    files={"g.npy": GOOD_NPY}, unchanged=["agg.npy"])
row("compress-nan-gradient", CP + ["--compressor", "dense"], err="g.npy",
    files={"g.npy": npy([2, 4], payload=struct.pack("<8f", 1, 2, float("nan"), 4, 5, 6, 7, 8))},
    unchanged=["agg.npy"])

# ---------------------------------------------------------------------------------------------
# replay
RP = ["replay", "{trace}", "--compressor"]
row("replay-workers-above-recorded", RP + ["topk", "--workers", "64"], err=["--workers", "at most"])
row("replay-workers-one", RP + ["topk", "--workers", "1"], err="--workers")
row("replay-seed-negative", RP + ["randk", "--seed", "-1"], err=["--seed", "-1"])
row("replay-ratio-bad", RP + ["topk", "--ratio", "2"], err="ratio")
row("replay-unknown-compressor", RP + ["gzip"], err="gzip")
row("replay-no-compressor", ["replay", "{trace}"], err="--compressor")
row("replay-timing-unknown-gpu", RP + ["topk", "--kernel-timing", "model:Z80"], err=["--kernel-timing", "Z80"])
row("replay-timing-bad", RP + ["topk", "--kernel-timing", "fast"], err="--kernel-timing")
row("replay-calibration-missing", RP + ["topk", "--kernel-timing", "calibration:{d}/none.json"],
    err=["none.json", "no such file"])
row("replay-calibration-dir", RP + ["topk", "--kernel-timing", "calibration:{d}/c"], err=["c", "directory"],
    files={"c": DIR})
row("replay-bucket-cap-huge", RP + ["topk", "--bucket-cap", "1e30"], err="--bucket-cap")
row("replay-plan-out-chardev", RP + ["dense", "--plan-out", "/dev/null"], err=["/dev/null", "character device"])
row("replay-missing-trace", ["replay", "{d}/none", "--compressor", "dense"], err="none")

# calibration files (read through replay --kernel-timing calibration:FILE)
def cal_row(id, cal, err):
    row(id, RP + ["topk", "--kernel-timing", "calibration:{d}/cal.json"], err=err, files={"cal.json": cal})
cal_row("cal-format", w(CAL, format="x"), ["cal.json", "format"])
cal_row("cal-duplicate-key", raw('{"format": "arcsim-calibration/1", "measured": true, "measured": false}'),
        ["cal.json", "measured", "duplicate key"])
cal_row("cal-overflow", raw('{"format": "arcsim-calibration/1", "measured": true, "device": "d", "driver": "1", '
                            '"cuda_runtime": "1", "kernels": {"topk_select": [{"elements": 1, "bytes_moved": 1e999, '
                            '"median_s": 1}]}}'), ["cal.json", "kernels.topk_select[0].bytes_moved", "1e999"])
cal_row("cal-runs-zero-measured", w(CAL, kernels={"topk_select": [{"elements": 1, "bytes_moved": 4, "median_s": 1e-5,
                                                                   "runs": 0}]}), ["runs", "positive"])
cal_row("cal-elements-float", w(CAL, kernels={"topk_select": [{"elements": 1.5, "bytes_moved": 4, "median_s": 1e-5}]}),
        ["elements", "integer"])
cal_row("cal-unknown-key", w(CAL, colour="red"), ["colour", "unknown key"])
cal_row("cal-point-unknown-key", w(CAL, kernels={"topk_select": [{"elements": 1, "bytes_moved": 4, "median_s": 1e-5,
                                                                  "p50_s": 1}]}), ["p50_s", "unknown key"])
cal_row("cal-not-increasing", w(CAL, kernels={"topk_select": [{"elements": 1, "bytes_moved": 8, "median_s": 1e-5},
                                                              {"elements": 2, "bytes_moved": 8, "median_s": 2e-5}]}),
        ["topk_select[1].bytes_moved", "strictly increasing"])
cal_row("cal-truncated", raw('{"format": "arcsim-calibration/1", "meas'), ["cal.json", "malformed JSON"])
cal_row("cal-empty-kernels", w(CAL, kernels={}), "kernels")

# ---------------------------------------------------------------------------------------------
# calibrate
row("calibrate-unknown-gpu", ["calibrate", "--model", "Z80", "--output", "{d}/cal.json"], err="Z80",
    unchanged=["cal.json"])
row("calibrate-output-chardev", ["calibrate", "--model", "A100", "--output", "/dev/null"],
    err=["/dev/null", "character device"])
row("calibrate-output-dir", ["calibrate", "--model", "A100", "--output", "{d}/o"], err=["o", "directory"],
    files={"o": DIR})
row("calibrate-runs-low", ["calibrate", "--model", "A100", "--runs", "3", "--output", "{d}/cal.json"],
    err="--runs", unchanged=["cal.json"])
row("calibrate-log2-range", ["calibrate", "--model", "A100", "--min-log2", "2", "--output", "{d}/cal.json"],
    err="--min-log2", unchanged=["cal.json"])
row("calibrate-ratio", ["calibrate", "--model", "A100", "--ratio", "1.5", "--output", "{d}/cal.json"],
    err="--ratio", unchanged=["cal.json"])

# ---------------------------------------------------------------------------------------------
# sweep: the spec reader, limits, results directories
SW = ["sweep", "{d}/s.json", "--out", "{d}/out", "-q"]
def spec_row(id, spec, err, files=None, unchanged=("out/results.json",)):
    f = {"s.json": spec}
    f.update(files or {})
    row(id, SW, err=err, files=f, unchanged=list(unchanged))
spec_row("spec-duplicate-key", raw('{"name": "a", "name": "b"}'), ["s.json", "name", "duplicate key"])
spec_row("spec-duplicate-nested", raw('{"name": "a", "compressors": [{"name": "topk", "ratio": 0.1, "ratio": 0.2}]}'),
         ["s.json", "compressors[0].ratio", "duplicate key"])
spec_row("spec-overflow", raw('{"name": "a", "point_timeout": 1e999}'), ["s.json", "point_timeout", "1e999"])
spec_row("spec-overflow-in-list", raw('{"name": "a", "nodes": [4, 8, -1e400]}'), ["s.json", "nodes[2]"])
spec_row("spec-truncated", raw('{"name": "a", "nodes": [4, 8'), ["s.json", "malformed JSON"])
spec_row("spec-latency-dup-units", w(SPEC, latencies=["5us", "5000ns"]), ["latencies[1]", "repeated"])
spec_row("spec-latency-dup-units-ms", w(SPEC, latencies=["0.001ms", "1us"]), ["latencies[1]", "repeated"])
spec_row("spec-bandwidth-dup-units", w(SPEC, bandwidths=["8Gbps", "1GBps"]), ["bandwidths[1]", "repeated"])
spec_row("spec-nodes-dup", w(SPEC, nodes=[4, 4]), ["nodes[1]", "repeated"])
spec_row("spec-seed-negative", w(SPEC, seed=-1), "seed")
spec_row("spec-seed-uint64", w(SPEC, seed=18446744073709551615), "seed")
spec_row("spec-rank-on-topk", w(SPEC, compressors=[{"name": "topk", "ratio": 0.1, "rank": 4}]), ["rank", "topk"])
spec_row("spec-label-too-long-for-a-file-name", w(SPEC, compressors=[{"name": "topk", "label": "x" * 300}]),
         ["compressors[0].label", "at most 200 bytes as a file name", "got 300"])
spec_row("spec-label-collision", w(SPEC, compressors=[{"name": "topk", "label": "a"}, {"name": "randk", "label": "a"}]),
         ["label", "unique"])
spec_row("spec-unknown-key", w(SPEC, colour="red"), ["colour", "unknown key"])
spec_row("spec-trace-missing", w(SPEC, trace="{d}/none"), "trace")
spec_row("spec-bucket-cap-huge", w(SPEC, bucket_cap=1e30), ["bucket_cap", "2^53"])
spec_row("spec-is-directory", DIR, ["s.json", "directory"])
spec_row("spec-replay-workers-wraps", w(SPEC, replay={"workers": 2**32 + 4}), ["replay.workers", "[2, 256]"])
spec_row("spec-rank-wraps", w(SPEC, compressors=[{"name": "arctopk", "rank": 2**32 + 4}]), ["compressors[0].rank", "1024"])
spec_row("spec-nodes-too-many", w(SPEC, nodes=[4, 2048]), ["1024"])
spec_row("spec-points-limit", w(SPEC, nodes=list(range(2, 12)), bandwidths=[f"{g}Gbps" for g in range(1, 601)]),
         ["12000 points", "10000", "--force"])
spec_row("spec-other-experiment", SPEC, ["holds the results of experiment \"other\"", "--replace"],
         files={"out/results.json": {"experiment": {"name": "other"}, "points": []}})
spec_row("spec-results-not-sweep", SPEC, ["results.json", "--replace"], files={"out/results.json": [1, 2]})
spec_row("spec-results-truncated", SPEC, ["results.json", "malformed JSON"], files={"out/results.json": raw('{"conf')})
spec_row("spec-algorithm-unknown", w(SPEC, algorithm="magic"), "algorithm")
spec_row("spec-topology-gpus", w(SPEC, topologies=[w(TOPO, node={"gpus": 100000})]), "gpus")
row("sweep-no-out", ["sweep", "{d}/s.json"], err="--out", files={"s.json": SPEC})
row("sweep-jobs-negative", SW + ["--jobs", "-1"], err="--jobs", files={"s.json": SPEC})
row("sweep-missing-spec", ["sweep", "{d}/none.json", "--out", "{d}/out"], err=["none.json", "no such file"])

# ---------------------------------------------------------------------------------------------
# plot
PL = ["plot", "{d}/r"]
CSV = "point,compressor\n"
row("plot-missing-dir", ["plot", "{d}/none"], err="none")
row("plot-no-csv", PL, err=["results.csv", "no such file"], files={"r": DIR})
row("plot-empty-csv", PL, err=["results.csv", "header"], files={"r/results.csv": ""})
row("plot-csv-garbage", PL, err=["results.csv", "header"], files={"r/results.csv": "\x00\x01garbage"})
row("plot-csv-fifo", PL, err=["results.csv", "FIFO"], files={"r/results.csv": FIFO})
row("plot-json-truncated", PL, err=["results.json", "malformed JSON"],
    files={"r/results.csv": CSV, "r/results.json": raw('{"config": {')})
row("plot-json-duplicate", PL, err=["results.json", "duplicate key"],
    files={"r/results.csv": CSV, "r/results.json": raw('{"a": 1, "a": 2}')})
row("plot-json-array", PL, err=["results.json", "object"], files={"r/results.csv": CSV, "r/results.json": [1]})
row("plot-python-false", PL + ["--python", "/bin/false"], err=["/bin/false", "exited with status 1"],
    files={"r/results.csv": CSV})
row("plot-python-missing", PL + ["--python", "{d}/nopython"], err="--python", files={"r/results.csv": CSV})
row("plot-python-dir", PL + ["--python", "{d}"], err="--python", files={"r/results.csv": CSV})
row("plot-out-is-file", PL + ["--out", "{d}/f"], err=["--out", "expected a directory"],
    files={"r/results.csv": CSV, "f": "keep"}, unchanged=["f"])
row("plot-out-under-file", PL + ["--out", "{d}/f/sub"], err="--out", files={"r/results.csv": CSV, "f": "keep"},
    unchanged=["f"])
row("plot-no-dir-arg", ["plot"], err="RESULTS_DIR")
spec_row("spec-own-bandwidths-differ", w(SPEC, bandwidths=None, topologies=["star", "ib-fattree"]),
         ["bandwidths: expected a list", "ib-fattree 200Gbps"])
spec_row("spec-own-latencies-differ", w(SPEC, latencies=None, topologies=["ethernet-star", "ib-fattree"]),
         ["latencies: expected a list"])
row("replay-rank-on-topk", RP + ["topk", "--rank", "8"], err=["--rank", "does not apply to topk"])
row("replay-rescale-on-topk", RP + ["topk", "--rescale"], err=["--rescale", "topk"])
row("replay-ratio-on-dense", RP + ["dense", "--ratio", "0.5"], err=["--ratio", "dense"])
row("replay-ef-on-dense", RP + ["dense", "--ef", "ef14"], err=["--ef", "dense"])
topo_row("topo-name-with-newline", w(TOPO, name="evil\nname", type="torus", torus={"dims": [4, 4]}), "evil\\x0aname")
npy_row("npy-binary-descr", npy([4], header="{'descr': '<f2\n\x01\x02', 'fortran_order': False, 'shape': (4,), }"),
        ["g.npy", "descr", "\\x0a"])
topo_row("topo-key-with-newline", raw('{"format": "arcsim-topology/1", "type": "star", "bandwidth": "1Gbps", '
                                      '"latency": "1us", "a\\nb": 1}'), ["a\\x0ab", "unknown key"])

# record (what the recorder refuses before any training starts)
for flag, value, needle in [("--workers", "0", "--workers"), ("--lr", "nan", "--lr"),
                            ("--data", "/nonexistent", "--data"), ("--micro-batch", "0", "--micro-batch"),
                            ("--max-steps", "0", "--max-steps")]:
    row(f"record{flag}-{value.strip('/')}", ["record", "--out", "{d}/tr", flag, value], err=needle,
        unchanged=["tr/trace.json"])

# ---------------------------------------------------------------------------------------------
# The output guard (common/output_guard.hpp): an output that is an input (by name, symlink or
# hard link), a file inside an input trace or any other trace, or another output of the same
# command is refused before any work, and the input is left as it was.
_SAMPLE = json.loads((__import__("pathlib").Path(__file__).resolve().parents[2] / "traces" / "default" /
                      "trace.json").read_text())["samples"][0]["data"]["file"]  # the small trace's one sample
TR = {"tr": TRACE()}
TR_KEEP = ["tr/trace.json", "tr/" + _SAMPLE]
G = {"g.npy": GOOD_NPY}
CMP = ["compress", "--compressor", "topk", "--ratio", "0.1", "--input", "{d}/g.npy"]
row("guard-init-out-trace-json", ["init", "{d}/tr", "--out", "{d}/tr/trace.json"], files=TR, unchanged=TR_KEEP,
    err=["arcsim init:", "--out {d}/tr/trace.json: refused", "inside the input trace {d}/tr (TRACE)"])
row("guard-init-out-in-trace", ["init", "{d}/tr", "--out", "{d}/tr/spec.json"], files=TR,
    unchanged=TR_KEEP + ["tr/spec.json"], err=["--out", "inside the input trace", "(TRACE)"])
row("guard-init-out-is-trace-dir", ["init", "{d}/tr", "--out", "{d}/tr"], files=TR, unchanged=TR_KEEP,
    err=["--out", "it is the input trace", "(TRACE)"])
row("guard-init-out-symlink-trace-json", ["init", "{d}/tr", "--out", "{d}/s.json"], unchanged=TR_KEEP,
    files={**TR, "s.json": ("symlink", "tr/trace.json")}, err=["--out {d}/s.json: refused", "input trace"])
row("guard-init-out-dotdot", ["init", "{d}/tr", "--out", "{d}/x/../tr/trace.json"], unchanged=TR_KEEP,
    files={**TR, "x": DIR}, err=["--out", "inside the input trace"])
row("guard-compress-output-is-input", CMP + ["--output", "{d}/g.npy"], files=G, unchanged=["g.npy"],
    err=["arcsim compress:", "--output {d}/g.npy: refused: it is the input {d}/g.npy (--input)"])
row("guard-compress-output-dotdot-input", CMP + ["--output", "{d}/x/../g.npy"], files={**G, "x": DIR},
    unchanged=["g.npy"], err=["--output", "it is the input", "(--input)"])
row("guard-compress-output-symlink-input", CMP + ["--output", "{d}/o.npy"], files={**G, "o.npy": ("symlink", "g.npy")},
    unchanged=["g.npy"], err=["--output {d}/o.npy: refused", "(--input)", "symlink"])
row("guard-compress-report-is-input", CMP + ["--output", "{d}/o.npy", "--report", "{d}/g.npy"], files=G,
    unchanged=["g.npy", "o.npy"], err=["--report {d}/g.npy: refused", "(--input)"])
row("guard-compress-report-is-output", CMP + ["--output", "{d}/o.npy", "--report", "{d}/o.npy"], files=G,
    unchanged=["g.npy", "o.npy"], err=["--report {d}/o.npy: refused", "same file as --output {d}/o.npy"])
row("guard-compress-report-is-output-existing", CMP + ["--output", "{d}/o.npy", "--report", "{d}/./o.npy"],
    files={**G, "o.npy": GOOD_NPY}, unchanged=["g.npy", "o.npy"], err=["--report", "same file as --output"])
row("guard-compress-output-in-trace", CMP + ["--output", "{d}/tr/" + _SAMPLE], files={**G, **TR}, unchanged=TR_KEEP,
    err=["--output", "inside the trace"])
row("guard-replay-plan-out-trace-json", ["replay", "{d}/tr", "--compressor", "dense", "--plan-out", "{d}/tr/trace.json"],
    files=TR, unchanged=TR_KEEP, err=["arcsim replay:", "--plan-out {d}/tr/trace.json: refused", "(TRACE_DIR)"])
row("guard-replay-plan-out-sample", ["replay", "{d}/tr", "--compressor", "dense", "--plan-out", "{d}/tr/" + _SAMPLE],
    files=TR, unchanged=TR_KEEP, err=["--plan-out", "inside the input trace"])
row("guard-replay-plan-out-calibration", RP + ["dense", "--kernel-timing", "calibration:{d}/cal.json",
                                               "--plan-out", "{d}/cal.json"],
    files={"cal.json": CAL}, unchanged=["cal.json"], err=["--plan-out {d}/cal.json: refused", "(--kernel-timing)"])
row("guard-calibrate-nccl-output-is-log", ["calibrate", "--nccl-tests", "{d}/a.log", "--output", "{d}/a.log"],
    files={"a.log": "# nccl-tests\n"}, unchanged=["a.log"],
    err=["arcsim calibrate:", "--output {d}/a.log: refused: it is the input {d}/a.log (--nccl-tests)"])
row("guard-calibrate-nccl-output-is-second-log",
    ["calibrate", "--nccl-tests", "{d}/a.log", "{d}/b.log", "--output", "{d}/b.log"],
    files={"a.log": "# a\n", "b.log": "# b\n"}, unchanged=["a.log", "b.log"], err=["--output", "(--nccl-tests)"])
row("guard-calibrate-nccl-output-is-topology",
    ["calibrate", "--nccl-tests", "{d}/a.log", "--topology", "{d}/t.json", "--output", "{d}/t.json"],
    files={"a.log": "# a\n", "t.json": TOPO}, unchanged=["t.json"], err=["--output {d}/t.json: refused", "(--topology)"])
GB_HEAD = "op,bytes,repeat,seconds\n"
GB_OK = GB_HEAD + "".join(f"{op},{b},1,{0.001 + b / 1e8:.6f}\n" for op in ("allreduce", "allgather", "alltoall")
                          for b in (64, 4096, 262144))
GB = ["calibrate", "--gloo-bench", "{d}", "--output", "{d}/t.json"]
row("calibrate-gloo-bench-header", GB, files={"bench-rank0.csv": "x,y\n", "bench-rank1.csv": GB_OK},
    unchanged=["t.json"], err=["bench-rank0.csv: line 1: expected the header op,bytes,repeat,seconds"])
row("calibrate-gloo-bench-op", GB, files={"bench-rank0.csv": GB_OK + "scatter,64,1,0.001\n", "bench-rank1.csv": GB_OK},
    unchanged=["t.json"], err=["bench-rank0.csv: line 11: op: expected allreduce|allgather|alltoall|broadcast"])
row("calibrate-gloo-bench-negative", GB, files={"bench-rank0.csv": GB_HEAD + "allreduce,64,1,-1\n",
                                                "bench-rank1.csv": GB_OK},
    unchanged=["t.json"], err=["bench-rank0.csv: line 2: expected positive bytes and seconds"])
row("calibrate-gloo-bench-one-rank", GB, files={"bench-rank0.csv": GB_OK}, unchanged=["t.json"],
    err=["--gloo-bench: {d}: expected bench-rank0.csv, bench-rank1.csv", "at least 2 ranks, found 1"])
row("calibrate-gloo-bench-too-few-points", GB, files={"bench-rank0.csv": GB_HEAD + "allreduce,64,1,0.001\n",
                                                      "bench-rank1.csv": GB_HEAD + "allreduce,64,1,0.001\n"},
    unchanged=["t.json"], err=["--gloo-bench {d}: expected at least 3 benchmark points"])
row("guard-calibrate-gloo-output-is-bench", ["calibrate", "--gloo-bench", "{d}", "--output", "{d}/bench-rank1.csv"],
    files={"bench-rank0.csv": GB_OK, "bench-rank1.csv": GB_OK}, unchanged=["bench-rank1.csv"],
    err=["--output {d}/bench-rank1.csv: refused", "(--gloo-bench)"])
row("guard-calibrate-model-output-in-trace", ["calibrate", "--model", "A100", "--output", "{d}/tr/cal.json"],
    files=TR, unchanged=TR_KEEP + ["tr/cal.json"], err=["--output", "inside the trace"])
row("guard-trace-synth-out-trace-json", ["trace", "synth", "{d}/tr", "--out", "{d}/tr/trace.json"], files=TR,
    unchanged=TR_KEEP, err=["arcsim trace:", "--out {d}/tr/trace.json: refused", "input trace {d}/tr (DIR)"])
row("guard-trace-synth-out-own-sample", ["trace", "synth", "{d}/tr", "--out", "{d}/tr/" + _SAMPLE], files=TR,
    unchanged=TR_KEEP, err=["--out", "inside the input trace"])
row("guard-trace-synth-out-other-trace", ["trace", "synth", "{trace}", "--out", "{d}/tr/" + _SAMPLE], files=TR,
    unchanged=TR_KEEP, err=["--out", "inside the trace"])
row("guard-trace-copy-out-self", ["trace", "copy", "{d}/tr", "--out", "{d}/tr", "--dtype", "float16"], files=TR,
    unchanged=TR_KEEP, err=["--out {d}/tr: refused: it is the input trace {d}/tr (DIR)"])
row("guard-trace-copy-out-inside-self", ["trace", "copy", "{d}/tr", "--out", "{d}/tr/samples"], files=TR,
    unchanged=TR_KEEP, err=["--out", "inside the input trace"])
row("guard-trace-copy-over-other-trace", ["trace", "copy", "{trace}", "--out", "{d}/tr"], files=TR,
    unchanged=TR_KEEP, err=["--out {d}/tr: refused: it is the trace"])
row("guard-trace-copy-out-symlink-self", ["trace", "copy", "{d}/tr", "--out", "{d}/l"],
    files={**TR, "l": ("symlink", "tr")}, unchanged=TR_KEEP, err=["--out {d}/l: refused", "input trace"])
row("guard-plot-out-is-results-csv", ["plot", "{d}/r", "--out", "{d}/r/results.csv"],
    files={"r/results.csv": "point,compressor\n0,dense\n"}, unchanged=["r/results.csv"],
    err=["arcsim plot:", "--out {d}/r/results.csv: refused", "(RESULTS_DIR)"])
row("guard-plot-out-is-trace", ["plot", "{d}/r", "--out", "{d}/tr"],
    files={"r/results.csv": "point,compressor\n0,dense\n", **TR}, unchanged=TR_KEEP, err=["--out", "it is the trace"])
row("guard-sweep-out-in-trace", ["sweep", "{d}/s.json", "--out", "{d}/tr/out", "-q"],
    files={**TR, "s.json": w(SPEC, trace="{d}/tr")}, unchanged=TR_KEEP,
    err=["arcsim sweep:", "--out {d}/tr/out: refused", "(trace)"])
row("guard-sweep-out-is-spec", ["sweep", "{d}/s.json", "--out", "{d}/s.json", "-q"],
    files={"s.json": SPEC}, unchanged=["s.json"], err=["arcsim sweep:", "--out {d}/s.json: refused", "(EXPERIMENT)"])
row("guard-breakeven-out-is-trace", ["breakeven", "{d}/s.json", "--over", "bandwidth", "--out", "{d}/tr"],
    files={**TR, "s.json": w(SPEC, trace="{d}/tr")}, unchanged=TR_KEEP, err=["arcsim breakeven:", "--out {d}/tr: refused"])

# ---------------------------------------------------------------------------------------------
# Hardening classes 3, 6, 7/8 (Python side): plot's one error path for damaged results.csv /
# results.json / breakeven.csv (file, column or field, what was expected), plot's atomic figure
# writer refusing a link at a figure's path, record's one-line argument errors, a --script that
# exits or is interrupted at import, --resume on a corrupt trace.json; input text escaped.
PCSV = ("point,compressor,label,status,nodes,bandwidth_gbps,latency_us,topology,profile,iteration_s\n"
        "0,dense,dense,ok,4,10,5,star,ideal,0.1\n1,topk,topk-0.1,ok,4,10,5,star,ideal,0.05\n")
PJSON = {"format": "arcsim-results/1", "points": [{"point": 0, "shapes": [{"kind": "steady", "first_step": 1,
                                                                           "last_step": -1, "iteration": {}}]}]}
row("plot-csv-no-label-column", PL, err=["results.csv: line 1: label: expected a column label"],
    files={"r/results.csv": PCSV.replace(",label,", ",lbl,")})
row("plot-csv-nodes-not-number", PL, err=["results.csv: line 3: nodes: expected a number, got 'eight'"],
    files={"r/results.csv": PCSV.replace("topk-0.1,ok,4", "topk-0.1,ok,eight")})
row("plot-csv-nodes-nan", PL, err=["results.csv: line 2: nodes: expected a finite number"],
    files={"r/results.csv": PCSV.replace("dense,ok,4", "dense,ok,nan")})
row("plot-csv-value-escaped", PL, err=["nodes: expected a number, got '\\x1b[31m4\\u202e"],
    files={"r/results.csv": PCSV.replace("dense,ok,4", "dense,ok,\x1b[31m4\u202e")})
row("plot-csv-value-capped", PL, err=["bandwidth_gbps: expected a number", "..."],
    files={"r/results.csv": PCSV.replace("dense,ok,4,10", "dense,ok,4," + "9x" * 400)})
row("plot-csv-short-row", PL, err=["results.csv: line 2: topology: expected a value"],
    files={"r/results.csv": PCSV.replace("0,dense,dense,ok,4,10,5,star,ideal,0.1", "0,dense,dense,ok,4,10,5")})
row("plot-csv-ok-row-without-label", PL, err=["results.csv: line 2: label: expected a value in a row with status ok"],
    files={"r/results.csv": PCSV.replace("0,dense,dense,", "0,dense,,")})
row("plot-json-shape-iteration-number", PL,
    err=["results.json: points[0].shapes[0].iteration: expected an object, got 5"],
    files={"r/results.csv": PCSV, "r/results.json": w(PJSON, points=[{"point": 0, "shapes": [
        {"first_step": 1, "last_step": -1, "iteration": 5}]}])})
row("plot-json-points-object", PL, err=["results.json: points: expected an array, got an object"],
    files={"r/results.csv": PCSV, "r/results.json": w(PJSON, points={"0": {}})})
row("plot-json-point-id-string", PL, err=["results.json: points[0].point: expected an integer, got '0'"],
    files={"r/results.csv": PCSV, "r/results.json": w(PJSON, points=[{"point": "0"}])})
row("plot-json-target-value-string", PL, err=["results.json: provenance.target.value: expected a number"],
    files={"r/results.csv": PCSV, "r/results.json": w(PJSON, provenance={"target": {"value": "high"}})})
row("plot-breakeven-value-not-number", PL, err=["breakeven.csv: line 2: breakeven_bandwidth: expected a number"],
    files={"r/results.csv": PCSV, "r/breakeven.csv": "metric,label,compressor,breakeven_bandwidth\ntta,topk,topk,abc\n"})
row("plot-breakeven-no-label-column", PL, err=["breakeven.csv: line 1: label: expected a column label"],
    files={"r/results.csv": PCSV, "r/breakeven.csv": "metric,breakeven_bandwidth\ntta,3\n"})
row("plot-figure-path-is-symlink", PL, err=["iteration_breakdown.pdf: expected a regular file", "symlink", "refusing"],
    files={"r/results.csv": PCSV, "r/iteration_breakdown.pdf": ("symlink", "../victim"), "victim": "keep"},
    unchanged=["victim"])
REC_GOOD = ("import torch, torch.nn as nn\ndef model(): return nn.Linear(4, 1)\n"
            "def train_data():\n    x = torch.ones(64, 4)\n    return torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))\n"
            "def loss(output, target): return ((output - target) ** 2).mean()\n"
            "def evaluate(model): return {'loss': 1.0}\n")
REC = ["record", "--script", "{d}/s.py", "--out", "{d}/o", "--target", "loss:0.1", "--workers", "2", "--max-steps", "2"]
row("record-unknown-option-one-line", REC + ["--bogus"], err=["arcsim record: error: unrecognized arguments: --bogus",
                                                             "(arcsim record --help)"], files={"s.py": REC_GOOD})
row("record-missing-out-one-line", ["record"], err=["the following arguments are required: --out"])
row("record-bad-choice-escaped", REC + ["--ef", "x\x1b[2J"], err=["--ef: invalid choice: 'x\\x1b[2J'"],
    files={"s.py": REC_GOOD})
row("record-script-sys-exit-0", REC, err=["s.py: importing the script: called sys.exit(0)", "nothing was recorded"],
    files={"s.py": "import sys\nsys.exit(0)\n"}, unchanged=["o/trace.json"])
row("record-script-sys-exit-3", REC, err=["s.py: importing the script: called sys.exit(3)"],
    files={"s.py": "import sys\nsys.exit(3)\n"}, unchanged=["o/trace.json"])
row("record-script-keyboard-interrupt", REC, rc=130,
    err=["s.py: importing the script: interrupted by a KeyboardInterrupt", "nothing was recorded"],
    files={"s.py": "raise KeyboardInterrupt\n"}, unchanged=["o/trace.json"])
row("record-script-sys-exit-in-model", REC, err=["s.py: model(): called sys.exit(4)", "expected it to return"],
    files={"s.py": REC_GOOD.replace("def model(): return nn.Linear(4, 1)", "def model():\n    import sys; sys.exit(4)")},
    unchanged=["o/trace.json"])
row("record-resume-corrupt-trace", REC + ["--resume"], err=["o/trace.json: malformed JSON at line 1"],
    files={"s.py": REC_GOOD, "o/trace.json": raw('{"format": "arcsim-trace/1", ')}, unchanged=["o/trace.json"])
row("record-resume-trace-not-object", REC + ["--resume"], err=["o/trace.json: (root): expected a JSON object"],
    files={"s.py": REC_GOOD, "o/trace.json": [1, 2]}, unchanged=["o/trace.json"])

# ---------------------------------------------------------------------------------------------
# Validation before writing (docs/limits.md): every command checks what it writes with its
# consumer's reader first; a refusal names the flag and leaves the old output as it was.
row("validate-init-nodes-5000", ["init", "{trace}", "--out", "{d}/s.json", "--nodes", "5000"],
    files={"s.json": "old spec\n"}, unchanged=["s.json"], err=["--nodes", "refused before writing", "1024"])
row("validate-init-compute-unknown", ["init", "{trace}", "--out", "{d}/s.json", "--compute", "no-such-model"],
    files={"s.json": "old spec\n"}, unchanged=["s.json"], err=["--compute", "refused before writing"])
row("validate-init-compute-unknown-gpu", ["init", "{trace}", "--out", "{d}/s.json", "--compute", "model:Z80"],
    unchanged=["s.json"], err=["--compute", "Z80"])
row("validate-init-bandwidth-subnormal", ["init", "{trace}", "--out", "{d}/s.json", "--bandwidths", "1e-310Bps"],
    unchanged=["s.json"], err=["--bandwidths", "1kbps..100Tbps"])


def nccl_log(rows, hosts=2, time_text=None):
    """An all_reduce_perf log of `hosts` 8-GPU servers; rows are (size, out-of-place us)."""
    lines = nccl_log_header(hosts)
    for size, t in rows:
        tt = time_text or f"{t:.1f}"
        lines.append(f"{size} {int(size) // 4}     float     sum      -1 {tt} 1.00 1.00      0 {tt} 1.00 1.00      0")
    return "\n".join(lines) + "\n"


GOOD_ROWS = [(1 << s, 30 + (1 << s) / 20e3) for s in range(20, 31, 2)]  # 20 GB/s + 30 us
CN = ["calibrate", "--nccl-tests", "{d}/a.log", "--topology", "dgx-a100", "--gpus-per-node", "8",
      "--output", "{d}/topo.json"]
row("validate-calibrate-predict-nodes-5000", CN + ["--predict-nodes", "5000"],
    files={"a.log": nccl_log(GOOD_ROWS), "topo.json": TOPO}, unchanged=["topo.json"],
    err=["--predict-nodes", "refused before writing", "1024"])
row("validate-calibrate-denormal-times", CN, files={"a.log": nccl_log(GOOD_ROWS, time_text="1e-320"), "topo.json": TOPO},
    unchanged=["topo.json"], err=["a.log", "1 ns"])
row("validate-calibrate-sizes-1e30", CN, files={"a.log": nccl_log([(1e30, 100.0), (2e30, 200.0)]), "topo.json": TOPO},
    unchanged=["topo.json"], err=["a.log", "1 TiB"])


def _big_sample():
    """The default trace's first sample with every value 1e6 (above float16's 65504), and its sha."""
    import hashlib
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2] / "traces" / "default"
    doc = json.loads((root / "trace.json").read_text())
    data = (root / doc["samples"][0]["data"]["file"]).read_bytes()
    hlen = struct.unpack("<H", data[8:10])[0]
    head = data[:10 + hlen].replace(b"'<f2'", b"'<f4'")  # a float32 sample (the shipped one is float16)
    n = 1
    for x in doc["samples"][0]["data"]["shape"]:
        n *= x
    big = head + struct.pack("<f", 1e6) * n
    return big, hashlib.sha256(big).hexdigest()


_BIG, _BIG_SHA = _big_sample()
row("validate-trace-copy-float16-overflow", ["trace", "copy", "{d}/tr", "--out", "{d}/c", "--dtype", "float16"],
    files={"tr": TRACE(lambda d: first_sample(d)["data"].update(sha256=_BIG_SHA, dtype="float32") or d,
                       npy=lambda b: _BIG)},
    unchanged=["c/trace.json"], err=["--dtype float16", "refused before writing"])

# ---------------------------------------------------------------------------------------------
# Values the engine cannot take: the bounds table (common/units.hpp) on every physical quantity,
# and the message bound of message-level simulation (sim/limits.hpp).
row("bounds-sim-bandwidth-subnormal", SIM[:6] + ["1e-310Bps", "--bytes", "1MiB"], err=["--bandwidth", "1kbps..100Tbps"])
row("bounds-sim-bandwidth-huge", SIM[:6] + ["1e6Tbps", "--bytes", "1MiB"], err=["--bandwidth", "1kbps..100Tbps"])
row("bounds-sim-latency-subnormal", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "8",
                                     "--latency", "1e-320s"], err=["--latency", "0 or 1ns..10s"])
row("bounds-sim-latency-hour", ["simulate", "--collective", "allreduce", "--bytes", "1MiB", "--nodes", "8",
                                "--latency", "1h"], err=["--latency", "0 or 1ns..10s"])
topo_row("bounds-topo-bandwidth-subnormal", w(TOPO, bandwidth="1e-310Bps"), ["t.json", "bandwidth", "1kbps..100Tbps"])
topo_row("bounds-topo-latency-subnormal", w(TOPO, latency="1e-320s"), ["t.json", "latency", "0 or 1ns..10s"])
topo_row("bounds-topo-intra-latency", w(TOPO, node={"gpus": 2, "intra_latency": "1e-310s"}),
         ["node.intra_latency", "0 or 1ns..10s"])
topo_row("bounds-topo-nic-achievable", w(TOPO, nccl={"nic_achievable": "1e-300Bps"}), ["nccl.nic_achievable", "1kbps"])
row("bounds-topology-show-latency", ["topology", "show", "star", "--nodes", "4", "--latency", "1e-320s"],
    err=["--latency", "0 or 1ns..10s"])
row("bounds-spec-bandwidth-subnormal", ["sweep", "{d}/s.json", "--out", "{d}/r", "-q"],
    files={"s.json": w(SPEC, bandwidths=["1e-310Bps"])}, err=["bandwidths[0]", "1kbps..100Tbps"])
row("bounds-spec-latency-subnormal", ["sweep", "{d}/s.json", "--out", "{d}/r", "-q"],
    files={"s.json": w(SPEC, latencies=["1e-320s"])}, err=["latencies[0]", "0 or 1ns..10s"])
row("bounds-breakeven-range-subnormal", ["breakeven", "{d}/s.json", "--over", "bandwidth", "--range", "1e-310Bps",
                                         "10Gbps", "--out", "{d}/r"],
    files={"s.json": SPEC}, err=["--range", "1kbps..100Tbps"])
row("bounds-sim-message-level-1TiB", ["simulate", "--collective", "allreduce", "--fidelity", "message", "--bytes",
                                      "1099511627776", "--nodes", "64", "--bandwidth", "10Gbps", "--latency", "5us"],
    err=["--fidelity message", "simulated messages", "--fidelity flow"])

# ---------------------------------------------------------------------------------------------
# Class 5 (unbounded work) and class 4 (memory) of the hardening issue: an nccl-tests log over its
# row limit (sim/nccl_tests_log.hpp kMaxLogRows, 1,000,000 rows) and a JSON file holding more
# values than kMaxJsonValues (2^25, common/json_fields.cpp): one line naming the file, refused
# before the fit or the parse allocates anything per row or value.
_MANY_ROWS = "# Collective test starting: all_reduce_perf\n" + "8 2 float sum -1 1.0 0.01 0.01 0\n" * 1000001
row("class5-calibrate-log-over-row-limit", CN, files={"a.log": _MANY_ROWS, "topo.json": TOPO},
    unchanged=["topo.json"], err=["a.log:1000002", "at most 1000000", "split the log"])
row("class4-spec-too-many-json-values", ["sweep", "{d}/s.json", "--out", "{d}/r", "-q"],
    files={"s.json": '{"x": [' + "0," * (1 << 25) + "0]}"}, err=["s.json", "at most 33554432 JSON values"])

# ---------------------------------------------------------------------------------------------
# Classes 6-8 (remainder): options that do not apply (one table per command family), mutually
# exclusive flags, empty lists, non-finite computed outputs; filesystem errors as one line; flags
# named instead of spec fields; sizes in TB/TiB; untrusted text escaped (common/format escape_text).
SIM1 = ["simulate", "--collective", "allreduce", "--nodes", "4", "--bytes", "1MiB"]
row("apply-sim-protocol-on-ideal", SIM1 + ["--profile", "ideal", "--protocol", "LL"],
    err=["--protocol", "applies only to the nccl profile, not ideal"])
row("apply-sim-fidelity-on-tcp", SIM1 + ["--profile", "tcp", "--fidelity", "message"],
    err=["--fidelity", "applies only to the nccl profile, not tcp"])
row("apply-sim-step-factor-without-table", SIM1 + ["--step-factor", "4"], err=["--step-factor", "table mode"])
row("apply-trace-synth-empty-tensors", ["trace", "synth", "{trace}", "--out", "{d}/g.npy", "--tensors", ""],
    unchanged=["g.npy"], err=["--tensors", "empty"])
row("apply-trace-synth-empty-tensor-item", ["trace", "synth", "{trace}", "--out", "{d}/g.npy", "--tensors", "a,,b"],
    unchanged=["g.npy"], err=["--tensors", "item 2", "empty"])
row("apply-trace-synth-bucket-and-tensors", ["trace", "synth", "{trace}", "--out", "{d}/g.npy", "--bucket", "0",
                                            "--tensors", "a"], unchanged=["g.npy"], err=["--bucket and --tensors", "exclude"])
row("apply-trace-validate-dtype", ["trace", "validate", "{trace}", "--dtype", "float16"],
    err=["--dtype", "applies only to trace copy, not validate"])
row("apply-trace-buckets-zero-cap", ["trace", "buckets", "{trace}", "--cap", "0"], err=["--cap", "positive"])
row("apply-compress-overflowing-sum", CP + ["--compressor", "dense"],
    files={"g.npy": npy((4, 8), payload=struct.pack("<f", 3e38) * 32)}, unchanged=["agg.npy"],
    err=["g.npy", "step 0", "bucket 0", "element 0", "inf", "nothing written"])
row("flag-init-nodes-zero", ["init", "{trace}", "--out", "{d}/s.json", "--nodes", "0"], unchanged=["s.json"],
    err=["--nodes", "[1, 65536], got 0"])
row("flag-replay-zero-bucket-cap", ["replay", "{trace}", "--compressor", "dense", "--bucket-cap", "0"],
    err=["--bucket-cap", "positive"])
row("units-bytes-1TiB-accepted-then-bounded", SIM1[:5] + ["--bytes", "2TiB"], err=["--bytes", "1 TiB"])
row("units-bytes-16PiB", SIM1[:5] + ["--bytes", "16PiB"], err=["--bytes", "8 PiB"])
row("fs-out-name-too-long", ["init", "{trace}", "--out", "{d}/" + "a" * 300 + "/s.json"],
    err=["file name too long", "..."])
row("fs-out-under-a-file", ["init", "{trace}", "--out", "{d}/f/sub/s.json"], files={"f": "x"},
    err=["--out", "cannot create the directory", "not a directory"])
row("escape-trace-tensors-ansi-bidi", ["trace", "synth", "{trace}", "--out", "{d}/g.npy", "--tensors",
                                       "\x1b[31ma\u202e,\x1b[31ma\u202e"],
    err=["--tensors", "\\x1b[31ma\\u202e", "listed twice"])

# ---------------------------------------------------------------------------------------------
# one host, compute settings, hook implementation, calibrate --step-time
HOST = {"format": "arcsim-topology/1", "name": "h", "type": "star", "bandwidth": "10Gbps", "latency": "5us",
        "node": {"gpus": 4, "transport": "shm"}}
row("topo-node-transport-unknown", ["topology", "show", "{d}/t.json", "--nodes", "1"],
    files={"t.json": w(HOST, node={"gpus": 4, "transport": "infiniband"})},
    err=["t.json", "node.transport", "nvlink|pcie-p2p|shm|socket"])
row("topo-socket-on-two-nodes", ["topology", "show", "{d}/t.json", "--nodes", "2"],
    files={"t.json": w(HOST, node={"gpus": 4, "transport": "socket"})}, err=["socket", "expected 1 node, got 2"])
row("topo-nccl-channels-range", ["topology", "show", "{d}/t.json", "--nodes", "1"],
    files={"t.json": w(HOST, nccl={"channels": 65})}, err=["t.json", "nccl.channels", "1..64"])
row("flag-simulate-channels-on-ideal", SIM1 + ["--profile", "ideal", "--channels", "2"], err=["--channels", "nccl"])
spec_row("spec-one-node-of-one-gpu", w(SPEC, nodes=[1]), ["s.json", "topologies[0]", "nothing to communicate"])
spec_row("spec-compute-mfu-range", w(SPEC, compute={"model": "H100-SXM", "mfu": 2}), ["s.json", "compute.mfu", "(0, 1]"])
spec_row("spec-compute-precision", w(SPEC, compute={"model": "H100-SXM", "matmul_precision": "int4"}),
         ["s.json", "compute.matmul_precision", "fp32"])
spec_row("spec-compute-trace-with-mfu", w(SPEC, compute={"model": "trace", "mfu": 0.3}),
         ["s.json", "compute.mfu", "a GPU model"])
spec_row("spec-compute-missing-file", w(SPEC, compute="nope.json"), ["s.json", "compute", "existing compute settings file"])
spec_row("spec-compute-unknown-optimizer", w(SPEC, compute={"model": "H100-SXM", "optimizer": "lion"}),
         ["s.json", "compute", "optimizer", "sgd|adam|adamw"])
spec_row("spec-nccl-channels-without-nccl", w(SPEC, nccl={"channels": 2}), ["s.json", "nccl.channels", "profiles include nccl"])
spec_row("spec-implementation-unknown", w(SPEC, compressors=[{"name": "dense"}, {"name": "topk", "ratio": 0.1,
                                                                               "implementation": "triton"}]),
         ["s.json", "compressors[1].implementation", "fused"])
spec_row("spec-hook-without-implementation", w(SPEC, compressors=[{"name": "dense"}, {"name": "topk", "ratio": 0.1,
                                                                                     "hook": "h.py:f"}]),
         ["s.json", "compressors[1].hook", "implementation"])
spec_row("spec-hook-not-shipped", w(SPEC, compressors=[{"name": "dense"}, {"name": "powersgd", "rank": 1,
                                                                          "implementation": "hook"}]),
         ["s.json", "compressors[1].hook", "no hook of powersgd is shipped"])
ST = ["calibrate", "--step-time", "0.1", "--trace", "{trace}", "--nodes", "4", "--output", "{d}/c.json"]
row("flag-calibrate-step-time-negative", ["calibrate", "--step-time", "-1", "--trace", "{trace}", "--nodes", "4",
                                          "--output", "{d}/c.json"], unchanged=["c.json"], err=["--step-time", "(0, 3600)"])
row("flag-calibrate-step-time-fit", ST + ["--fit", "flops"], unchanged=["c.json"], err=["--fit", "fixed_step_s|mfu"])
row("flag-calibrate-step-time-mfu-of-trace", ST + ["--fit", "mfu", "--compute", "trace"], unchanged=["c.json"],
    err=["--fit mfu", "GPU model"])
row("flag-calibrate-step-time-too-fast", ["calibrate", "--step-time", "1e-9", "--trace", "{trace}", "--nodes", "4",
                                          "--compute", "model:H100-SXM", "--output", "{d}/c.json"],
    unchanged=["c.json"], err=["--step-time", "no fixed host cost fits", "--fit mfu"])
