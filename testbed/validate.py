"""`arcsim testbed validate DIR`: predictions of every run of a testbed directory against its
measurements (docs/testbed.md section 4).

The gloo profile of each cluster is fitted by `arcsim calibrate --gloo-bench` on the cluster's
micro-benchmark alone (never on the training runs), and every collective is then timed by the
SimGrid simulator under `--profile gloo` on the cluster's topology (gloo's algorithms, per-call and
per-message costs, TCP efficiency; sim/gloo_model.hpp). The benchmark's held-back sizes, predicted
by the fit of the others, are DIR/bench_validation.csv.

The prediction of one iteration (predict_run) replays each step: every rank runs its own
measured local work between collectives (data, forward, backward, measured-cpu kernels, the
optimizer: the ranks' measured compute); each collective of the compressor's plan (op and bytes,
identical by construction, docs/distributed.md) starts when the last rank arrives and lasts what
the simulator says; each hook call's own cost (Python, the binding, copies, the compressor's work
outside its timed kernels) is the hook benchmark's for that compressor at the bucket's size, in
place of the measured one. Not modelled: CPU contention that the ranks' collectives see but the
isolated benchmark does not (column `not_modelled`).
TTA: predicted iteration x the run's own steps to the target; measured: training wall time (no
evaluation) at the first evaluation that reached it, over seeds (log-normal centre and t interval)."""
import csv
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys

COLUMNS = ("compressor", "label", "nodes", "bandwidth_gbps", "topology", "seeds", "measured_iteration_s",
           "predicted_iteration_s", "iteration_error_pct", "measured_collectives_s", "predicted_collectives_s",
           "measured_hook_s", "predicted_hook_s", "cpu_busy", "measured_tta_s", "measured_tta_lo", "measured_tta_hi",
           "predicted_tta_s", "tta_inside", "not_modelled")
# DIR/gloo_fits.csv: each cluster's fitted gloo constants (its gloo-topology.json) and their check.
GLOO_FIT_COLUMNS = ("cluster", "call_overhead", "message_overhead", "ring_efficiency", "direct_efficiency",
                    "binomial_efficiency", "held_back_mean_abs_error_pct", "held_back_worst_abs_error_pct")
NOT_MODELLED = "CPU contention inside collectives beyond what the isolated benchmark saw"
# One message's latency between two namespaces (veth + bridge), nominal: the fitted per-message
# cost holds the rest of a small message's time.
LATENCY = "30us"
# A benchmark point's time over its repeats: what a step's sum of collectives sees on average.
STATISTIC = "mean"
# The collectives `arcsim simulate --collective` times one by one (allgatherv and alltoallv need a
# plan's per-rank sizes).
SIMULATED_OPS = ("allreduce", "allgather", "broadcast", "reduce_scatter")


def _read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _arcsim():
    exe = os.environ.get("ARCSIM_EXE")
    if not exe:
        raise ValueError("ARCSIM_EXE is not set: run this as `arcsim testbed validate DIR`")
    return exe


