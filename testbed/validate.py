"""`arcsim testbed validate DIR`: predictions of every run of a testbed directory against its
measurements (docs/testbed.md section 3).

The prediction of one iteration (predict_run) replays each step: every rank runs its own
measured local work between collectives (data, forward, backward, measured-cpu kernels, the
hook's Python, the optimizer: the ranks' measured compute); each collective of the compressor's
plan (op and bytes, identical by construction, docs/distributed.md) starts when the last rank
arrives and lasts what the gloo model, fitted on the cluster's micro-benchmark alone (through
arcsim's transport: Python dispatch included), says; plus the benchmark's binding cost per hook
call. Not modelled: CPU contention that the ranks' collectives see but the isolated benchmark
does not (column `not_modelled`).
The gloo model: per op (all-reduce, all-gather, broadcast, all-to-all) the benchmark's median
time (slowest rank) at each size, made non-decreasing in size (_monotone) and interpolated
log-log between sizes (_interpolate); its check interpolates every other size from the rest,
written to DIR/bench_validation.csv. The arcsim transport's
collectives map onto gloo calls as TorchTransport issues them: an ordered all-reduce of B bytes =
all-to-all of B/P per peer + all-gather of B/P per rank; all-gather(v) of equal blocks =
all-gather; unequal blocks = all-to-all of the rank's block to every peer; all-to-all-v =
all-to-all of its bytes / (P - 1) per peer.
TTA: predicted iteration x the run's own steps to the target; measured: training wall time (no
evaluation) at the first evaluation that reached it, over seeds (log-normal centre and t interval)."""
import csv
import json
import math
import pathlib
import statistics
import sys

COLUMNS = ("compressor", "label", "nodes", "bandwidth_gbps", "topology", "seeds", "measured_iteration_s",
           "predicted_iteration_s", "iteration_error_pct", "measured_collectives_s", "predicted_collectives_s",
           "unmodelled_s", "cpu_busy", "measured_tta_s", "measured_tta_lo", "measured_tta_hi", "predicted_tta_s",
           "tta_inside", "not_modelled")
NOT_MODELLED = "CPU contention inside collectives beyond what the isolated benchmark saw"


def _read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _interpolate(pts, b):
    """Time at b bytes on a measured curve [(bytes, s)]: log-log interpolation between sizes; below
    the smallest, its time (the latency floor); above the largest, its last segment's slope."""
    if b <= pts[0][0]:
        return pts[0][1]
    for (s0, t0), (s1, t1) in zip(pts, pts[1:]):
        if b <= s1:
            f = math.log(b / s0) / math.log(s1 / s0)
            return math.exp(math.log(t0) + f * (math.log(t1) - math.log(t0)))
    (s0, t0), (s1, t1) = pts[-2], pts[-1]
    return t1 + (b - s1) * max(0.0, (t1 - t0) / (s1 - s0))


def _monotone(pts):
    """A larger message never takes less time: each time is capped by every larger size's (a
    small message's median that a scheduling delay inflated is replaced by the next size's)."""
    out, cap = [], float("inf")
    for s, t in reversed(pts):
        cap = min(cap, t)
        out.append((s, cap))
    return out[::-1]


def fit_bench(bench_dir, ranks):
    """Per op: the measured curve of every other size (median of repeats, slowest rank), and the
    held-back sizes' relative errors when interpolated from it."""
    times = {}
    per_rank = [_read(bench_dir / f"bench-rank{r}.csv") for r in range(ranks)]
    for rows in zip(*per_rank):
        op, size = rows[0]["op"], int(rows[0]["bytes"])
        times.setdefault((op, size), []).append(max(float(r["seconds"]) for r in rows))
    model, checks = {}, []
    for op in sorted({op for op, _ in times} - {"binding"}):
        raw = sorted((s, max(1e-9, statistics.median(v))) for (o, s), v in times.items() if o == op)
        pts = _monotone(raw)
        keep = _monotone(raw[::2]) if len(raw) >= 3 else pts
        if keep[-1] != pts[-1]:
            keep.append(pts[-1])  # the largest size stays: the slope beyond it
        kept_sizes = {s for s, _ in keep}
        for s, t in raw:
            if s not in kept_sizes:
                p = _interpolate(keep, s)
                checks.append({"op": op, "bytes": s, "measured_s": t, "predicted_s": p,
                               "error_pct": 100 * (p - t) / t})
        model[op] = pts  # predictions use every measured size; the check above used half of them
    if any(op == "binding" for op, _ in times):
        model["binding"] = statistics.median(v for (o, _), vs in times.items() if o == "binding" for v in vs)
    return model, checks


def gloo_time(model, op, nbytes, P):
    """Seconds of one arcsim collective of `nbytes` per rank (the plan's count) on gloo."""
    def t(o, b):
        return _interpolate(model[o], b)
    # The benchmark's sizes are bytes per rank per peer block (all-gather: each rank's block;
    # all-to-all: what a rank sends to each peer).
    if op == "allreduce":  # ordered: chunks of B/P to every rank, then the reduced chunks gathered
        return t("alltoall", nbytes / P) + t("allgather", nbytes / P)
    if op == "allgather":
        return t("allgather", nbytes)
    if op == "allgatherv":  # unequal blocks: this rank's block sent to every peer in one all-to-all
        return t("alltoall", nbytes)
    if op == "alltoallv":  # the plan counts what a rank sends to all others
        return t("alltoall", nbytes / max(1, P - 1))
    if op == "broadcast":
        return t("broadcast", nbytes)
    raise ValueError(f"collective op: expected allreduce, allgather, allgatherv, alltoallv or broadcast, got {op}")


