"""`arcsim testbed run SPEC --out DIR`: for each topology x nodes x bandwidth of the spec, an
emulated cluster (testbed/cluster.py); in it, the gloo micro-benchmark, then real data-parallel
training (testbed/rank.py) of every compressor x seed. Resumable: a run whose ranks all finished
is kept. Everything the run makes is removed at the end, on SIGINT/SIGTERM, and on any error.

DIR/
  spec.json, capabilities.json         the spec as read; what the machine can emulate
  <cluster>/bench/bench-rank<R>.csv    the micro-benchmark (op, bytes, repeat, seconds)
  <cluster>/<config>-seed<S>/          per run: rank<R>.csv (timings), steps-rank<R>.csv,
                                       curve.csv (rank 0), wire.json (netdev bytes per rank)
  runs.csv                             one row per run (columns RUN_COLUMNS)
<cluster> = <topology>-n<N>-<mbit>mbit."""
import csv
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time

from traces.recorder.trace_io import write_csv_atomic

from . import cluster as cl
from .spec import load

RUN_COLUMNS = ("compressor", "label", "ef", "nodes", "bandwidth_gbps", "topology", "seed", "steps",
               "iteration_s", "iteration_lo_s", "iteration_hi_s", "cpu_busy", "wire_tx_bytes_per_step",
               "status", "dir")
ROOT = pathlib.Path(__file__).resolve().parents[1]
WARM_STEPS = 2  # first steps left out of the iteration time (DDP's bucket rebuild, allocator warm-up)


class _Stop(Exception):
    pass


def _on_signal(sig, _frame):
    raise _Stop(f"stopped by signal {signal.Signals(sig).name}")


def cluster_name(topo, nodes, mbit):
    return f"{topo['name']}-n{nodes}-{mbit:g}mbit"