def _run(args):
    r = subprocess.run([_arcsim(), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise ValueError(f"arcsim {args[0]}: {(r.stderr.strip().splitlines() or ['failed'])[-1]}")
    return r.stdout


def _fit_hook(rows):
    """label -> (a, b, smallest): each compressor's hook cost per call as a + b x bucket bytes, least
    squares on the medians per size (every rank's calls), a and b >= 0."""
    by = {}
    for r in rows:
        if r["op"].startswith("hook:"):
            by.setdefault(r["op"][5:], {}).setdefault(int(r["bytes"]), []).append(float(r["seconds"]))
    fits = {}
    for label, sizes in by.items():
        pts = sorted((x, statistics.median(v)) for x, v in sizes.items())
        n = len(pts)
        mx, my = sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n
        sxx = sum((x - mx) ** 2 for x, _ in pts)
        b = max(0.0, sum((x - mx) * (y - my) for x, y in pts) / sxx) if sxx > 0 else 0.0
        fits[label] = (max(0.0, my - b * mx), b, pts[0][0])
    return fits


class GlooModel:
    """One cluster's collectives, simulated. The topology: the cluster's shape and link rate with
    the gloo costs `arcsim calibrate --gloo-bench` fitted to its benchmark (written beside it as
    gloo-topology.json, its held-back check as gloo-check.csv)."""

    def __init__(self, cdir, ranks, mbit, topo):
        self.ranks = ranks
        base = {"format": "arcsim-topology/1", "name": cdir.name, "type": "star", "bandwidth": f"{mbit:g}Mbps",
                "latency": LATENCY}
        if topo["type"] == "two-level":
            per_leaf = -(-ranks // topo["leaves"])
            over = topo["oversubscription"]
            if over != int(over) or per_leaf % int(over):
                raise ValueError(f"{cdir.name}: the simulator's fat-tree needs the ranks per leaf ({per_leaf}) to be a "
                                 f"multiple of the oversubscription ({over:g})")
            base.update(type="fattree", fattree={"hosts_per_leaf": per_leaf, "oversubscription": int(over)})
        from traces.recorder.trace_io import write_atomic
        from .cluster import burst_bytes
        write_atomic(cdir / "gloo-base.json", json.dumps(base, indent=1) + "\n")
        self.topology = cdir / "gloo-topology.json"
        _run(["calibrate", "--gloo-bench", str(cdir / "bench"), "--topology", str(cdir / "gloo-base.json"),
              "--burst", str(burst_bytes(mbit)), "--statistic", STATISTIC, "--output", str(self.topology),
              "--check", str(cdir / "gloo-check.csv")])
        self.checks = _read(cdir / "gloo-check.csv")
        self.fitted = json.loads(self.topology.read_text())["gloo"]
        self._hook = _fit_hook([r for q in range(ranks) for r in _read(cdir / "bench" / f"bench-rank{q}.csv")])
        self._bench = cdir / "bench"
        self._cache = {}

    def hook_s(self, label, nbytes):
        """The comm hook's own cost of one call of compressor `label` on a bucket of `nbytes` (None:
        not known, the benchmark's smallest bucket)."""
        if label not in self._hook:
            raise ValueError(f"{self._bench}: no `hook:{label}` rows: the benchmark predates the hook benchmark of "
                             "each compressor; rerun `arcsim testbed run` into a new directory")
        a, b, smallest = self._hook[label]
        return a + b * (smallest if nbytes is None else nbytes)

    def seconds(self, op, nbytes):
        """One arcsim collective of `nbytes` per rank (the plan's count) on this cluster."""
        key = (op, nbytes)
        if key not in self._cache:
            if op not in SIMULATED_OPS:
                raise ValueError(f"collective {op}: validate simulates {', '.join(SIMULATED_OPS)} call by call; "
                                 f"{op} needs the plan's per-rank sizes (not built)")
            size = nbytes * self.ranks if op == "allgather" else nbytes  # simulate's all-gather size: the total
            out = _run(["simulate", "--collective", op, "--bytes", f"{size:.0f}", "--nodes", str(self.ranks),
                        "--topology", str(self.topology), "--profile", "gloo", "--json"])
            self._cache[key] = json.loads(out)["simulated_s"]
        return self._cache[key]


def bucket_bytes(rdir):
    """Bytes of each bucket of a dense run (its all-reduce per bucket is the whole bucket), the
    sizes the hook benchmark's cost is read at; {} when there is no dense run."""
    out = {}
    for row in _read(rdir / "rank0.csv"):
        if row["phase"] == "collective" and row["op"] == "allreduce":
            b = int(row["bucket"])
            out[b] = max(out.get(b, 0.0), float(row["bytes"]))
    return out


def predict_run(rdir, ranks, model, warm, buckets, label):
    """Per step, medians over steps >= warm: (measured, predicted, measured collectives,
    predicted collectives, measured hook, predicted hook) seconds.

    Measured: the slowest rank's step time. Predicted: a replay of the step in which every rank
    runs its own measured local work between collectives (the gaps: data, forward, backward,
    measured-cpu kernels, the optimizer) without the hook's own cost, every collective starts when
    the last rank arrives (so one rank's slower compute delays all, as in the real run) and lasts
    what the simulator says, and each hook call costs what the hook benchmark of compressor `label`
    says at its bucket's size (`buckets`: bucket -> bytes). The hook's own cost: its time that is
    neither kernels nor collectives. Collectives and hook, measured and predicted: rank 0's sums."""
    events = {}  # (step, rank) -> collectives [(start, end, op, bytes)], hook calls' buckets, own cost
    for r in range(ranks):
        for row in _read(rdir / f"rank{r}.csv"):
            s = int(row["step"])
            if s < warm:
                continue
            e = events.setdefault((s, r), {"coll": [], "own": 0.0, "calls": []})
            a, b = float(row["start_s"]), float(row["end_s"])
            if row["phase"] == "collective":
                e["coll"].append((a, b, row["op"], float(row["bytes"])))
                e["own"] -= b - a
            elif row["phase"] == "hook":
                e["own"] += b - a
                e["calls"].append(int(row["bucket"]))
            elif row["phase"] in ("compress", "decompress", "sample"):
                e["own"] -= b - a
    bounds = {}
    for r in range(ranks):
        for row in _read(rdir / f"steps-rank{r}.csv"):
            bounds[(int(row["step"]), r)] = (float(row["start_s"]), float(row["end_s"]))
    measured, pred, coll_m, coll_p, hook_m, hook_p = {}, {}, {}, {}, {}, {}
    for s in sorted({s for s, _ in bounds if s >= warm}):
        if not all((s, r) in bounds and (s, r) in events for r in range(ranks)):
            continue
        calls = [sorted(events[(s, r)]["coll"]) for r in range(ranks)]
        if len({len(c) for c in calls}) != 1:
            continue  # ranks disagree on the collectives of this step (not expected): left out
        clock = [0.0] * ranks
        last = [bounds[(s, r)][0] for r in range(ranks)]  # each rank's time of its previous collective's end
        for k in range(len(calls[0])):
            for r in range(ranks):
                clock[r] += calls[r][k][0] - last[r]
                last[r] = calls[r][k][1]
            t = max(clock) + model.seconds(calls[0][k][2], calls[0][k][3])
            clock = [t] * ranks
        own_p = [sum(model.hook_s(label, buckets.get(c)) for c in events[(s, r)]["calls"]) for r in range(ranks)]
        for r in range(ranks):
            clock[r] += bounds[(s, r)][1] - last[r] - max(0.0, events[(s, r)]["own"]) + own_p[r]
        measured[s] = max(bounds[(s, r)][1] - bounds[(s, r)][0] for r in range(ranks))
        pred[s] = max(clock)
        coll_m[s] = sum(b - a for a, b, _, _ in calls[0])
        coll_p[s] = sum(model.seconds(op, n) for _, _, op, n in calls[0])
        hook_m[s] = max(0.0, events[(s, 0)]["own"])
        hook_p[s] = own_p[0]
    keys = sorted(pred)
    if not keys:
        raise ValueError(f"{rdir}: expected steps after the first {warm} with every rank's timings, found none")
    med = lambda m: statistics.median(m[k] for k in keys)  # noqa: E731
    return med(measured), med(pred), med(coll_m), med(coll_p), med(hook_m), med(hook_p)


def measured_tta(rdir, target):
    """Training seconds at the first evaluation reaching the target (None: not reached)."""
    from traces.recorder.targets import parse_target
    t = parse_target(target, None)
    for row in _read(rdir / "curve.csv"):
        point = {k: float(v) for k, v in row.items() if k not in ("step", "train_s")}
        if t.reached(point):
            return float(row["train_s"]), int(row["step"])
    return None, None


def _interval(xs):
    """Geometric mean and the Student-t 95 % interval on log values (None with one value)."""
    logs = [math.log(x) for x in xs]
    m = sum(logs) / len(logs)
    if len(logs) < 2:
        return math.exp(m), None, None
    from statistics import stdev
    t95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
    h = t95.get(len(logs) - 1, 2.0) * stdev(logs) / math.sqrt(len(logs))
    return math.exp(m), math.exp(m - h), math.exp(m + h)


def validate(out, log=print):
    from traces.recorder.trace_io import write_csv_atomic
    from .run import WARM_STEPS, cluster_name
    out = pathlib.Path(out)
    spec = json.loads((out / "spec.json").read_text())
    runs = _read(out / "runs.csv")
    rows, checks, fits = [], [], {}
    for topo in spec["topologies"]:
        for nodes in spec["nodes"]:
            for mbit in spec["bandwidths"]:
                name = cluster_name(topo, nodes, mbit)
                bench = out / name / "bench"
                if not (bench / "bench-rank0.csv").exists():
                    continue
                fits[name] = GlooModel(out / name, nodes, mbit, topo)
                checks += [dict(x, cluster=name) for x in fits[name].checks if x["role"] == "held-back"]
                here = [r for r in runs if r["status"] == "ok" and pathlib.Path(r["dir"]).parts[0] == name]
                dense = [r for r in here if r["label"] == "dense"]
                buckets = bucket_bytes(out / dense[0]["dir"]) if dense else {}
                for comp in spec["compressors"]:
                    mine = [r for r in here if r["label"] == comp["label"]]
                    if not mine:
                        continue
                    try:
                        per_seed = [predict_run(out / r["dir"], nodes, fits[name], WARM_STEPS, buckets, comp["label"])
                                    for r in mine]
                    except ValueError as e:
                        raise ValueError(f"{name}/{comp['label']}: {e}") from None
                    m = statistics.median(p[0] for p in per_seed)
                    p = statistics.median(p[1] for p in per_seed)
                    ttas = [measured_tta(out / r["dir"], spec["target"]) for r in mine]
                    reached = [t for t, _ in ttas if t is not None]
                    centre, lo, hi = _interval(reached) if len(reached) == len(ttas) else (None, None, None)
                    steps_to = [s for _, s in ttas if s is not None]
                    ptta = p * statistics.median(steps_to) if len(steps_to) == len(ttas) else None
                    inside = "" if lo is None or ptta is None else ("yes" if lo <= ptta <= hi else "no")
                    rows.append({
                        "compressor": comp["text"].partition(":")[0], "label": comp["label"], "nodes": nodes,
                        "bandwidth_gbps": mbit / 1000, "topology": topo["name"], "seeds": len(mine),
                        "measured_iteration_s": f"{m:.6f}", "predicted_iteration_s": f"{p:.6f}",
                        "iteration_error_pct": f"{100 * (p - m) / m:.2f}",
                        "measured_collectives_s": f"{statistics.median(x[2] for x in per_seed):.6f}",
                        "predicted_collectives_s": f"{statistics.median(x[3] for x in per_seed):.6f}",
                        "measured_hook_s": f"{statistics.median(x[4] for x in per_seed):.6f}",
                        "predicted_hook_s": f"{statistics.median(x[5] for x in per_seed):.6f}",
                        "cpu_busy": statistics.median(float(r["cpu_busy"]) for r in mine),
                        "measured_tta_s": "" if centre is None else f"{centre:.4f}",
                        "measured_tta_lo": "" if lo is None else f"{lo:.4f}",
                        "measured_tta_hi": "" if hi is None else f"{hi:.4f}",
                        "predicted_tta_s": "" if ptta is None else f"{ptta:.4f}", "tta_inside": inside,
                        "not_modelled": NOT_MODELLED})
    if not rows:
        raise ValueError(f"{out}: runs.csv: expected at least one finished run with its benchmark, found none")
    write_csv_atomic(out / "validation.csv", COLUMNS, rows)
    write_csv_atomic(out / "bench_validation.csv",
                     ("cluster", "op", "bytes", "measured_s", "predicted_s", "error_pct", "role"), checks)
    write_csv_atomic(out / "gloo_fits.csv", GLOO_FIT_COLUMNS,
                     [dict({k: m.fitted.get(k, "") for k in GLOO_FIT_COLUMNS[1:-2]}, cluster=name,
                           held_back_mean_abs_error_pct=f"{m.fitted['calibrated_from']['held_back_mean_abs_error_pct']:.1f}",
                           held_back_worst_abs_error_pct=f"{m.fitted['calibrated_from']['held_back_worst_abs_error_pct']:.1f}")
                      for name, m in fits.items()])
    figure(rows, out)
    errs = [abs(float(r["iteration_error_pct"])) for r in rows]
    log(f"validation: {len(rows)} configurations, iteration |error| mean {statistics.mean(errs):.1f} %, worst "
        f"{max(errs):.1f} %; benchmark held-back sizes |error| mean "
        f"{statistics.mean(abs(float(c['error_pct'])) for c in checks):.1f} % ({out / 'validation.csv'})" if checks else "")
    return rows


def figure(rows, out):
    """Predicted against measured iteration time, y = x and +-10 % bands, one marker per compressor."""
    import matplotlib.pyplot as plt
    from plots import style
    style.apply()  # the project's figure style (fonts, grid, 300 dpi PNG)
    fig, ax = plt.subplots(figsize=(3.4, 3.2))
    xs = [float(r["measured_iteration_s"]) for r in rows]
    ys = [float(r["predicted_iteration_s"]) for r in rows]
    lo, hi = min(xs + ys) * 0.8, max(xs + ys) * 1.25
    line = [lo, hi]
    ax.plot(line, line, color="black", lw=0.8, label="y = x")
    ax.fill_between(line, [v * 0.9 for v in line], [v * 1.1 for v in line], color="0.85", label="±10 %")
    markers = "osD^vP*Xh<>"
    for i, comp in enumerate(sorted({r["label"] for r in rows})):
        pts = [(float(r["measured_iteration_s"]), float(r["predicted_iteration_s"])) for r in rows if r["label"] == comp]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], markers[i % len(markers)], label=comp, ls="none")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured iteration time (s)")
    ax.set_ylabel("predicted iteration time (s)")
    ax.set_title("testbed: arcsim against real gloo training")
    ax.legend(loc="upper left")
    fig.tight_layout()
    staged = style.Staged()  # the project's figure writer: atomic, and no creation dates
    try:
        style.save(fig, str(out / "validation"), staged)
        staged.commit()
    finally:
        staged.discard()


def main_validate(argv):
    import argparse
    p = argparse.ArgumentParser(prog="arcsim testbed validate", description=__doc__.splitlines()[0])
    p.add_argument("dir")
    a = p.parse_args(argv)
    try:
        validate(a.dir, log=lambda m: print(m, file=sys.stderr))
    except (OSError, ValueError, KeyError) as e:
        print(f"arcsim testbed validate: {e}", file=sys.stderr)
        return 2
    return 0