def predict_run(rdir, ranks, model, warm):
    """Per step, medians over steps >= warm: (measured, predicted, measured collectives,
    predicted collectives, unmodelled) seconds.

    Measured: the slowest rank's step time. Predicted: a replay of the step in which every rank
    runs its own measured local work between collectives (the gaps: data, forward, backward,
    kernels, the hook's Python, the optimizer), every collective starts when the last rank
    arrives (so one rank's slower compute delays all, as in the real run) and lasts what the gloo
    model says, plus the benchmark's binding cost per hook call. Collectives measured/predicted:
    rank 0's sum. Unmodelled: the hook's time that is neither kernels nor collectives (already
    inside the measured gaps; reported, not predicted)."""
    binding = model.get("binding", 0.0)
    events = {}  # (step, rank) -> [(start, end, op, bytes)] of collectives; hooks; kernels
    for r in range(ranks):
        for row in _read(rdir / f"rank{r}.csv"):
            s = int(row["step"])
            if s < warm:
                continue
            e = events.setdefault((s, r), {"coll": [], "hook": 0.0, "kernels": 0.0, "calls": 0})
            a, b = float(row["start_s"]), float(row["end_s"])
            if row["phase"] == "collective":
                e["coll"].append((a, b, row["op"], float(row["bytes"])))
            elif row["phase"] == "hook":
                e["hook"] += b - a
                e["calls"] += 1
            elif row["phase"] in ("compress", "decompress"):
                e["kernels"] += b - a
    bounds = {}
    for r in range(ranks):
        for row in _read(rdir / f"steps-rank{r}.csv"):
            bounds[(int(row["step"]), r)] = (float(row["start_s"]), float(row["end_s"]))
    measured, pred, coll_m, coll_p, unmod = {}, {}, {}, {}, {}
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
            t = max(clock) + gloo_time(model, calls[0][k][2], calls[0][k][3], ranks)
            clock = [t] * ranks
        for r in range(ranks):
            clock[r] += bounds[(s, r)][1] - last[r] + binding * events[(s, r)]["calls"]
        measured[s] = max(bounds[(s, r)][1] - bounds[(s, r)][0] for r in range(ranks))
        pred[s] = max(clock)
        coll_m[s] = sum(b - a for a, b, _, _ in calls[0])
        coll_p[s] = sum(gloo_time(model, op, n, ranks) for _, _, op, n in calls[0])
        e0 = events[(s, 0)]
        unmod[s] = max(0.0, e0["hook"] - e0["kernels"] - coll_m[s])
    keys = sorted(pred)
    if not keys:
        raise ValueError(f"{rdir}: expected steps after the first {warm} with every rank's timings, found none")
    med = lambda m: statistics.median(m[k] for k in keys)  # noqa: E731
    return med(measured), med(pred), med(coll_m), med(coll_p), med(unmod)


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
                fits[name], c = fit_bench(bench, nodes)
                checks += [dict(x, cluster=name) for x in c]
                for comp in spec["compressors"]:
                    mine = [r for r in runs if r["label"] == comp["label"] and int(r["nodes"]) == nodes and
                            r["topology"] == topo["name"] and math.isclose(float(r["bandwidth_gbps"]), mbit / 1000)
                            and r["status"] == "ok"]
                    if not mine:
                        continue
                    per_seed = [predict_run(out / r["dir"], nodes, fits[name], WARM_STEPS) for r in mine]
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
                        "unmodelled_s": f"{statistics.median(x[4] for x in per_seed):.6f}",
                        "cpu_busy": statistics.median(float(r["cpu_busy"]) for r in mine),
                        "measured_tta_s": "" if centre is None else f"{centre:.4f}",
                        "measured_tta_lo": "" if lo is None else f"{lo:.4f}",
                        "measured_tta_hi": "" if hi is None else f"{hi:.4f}",
                        "predicted_tta_s": "" if ptta is None else f"{ptta:.4f}", "tta_inside": inside,
                        "not_modelled": NOT_MODELLED})
    if not rows:
        raise ValueError(f"{out}: runs.csv: expected at least one finished run with its benchmark, found none")
    write_csv_atomic(out / "validation.csv", COLUMNS, rows)
    write_csv_atomic(out / "bench_validation.csv", ("cluster", "op", "bytes", "measured_s", "predicted_s", "error_pct"),
                     checks)
    figure(rows, out)
    errs = [abs(float(r["iteration_error_pct"])) for r in rows]
    log(f"validation: {len(rows)} configurations, iteration |error| mean {statistics.mean(errs):.1f} %, worst "
        f"{max(errs):.1f} %; benchmark held-back sizes |error| mean "
        f"{statistics.mean(abs(c['error_pct']) for c in checks):.1f} % ({out / 'validation.csv'})" if checks else "")
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