def _launch(k, job, out, python, log):
    """Runs one job on every rank of cluster k; returns the ranks' one-line results."""
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("done-rank*"):
        f.unlink()
    job = dict(job, world=k.ranks, master=k.address(0), port=29500, out=str(out))
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{os.environ.get('ARCSIM_PYTHON_DIR', ROOT / 'build' / 'python')}",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    procs = []
    for r in range(k.ranks):
        jp = out / f"job-rank{r}.json"
        jp.write_text(json.dumps(dict(job, dev=k.dev(r))))
        procs.append(subprocess.Popen(["ip", "netns", "exec", k.ns(r), python, "-m", "testbed.rank", str(jp), str(r)],
                                      env=env, stdout=subprocess.DEVNULL, stderr=open(out / f"stderr-rank{r}.txt", "w")))
    deadline = time.time() + job["timeout_s"] * 2 + job.get("steps", 0) * 5 + 60
    try:
        for p in procs:
            p.wait(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        log(f"  timed out after {deadline:.0f} s: killing the ranks")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    said = []
    for r in range(k.ranks):
        f = out / f"done-rank{r}"
        said.append(f.read_text().strip() if f.exists() else f"rank {r}: exited without a result (code "
                                                                f"{procs[r].returncode})")
    return said


def _iteration(out, ranks):
    """Per step, the slowest rank's duration; the median over steps after WARM_STEPS and the
    5th/95th percentiles; the mean CPU busy fraction (CPU seconds of all ranks per wall second and core)."""
    per_step, cpu = {}, 0.0
    for r in range(ranks):
        with open(out / f"steps-rank{r}.csv") as f:
            for row in csv.DictReader(f):
                s = int(row["step"])
                d = float(row["end_s"]) - float(row["start_s"])
                per_step[s] = max(per_step.get(s, 0.0), d)
                if s >= WARM_STEPS:
                    cpu += float(row["cpu_s"])
    times = sorted(v for s, v in per_step.items() if s >= WARM_STEPS)
    if not times:
        return None
    wall = sum(times)
    q = statistics.quantiles(times, n=20) if len(times) >= 2 else [times[0]] * 19
    return statistics.median(times), q[0], q[-1], cpu / (wall * (os.cpu_count() or 1)) if wall > 0 else 0.0


def run(spec_path, out, log=print, python=None):
    python = python or os.environ.get("ARCSIM_PYTHON", "/usr/bin/python3")
    spec = load(spec_path)
    caps = cl.require()
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.json").write_text(json.dumps(spec, indent=1))
    (out / "capabilities.json").write_text(json.dumps(caps))
    if not caps["netem"]:
        log("testbed: tc netem is not available here: links have no added delay or loss (the latency is the "
            "veth's and the bridges', measured by the benchmark)")
    old = [signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)]
    rows, k = [], None
    try:
        for topo in spec["topologies"]:
            for nodes in spec["nodes"]:
                for mbit in spec["bandwidths"]:
                    if topo["type"] == "two-level" and nodes < topo["leaves"]:
                        log(f"  skip {topo['name']} at {nodes} ranks: fewer ranks than its {topo['leaves']} leaves")
                        continue
                    name = cluster_name(topo, nodes, mbit)
                    per_leaf = -(-nodes // topo.get("leaves", 1))
                    uplink = per_leaf * mbit / topo.get("oversubscription", 1.0)
                    k = cl.Cluster(nodes, mbit, topo["type"], topo.get("leaves", 2), uplink).up()
                    log(f"{name}: cluster {k.id} up ({nodes} namespaces, {mbit:g} Mbit/s links"
                        + (f", uplinks {uplink:g} Mbit/s" if topo["type"] == "two-level" else "") + ")")
                    bench_dir = out / name / "bench"
                    if not all((bench_dir / f"bench-rank{r}.csv").exists() for r in range(nodes)):
                        hooks = [{k_: c[k_] for k_ in ("text", "ef", "options", "label")} for c in spec["compressors"]]
                        said = _launch(k, dict(mode="bench", timeout_s=spec["timeout_s"], compressors=hooks,
                                               **spec["bench"]), bench_dir, python, log)
                        log(f"  benchmark: {'ok' if all(s == 'ok' for s in said) else said}")
                    for comp in spec["compressors"]:
                        for seed in spec["seeds"]:
                            rdir = out / name / f"{comp['id']}-seed{seed}"
                            done = all((rdir / f"done-rank{r}").exists() and
                                       (rdir / f"done-rank{r}").read_text() == "ok" for r in range(nodes))
                            if not done:
                                before = k.counters()
                                t0 = time.time()
                                said = _launch(k, dict(mode="train", script=spec["script"], compressor=comp["text"],
                                                       ef=comp["ef"], options=comp["options"], seed=seed,
                                                       steps=spec["steps"], eval_every=spec["eval_every"],
                                                       target=spec["target"], lr=spec["lr"],
                                                       micro_batch=spec["micro_batch"], timeout_s=spec["timeout_s"]),
                                               rdir, python, log)
                                after = k.counters()
                                (rdir / "wire.json").write_text(json.dumps(
                                    {"tx_bytes": [a[0] - b[0] for a, b in zip(after, before)],
                                     "rx_bytes": [a[1] - b[1] for a, b in zip(after, before)]}))
                                status = "ok" if all(s == "ok" for s in said) else next(s for s in said if s != "ok")
                                log(f"  {comp['label']} seed {seed}: {status} ({time.time() - t0:.0f} s)")
                            rows.append(_row(spec, comp, nodes, mbit, topo, seed, rdir))
                    k.down()
                    k = None
    except _Stop as e:
        log(f"testbed: {e}; removing the cluster")
        raise
    finally:
        if k is not None:
            k.down()
        for s, h in zip((signal.SIGINT, signal.SIGTERM), old):
            signal.signal(s, h)
        if rows:
            write_csv_atomic(out / "runs.csv", RUN_COLUMNS, rows)
    return rows


def _row(spec, comp, nodes, mbit, topo, seed, rdir):
    said = [(rdir / f"done-rank{r}").read_text() if (rdir / f"done-rank{r}").exists() else "missing"
            for r in range(nodes)]
    row = {"compressor": comp["text"].partition(":")[0], "label": comp["label"], "ef": comp["ef"], "nodes": nodes,
           "bandwidth_gbps": mbit / 1000, "topology": topo["name"], "seed": seed, "steps": spec["steps"],
           "status": "ok" if all(s == "ok" for s in said) else next(s for s in said if s != "ok"),
           "dir": str(rdir.relative_to(rdir.parents[1]))}
    if row["status"] == "ok":
        it = _iteration(rdir, nodes)
        if it:
            row.update(iteration_s=f"{it[0]:.6f}", iteration_lo_s=f"{it[1]:.6f}", iteration_hi_s=f"{it[2]:.6f}",
                       cpu_busy=f"{it[3]:.3f}")
        wire = json.loads((rdir / "wire.json").read_text()) if (rdir / "wire.json").exists() else None
        if wire:
            row["wire_tx_bytes_per_step"] = f"{max(wire['tx_bytes']) / spec['steps']:.0f}"
    return row


def main_run(argv):
    import argparse
    p = argparse.ArgumentParser(prog="arcsim testbed run", description=__doc__.splitlines()[0])
    p.add_argument("spec")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    try:
        run(a.spec, a.out, log=lambda m: print(m, file=sys.stderr, flush=True))
    except (cl.TestbedUnavailable, ValueError) as e:
        print(f"arcsim testbed run: {e}", file=sys.stderr)
        return 77 if isinstance(e, cl.TestbedUnavailable) else 2
    except _Stop:
        return 130
    return 0
