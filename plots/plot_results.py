#!/usr/bin/python3
"""Paper-ready figures from an arcsim results directory (what `arcsim sweep` wrote).

    /usr/bin/python3 plots/plot_results.py RESULTS_DIR [--out DIR]

Reads RESULTS_DIR/results.csv, the per-seed curves and shapes in results.json, and (when present)
RESULTS_DIR/breakeven.csv from `arcsim breakeven`, and writes, as PDF + PNG:
  speedup_vs_nodes      speedup over dense vs node count (95 % intervals), one panel per bandwidth
  speedup_vs_bandwidth  speedup over dense vs bandwidth (log axis), one panel per node count;
                        break-even crossings marked
  iteration_breakdown   stacked compute / compression / exposed communication per iteration
  accuracy_vs_time      target metric vs predicted wall-clock, mean over seeds with a seed band
  accuracy_vs_bytes     target metric vs bytes one node has sent (bytes per iteration x steps, as
                        simulated; --traffic authors: the authors' global bits), a mark at the target
  tta_vs_nodes          predicted time to accuracy with 95 % intervals (points on a log axis)
The last three need convergence: without it they are not drawn and figures.txt says so.
Interpolated or extrapolated TTAs (across N) are hollow markers. Every figure has a one-line
footer: profile, latency, topology, kernel timing, compute source, seeds. figures.txt lists every
figure and any bandwidth or node count it leaves out. When the sweep has several (topology,
profile, latency) combinations, each figure is written once per combination with a suffix
"--<topology>-<profile>-<latency>us". Prints the files it wrote.
"""
import argparse
import csv
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402
from style import plt  # noqa: E402

NUMERIC = ["point", "ratio", "nodes", "bandwidth_gbps", "latency_us", "iteration_s", "compute_s",
           "compression_s", "exposed_comm_s", "comm_s", "bytes_per_node", "bits_per_step_authors",
           "bytes_per_node_to_target", "bits_to_target_authors", "steps_to_target", "steps_to_target_sd",
           "seeds", "tta_s", "tta_s_lo", "tta_s_hi", "speedup_vs_dense", "speedup_vs_dense_lo", "speedup_vs_dense_hi",
           "speedup_vs_topk", "speedup_vs_topk_lo", "speedup_vs_topk_hi", "iteration_speedup_vs_dense",
           "iteration_speedup_vs_topk", "convergence_nodes"]
MAX_PANELS = 4
MARKED = [0]  # break-even crossings drawn by the current figure
LABEL_COLOUR = {}  # label -> colour, set by configs()


def fail(msg):
    print(f"plot_results.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def load(results_dir):
    path = os.path.join(results_dir, "results.csv")
    if not os.path.exists(path):
        fail(f"{path}: no such file (run `arcsim sweep` first)")
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            for k in NUMERIC:
                if k in r:
                    try:
                        r[k] = float(r[k]) if r[k] != "" else None
                    except ValueError:
                        fail(f"{path}: {k}: expected a number, got {r[k]!r}")
            rows.append(r)
    points, target = {}, None
    jpath = os.path.join(results_dir, "results.json")
    if os.path.exists(jpath):
        with open(jpath) as f:
            doc = json.load(f)
        for p in doc.get("points", []):
            points[int(p["point"])] = p
        target = doc.get("provenance", {}).get("target")
    for r in rows:
        p = points.get(int(r["point"]), {})
        est = p.get("convergence_estimate")
        if est is None:  # a CSV without results.json: the note says it
            note = r.get("tta_note") or ""
            est = "interpolated" if note.startswith("interpolated") else (
                "extrapolated" if note.startswith("extrapolated") or "nearest recorded" in note else "recorded")
        r["estimate"] = est
        r["shapes"] = p.get("shapes", [])
        r["ef21_init"] = p.get("ef21_init_authors")
        curves = p.get("seed_curves")
        if not curves and p.get("curve"):
            curves = [{"seed": 0, "points": [c + [c[2]] for c in p["curve"]]}]
        r["curves"] = curves or []
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        fail(f"{path}: no finished point to plot")
    return ok, target, load_breakeven(results_dir)


def load_breakeven(results_dir):
    path = os.path.join(results_dir, "breakeven.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    axis = next((k[len("breakeven_"):] for k in (rows[0].keys() if rows else []) if k.startswith("breakeven_")), None)
    if axis is None:
        return None
    out = []
    for r in rows:
        v = r.get("breakeven_" + axis, "")
        if v == "":
            continue
        r["value"] = float(v)
        for k in ("nodes", "bandwidth_gbps"):
            if k in r and r[k] != "":
                r[k] = float(r[k])
        out.append(r)
    return {"axis": axis, "rows": out}


def fmt_bw(gbps):
    return f"{gbps:g} Gbit/s"


def configs(rows):
    """(label, compressor, linestyle) in first-appearance order. A configuration's colour is its
    compressor's, shaded by its ratio (style.shade: the same in every figure); the n-th config of
    one compressor gets the n-th line style, and two configs at the same ratio also differ in shade
    (style.variant), so bars stay apart too."""
    out, seen, per, same_ratio = [], set(), {}, {}
    for r in sorted(rows, key=lambda r: r["point"]):
        if r["label"] in seen:
            continue
        seen.add(r["label"])
        comp = r["compressor"]
        n = per.get(comp, 0)
        per[comp] = n + 1
        ratio = None if comp == "dense" else r.get("ratio")
        m = same_ratio.get((comp, ratio), 0)
        same_ratio[(comp, ratio)] = m + 1
        LABEL_COLOUR[r["label"]] = style.variant(style.shade(style.colour(comp), ratio), m)
        out.append((r["label"], comp, style.LINESTYLES[n % len(style.LINESTYLES)]))
    return out


def colour(comp, label):
    """The configuration's colour: its compressor's, shaded for the second and later configurations."""
    return LABEL_COLOUR.get(label, style.colour(comp))


def has_tta(rows):
    return any(r["tta_s"] is not None for r in rows)


def speedup_columns(rows):
    """(value, lo, hi, y label, metric): TTA speedups when the trace gave any, else per-iteration."""
    if any(r["speedup_vs_dense"] is not None for r in rows):
        return ("speedup_vs_dense", "speedup_vs_dense_lo", "speedup_vs_dense_hi",
                "speedup over dense\n(time to accuracy)", "tta")
    return "iteration_speedup_vs_dense", None, None, "speedup over dense\n(iteration time)", "iteration"


def pick(values, at_most=MAX_PANELS):
    """At most `at_most` values spread over the sorted list (first and last always kept)."""
    values = sorted(values)
    if len(values) <= at_most:
        return values
    idx = sorted({round(i * (len(values) - 1) / (at_most - 1)) for i in range(at_most)})
    return [values[i] for i in idx]


def omitted(all_values, shown, what, fmt):
    left = [v for v in sorted(all_values) if v not in shown]
    if not left:
        return ""
    return f"{what} not drawn as panels: " + ", ".join(fmt(v) for v in left)


def short_compute(src):
    if not src:
        return "?"
    if src.startswith("model:"):
        return src.split(" ")[0] + " roofline"
    if src.startswith("trace (") and src.endswith(")"):
        inner = src[len("trace ("):-1].split(",")[0].split(" (")[0].strip()
        return f"trace ({inner})"
    return src.split(" (")[0]


def footer_text(rows):
    def one(key, fmt=str):
        vals = sorted({fmt(r[key]) for r in rows if r.get(key) not in (None, "")})
        return "/".join(vals) if vals else "?"
    seeds = sorted({int(r["seeds"]) for r in rows if r.get("seeds")})
    seed_txt = ("seeds " + (f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}")) if seeds else "no TTA"
    return (f"{one('profile')} profile, {one('latency_us', lambda v: f'{v:g} us')}, {one('topology')}, "
            f"kernels {one('kernel_timing')}, compute {one('compute_source', short_compute)}, {seed_txt}")


def finish(fig, axes, rows, extra=None, handles=None):
    """Legend (distinct entries) above a one-line footer, under the panels."""
    if handles is None:
        handles, labels = [], []
        for a in axes:
            for h, l in zip(*a.get_legend_handles_labels()):
                if l not in labels and not l.startswith("_"):
                    handles.append(h)
                    labels.append(l)
    ncol = min(3, len(handles)) if handles else 1
    legend_rows = (len(handles) + ncol - 1) // ncol if handles else 0
    height = fig.get_figheight()
    foot_h = 0.16 / height
    extra_h = (0.13 / height) if extra else 0
    leg_h = (0.15 * legend_rows + 0.05) / height if handles else 0
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False,
                   bbox_to_anchor=(0.5, foot_h + extra_h - 0.01), handlelength=2.2, columnspacing=1.0)
    if extra:
        fig.text(0.5, foot_h, extra, ha="center", va="bottom", fontsize=5, color="#555555")
    fig.text(0.5, 0.0, footer_text(rows), ha="center", va="bottom", fontsize=4.8, color="#555555")
    fig.tight_layout(rect=(0, foot_h + extra_h + leg_h, 1, 1), h_pad=0.6, w_pad=0.6)


def log2_nodes_axis(ax, nodes):
    ax.set_xscale("log", base=2)
    ax.set_xticks(nodes)
    ax.set_xticklabels([f"{int(n)}" for n in nodes])
    ax.minorticks_off()


def bandwidth_axis(ax, bws):
    """Log axis readable for any number of bandwidths: the values themselves when few, decades else."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    ax.set_xscale("log")
    lo, hi = min(bws), max(bws)
    if len(bws) <= 4:
        ax.set_xticks(bws)
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=12))
        ax.xaxis.set_minor_locator(LogLocator(base=10, subs=range(2, 10), numticks=12))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(lo / 1.35, hi * 1.35)


def readable_log(axis):
    """Log-axis labels in plain numbers (0.2, 0.5, 1, 2, ...), not powers of ten, as many as a
    one-column panel holds: 1-2-5 steps over less than a decade, 1-3 over up to two, else decades.
    Call it after the data are drawn (it reads the axis range)."""
    import math
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    ax = axis.axes
    lo, hi = sorted(ax.get_xlim() if axis is ax.xaxis else ax.get_ylim())  # triggers autoscaling
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 1.0
    subs = (1.0, 2.0, 5.0) if decades <= 1.0 else (1.0, 3.0) if decades <= 2.0 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=15))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def draw_series(ax, xs, ys, los, his, comp, ls, label, estimates, c=None):
    """A line with 95 % error bars; points estimated across N are hollow."""
    c = c or style.colour(comp)
    ax.plot(xs, ys, ls, color=c, lw=1.0, label=label, zorder=2)
    for x, y, lo, hi, est in zip(xs, ys, los, his, estimates):
        if lo is not None and hi is not None:
            ax.errorbar([x], [y], yerr=[[max(0.0, y - lo)], [max(0.0, hi - y)]], fmt="none", ecolor=c,
                        elinewidth=0.7, capsize=1.6, zorder=3)
        hollow = est in ("interpolated", "extrapolated")
        ax.plot([x], [y], style.marker(comp), color=c, markerfacecolor="white" if hollow else c,
                markeredgewidth=0.8, zorder=4)


def across_n_handles(rows):
    from matplotlib.lines import Line2D
    if not any(r["estimate"] in ("interpolated", "extrapolated") for r in rows if r["tta_s"] is not None):
        return []
    return [Line2D([], [], marker="o", ls="none", color="#444444", markerfacecolor="white",
                   label="hollow: TTA estimated across N")]


def legend_handles(axes, rows, extra=(), markers=True):
    """One entry per configuration drawn (colour, dash and marker as in the panels), then the
    marks' meanings."""
    from matplotlib.lines import Line2D
    drawn = set()
    for a in axes:
        drawn.update(l for l in a.get_legend_handles_labels()[1])
    handles = [Line2D([], [], ls=ls, color=colour(comp, label), marker=style.marker(comp) if markers else None,
                      label=style.display(comp, label))
               for label, comp, ls in configs(rows) if style.display(comp, label) in drawn]
    return handles + (across_n_handles(rows) if markers else []) + list(extra)


# The two speed-up figures are one figure with the axes swapped: x is one of (nodes, bandwidth),
# one panel per value of the other; break-even marks are drawn where breakeven.csv's axis is x.
AXES = {
    "nodes": {"col": "nodes", "breakeven": "nodes", "xlabel": "nodes", "draw": log2_nodes_axis,
              "title": lambda v: f"{int(v)} nodes", "omitted": ("node counts", lambda v: f"{int(v)}")},
    "bandwidth": {"col": "bandwidth_gbps", "breakeven": "bandwidth", "xlabel": "bandwidth (Gbit/s)",
                  "draw": bandwidth_axis, "title": fmt_bw, "omitted": ("bandwidths", fmt_bw)},
}


def fig_speedup_over(x, rows, stem, breakeven):
    """Speed-up against x ("nodes" or "bandwidth"), one panel per value of the other axis."""
    xa, pa = AXES[x], AXES["bandwidth" if x == "nodes" else "nodes"]
    col, lo_c, hi_c, ylabel, metric = speedup_columns(rows)
    xs = sorted({r[xa["col"]] for r in rows})
    all_panels = sorted({r[pa["col"]] for r in rows})
    panels = pick(all_panels)
    fig, axes = style.grid(len(panels))
    extra = []
    for ax, v in zip(axes, panels):
        for label, comp, ls in configs(rows):
            pts = sorted((r[xa["col"]], r[col], r.get(lo_c) if lo_c else None, r.get(hi_c) if hi_c else None,
                          r["estimate"] if metric == "tta" else "recorded")
                         for r in rows if r["label"] == label and r[pa["col"]] == v and r[col] is not None)
            if pts:
                draw_series(ax, [p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts],
                            [p[3] for p in pts], comp, ls, style.display(comp, label), [p[4] for p in pts],
                            colour(comp, label))
        if breakeven and breakeven["axis"] == xa["breakeven"]:
            extra = mark_crossings(ax, breakeven, metric, lambda r, v=v: r.get(pa["col"]) == v, rows) or extra
        ax.axhline(1.0, color="#999999", lw=0.6, zorder=0)
        xa["draw"](ax, xs)
        ax.set_title(pa["title"](v))
        ax.set_xlabel(xa["xlabel"])
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    what, fmt = pa["omitted"]
    note = omitted(all_panels, panels, what, fmt)
    finish(fig, axes, rows, note, legend_handles(axes, rows, extra))
    return style.save(fig, stem), note


def same_group(r, rows):
    """A breakeven.csv row belongs to the figure's (topology, profile, latency)."""
    g = rows[0]
    try:
        lat = float(r.get("latency_us", "nan"))
    except ValueError:
        return False
    return r.get("topology") == g["topology"] and r.get("profile") == g["profile"] and lat == g["latency_us"]


def mark_crossings(ax, breakeven, metric, select, rows):
    """Break-even points from breakeven.csv at speedup 1, in each compressor's colour."""
    from matplotlib.lines import Line2D
    drawn = 0
    labels = {r["label"] for r in rows}
    for r in breakeven["rows"]:
        if r["metric"] != metric or not select(r) or not same_group(r, rows) or r["label"] not in labels:
            continue
        c = colour(r["compressor"], r["label"])
        ax.axvline(r["value"], color=c, lw=0.6, ls=(0, (1, 1.5)), zorder=1)
        ax.plot([r["value"]], [1.0], marker="X", color=c, markersize=4.5, markeredgecolor="white",
                markeredgewidth=0.5, zorder=5)
        drawn += 1
    MARKED[0] += drawn
    if not drawn:
        return []
    return [Line2D([], [], marker="X", ls=(0, (1, 1.5)), color="#444444", markersize=4.5,
                   label=f"break-even ({'TTA' if metric == 'tta' else 'iteration'}, bisection)")]


def time_unit(seconds):
    """A readable unit for a set of times: (divisor, name)."""
    if seconds < 1e-3:
        return 1e-6, "us"
    if seconds < 1:
        return 1e-3, "ms"
    return 1.0, "s"


PARTS = [("compute_s", 0.30, None, "compute (pale)"),
         ("compression_s", 0.30, "//////", "compression kernels (hatched)"),
         ("exposed_comm_s", 1.0, None, "exposed comm. (full colour)")]


def fig_breakdown(rows, stem):
    from matplotlib.patches import Patch
    all_bws = sorted({r["bandwidth_gbps"] for r in rows})
    bws = pick(all_bws)
    nodes = sorted({r["nodes"] for r in rows})
    cfgs = configs(rows)
    peak = max(r["iteration_s"] for r in rows)
    div, unit = time_unit(peak)
    fig, axes = style.grid(len(bws))
    width = 0.8 / max(1, len(cfgs))
    for ax, bw in zip(axes, bws):
        for ci, (label, comp, _) in enumerate(cfgs):
            for ni, n in enumerate(nodes):
                match = [r for r in rows if r["label"] == label and r["nodes"] == n and r["bandwidth_gbps"] == bw]
                if not match:
                    continue
                r = match[0]
                x = ni + (ci - (len(cfgs) - 1) / 2) * width
                bottom = 0.0
                for key, alpha, hatch, _ in PARTS:
                    h = max(0.0, r[key] or 0.0) / div
                    ax.bar(x, h, width * 0.92, bottom=bottom, color=colour(comp, label), alpha=alpha, linewidth=0)
                    if hatch and h > 0:  # the hatch drawn opaque over the pale fill, so it stays visible
                        ax.bar(x, h, width * 0.92, bottom=bottom, facecolor="none", hatch=hatch,
                               edgecolor=colour(comp, label), linewidth=0)
                    bottom += h
        ax.set_xticks(range(len(nodes)))
        ax.set_xticklabels([f"{int(n)}" for n in nodes])
        ax.grid(axis="x", visible=False)
        ax.set_title(fmt_bw(bw))
        ax.set_xlabel("nodes")
        ax.set_ylabel(f"iteration time ({unit})")
    comp_handles = [Patch(color=colour(c, l), label=style.display(c, l)) for l, c, _ in cfgs]
    # Parts in a neutral hue that no compressor uses, so "exposed comm." is not read as Dense.
    part_handles = [Patch(facecolor="#8a6d3b", alpha=a, label=name) if not h else
                    Patch(facecolor="#e8e0d0", hatch=h, edgecolor="#8a6d3b", linewidth=0, label=name)
                    for _, a, h, name in PARTS]
    note = omitted(all_bws, bws, "bandwidths", fmt_bw)
    finish(fig, axes, rows, note, comp_handles + part_handles)
    return style.save(fig, stem), note


def metric_name(target):
    m = (target or {}).get("metric", "accuracy")
    return m, ("test accuracy (%)" if m == "accuracy" else m)


def metric_value(target, v):
    if v is None:
        return None
    return 100 * v if metric_name(target)[0] == "accuracy" else v


def seed_band(curves, target, xkey):
    """(x, mean, lo, hi) over seeds at the steps every seed evaluated; x from xkey(step, wall)."""
    per_step = {}
    for c in curves:
        for p in c["points"]:
            v = p[4] if len(p) > 4 else p[2]
            if v is None:
                continue
            per_step.setdefault(p[0], []).append((p[1], metric_value(target, v)))
    n = len(curves)
    out = []
    for step in sorted(per_step):
        vals = per_step[step]
        if len(vals) < n:
            continue
        x = xkey(step, vals[0][0])
        if x is None or x <= 0:
            continue
        ys = [v for _, v in vals]
        out.append((x, sum(ys) / len(ys), min(ys), max(ys)))
    return out


def tta_figure_rows(rows):
    return [r for r in rows if r["curves"]]


def fig_accuracy_vs_time(rows, stem, target):
    with_curve = tta_figure_rows(rows)
    all_bws = sorted({r["bandwidth_gbps"] for r in with_curve})
    bws = pick(all_bws)
    n_plot = max(r["nodes"] for r in with_curve)
    _, ylabel = metric_name(target)
    fig, axes = style.grid(len(bws))
    for ax, bw in zip(axes, bws):
        for label, comp, ls in configs(rows):
            match = [r for r in with_curve if r["label"] == label and r["nodes"] == n_plot and r["bandwidth_gbps"] == bw]
            if not match:
                continue
            r = match[0]
            band = seed_band(r["curves"], target, lambda step, wall: wall)
            if not band:
                continue
            c = colour(comp, label)
            xs = [b[0] for b in band]
            ax.plot(xs, [b[1] for b in band], ls, color=c, label=style.display(comp, label))
            if len(r["curves"]) > 1:
                ax.fill_between(xs, [b[2] for b in band], [b[3] for b in band], color=c, alpha=0.18, linewidth=0)
            if r["tta_s"] is not None:
                ax.axvline(r["tta_s"], color=c, lw=0.6, ls=":", zorder=0)
        if target:
            ax.axhline(metric_value(target, target["value"]), color="#999999", lw=0.6, ls="--", zorder=0)
        ax.set_xscale("log")
        readable_log(ax.xaxis)
        ax.set_title(f"{fmt_bw(bw)}, {int(n_plot)} nodes")
        ax.set_xlabel("predicted wall-clock (s)")
        ax.set_ylabel(ylabel)
    note = omitted(all_bws, bws, "bandwidths", fmt_bw)
    seeds = max(len(r["curves"]) for r in with_curve)
    band_note = f"line: mean of {seeds} seeds, band: their range; dotted: TTA" if seeds > 1 else "one seed; dotted: TTA"
    finish(fig, axes, rows, "; ".join(x for x in (band_note, note) if x), legend_handles(axes, rows, markers=False))
    return style.save(fig, stem), note


def cumulative_traffic(row, step, traffic):
    """What the run has sent after `step` steps, from its shapes' per-step amounts (each shape for
    its own steps, as the TTA): GB one node sent as simulated, or, with traffic "authors", Gbit of
    all ranks in the authors' convention, EF21's dense start counted as their hooks count it."""
    total = 0.0
    key = "bits_per_step_authors" if traffic == "authors" else None
    for s in row["shapes"]:
        first, last = s["first_step"], s["last_step"]
        if step < first:
            continue
        per = s.get(key) if key else s["iteration"]["bytes_per_node"]
        if per is None:
            return None
        end = step if last < 0 else min(last, step)
        total += (end - first + 1) * per
        init = row.get("ef21_init") if key else None
        if init and first <= init["step"] <= end:
            total += init["bits"] - per
    return total / 1e9


def traffic_ratio_note(rows, nodes):
    """What the authors' convention would show next to the simulated bytes: their global bits of a
    steady step over 8 x N x the bytes one node sent (1 for ring collectives)."""
    q = [r["bits_per_step_authors"] / (8 * r["nodes"] * r["bytes_per_node"]) for r in rows
         if r["nodes"] in nodes and r.get("bits_per_step_authors") and r.get("bytes_per_node")]
    if not q:
        return ""
    lo, hi = min(q), max(q)
    span = f"{lo:.2f}" if abs(hi - lo) < 0.005 else f"{lo:.2f}-{hi:.2f}"
    return f"authors' convention: 8N x {span} x these bytes (--traffic authors)"


def fig_accuracy_vs_bytes(rows, stem, target, traffic="simulated"):
    with_curve = [r for r in tta_figure_rows(rows) if r["shapes"]]
    all_nodes = sorted({r["nodes"] for r in with_curve})
    nodes = pick(all_nodes)
    bw = min(r["bandwidth_gbps"] for r in with_curve)  # bytes do not depend on the bandwidth
    _, ylabel = metric_name(target)
    to_target = "bits_to_target_authors" if traffic == "authors" else "bytes_per_node_to_target"
    fig, axes = style.grid(len(nodes))
    for ax, n in zip(axes, nodes):
        for label, comp, ls in configs(rows):
            match = [r for r in with_curve if r["label"] == label and r["nodes"] == n and r["bandwidth_gbps"] == bw]
            if not match:
                continue
            r = match[0]
            band = seed_band(r["curves"], target, lambda step, wall, r=r: cumulative_traffic(r, step, traffic))
            if not band:
                continue
            c = colour(comp, label)
            xs = [b[0] for b in band]
            ax.plot(xs, [b[1] for b in band], ls, color=c, label=style.display(comp, label))
            if len(r["curves"]) > 1:
                ax.fill_between(xs, [b[2] for b in band], [b[3] for b in band], color=c, alpha=0.18, linewidth=0)
            if target and r.get(to_target):
                ax.plot([r[to_target] / 1e9], [metric_value(target, target["value"])], style.marker(comp), color=c,
                        markeredgewidth=0.8, zorder=4)
        if target:
            ax.axhline(metric_value(target, target["value"]), color="#999999", lw=0.6, ls="--", zorder=0)
        ax.set_xscale("log")
        readable_log(ax.xaxis)
        ax.set_title(f"{int(n)} nodes")
        ax.set_xlabel("Gbit, all ranks (authors)" if traffic == "authors" else "GB sent per node")
        ax.set_ylabel(ylabel)
    note = omitted(all_nodes, nodes, "node counts", lambda v: f"{int(v)}")
    marks = "marker: mean over seeds at the target"
    other = "" if traffic == "authors" else traffic_ratio_note(with_curve, nodes)
    finish(fig, axes, rows, "; ".join(x for x in ("band: seed range", marks, note, other) if x),
           legend_handles(axes, rows, markers=False))
    if other:  # figures.txt says it in full
        note = "; ".join(x for x in (note, other.replace("authors' convention:", "the authors' convention (global "
                                     "bits of all ranks, 2(N-1)b per all-reduce, N(N-1)b per all-gather) counts"))
                         if x)
    return style.save(fig, stem), note


def fig_tta_vs_nodes(rows, stem):
    all_bws = sorted({r["bandwidth_gbps"] for r in rows})
    bws = pick(all_bws)
    nodes = sorted({r["nodes"] for r in rows})
    cfgs = configs(rows)
    have = [r["tta_s"] for r in rows if r["tta_s"] is not None]
    div, unit = (3600.0, "h") if max(have) > 3 * 3600 else ((60.0, "min") if max(have) > 180 else (1.0, "s"))
    fig, axes = style.grid(len(bws))
    spread = 0.09
    for ax, bw in zip(axes, bws):
        for ci, (label, comp, ls) in enumerate(cfgs):
            pts = []
            for r in rows:
                if r["label"] != label or r["bandwidth_gbps"] != bw or r["tta_s"] is None:
                    continue
                shift = 2 ** ((ci - (len(cfgs) - 1) / 2) * spread)  # side by side on the log2 axis
                pts.append((r["nodes"] * shift, r["tta_s"] / div,
                            None if r["tta_s_lo"] is None else r["tta_s_lo"] / div,
                            None if r["tta_s_hi"] is None else r["tta_s_hi"] / div, r["estimate"]))
            pts.sort()
            if pts:
                draw_series(ax, [p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts], [p[3] for p in pts],
                            comp, ls, style.display(comp, label), [p[4] for p in pts], colour(comp, label))
        ax.set_yscale("log")
        readable_log(ax.yaxis)
        log2_nodes_axis(ax, nodes)
        ax.set_title(fmt_bw(bw))
        ax.set_xlabel("nodes")
        ax.set_ylabel(f"time to accuracy ({unit})")
    note = omitted(all_bws, bws, "bandwidths", fmt_bw)
    finish(fig, axes, rows, "; ".join(x for x in ("error bars: 95 % t-interval over seeds", note) if x),
           legend_handles(axes, rows))
    return style.save(fig, stem), note


def groups(rows):
    keys = []
    for r in sorted(rows, key=lambda r: r["point"]):
        k = (r["topology"], r["profile"], r["latency_us"])
        if k not in keys:
            keys.append(k)
    return keys


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results_dir")
    ap.add_argument("--out", help="where to write the figures (default: RESULTS_DIR)")
    ap.add_argument("--traffic", choices=["simulated", "authors"], default="simulated",
                    help="x axis of accuracy_vs_bytes: GB one node sent as simulated (default), or Gbit of "
                         "all ranks in the ARC-Top-K authors' convention")
    args = ap.parse_args(argv)
    rows, target, breakeven = load(args.results_dir)
    if args.traffic == "authors" and not any(r.get("bits_per_step_authors") for r in rows):
        fail(f"{os.path.join(args.results_dir, 'results.csv')}: bits_per_step_authors: no values (results of an "
             "older arcsim?); re-run arcsim sweep, or plot with --traffic simulated")
    out = args.out or args.results_dir
    os.makedirs(out, exist_ok=True)
    style.apply()
    written, lines = [], []
    keys = groups(rows)
    for key in keys:
        sub = [r for r in rows if (r["topology"], r["profile"], r["latency_us"]) == key]
        suffix = "" if len(keys) == 1 else f"--{key[0]}-{key[1]}-{key[2]:g}us"
        p = lambda name: os.path.join(out, name + suffix)  # noqa: E731
        figs = [("speedup_vs_nodes", lambda s: fig_speedup_over("nodes", sub, s, breakeven)),
                ("speedup_vs_bandwidth", lambda s: fig_speedup_over("bandwidth", sub, s, breakeven)),
                ("iteration_breakdown", lambda s: fig_breakdown(sub, s))]
        lines.append(f"footer{suffix}: {footer_text(sub)}")
        conv = has_tta(sub) and tta_figure_rows(sub)
        if conv:
            figs += [("accuracy_vs_time", lambda s: fig_accuracy_vs_time(sub, s, target)),
                     ("accuracy_vs_bytes", lambda s: fig_accuracy_vs_bytes(sub, s, target, args.traffic)),
                     ("tta_vs_nodes", lambda s: fig_tta_vs_nodes(sub, s))]
        for name, draw in figs:
            MARKED[0] = 0
            files, note = draw(p(name))
            if MARKED[0]:
                note = "; ".join(x for x in (note, f"{MARKED[0]} break-even crossing(s) from breakeven.csv marked") if x)
            written += files
            lines.append(f"{name}{suffix}: drawn" + (f"; {note}" if note else ""))
        if not conv:
            lines.append(f"accuracy_vs_time{suffix}, accuracy_vs_bytes{suffix}, tta_vs_nodes{suffix}: not drawn: "
                         "no time to accuracy in these results (the trace has no convergence log that reaches the "
                         "target for them); speedups are per iteration")
            print("plot_results.py: note: " + lines[-1], file=sys.stderr)
    tmp = os.path.join(out, ".figures.txt.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(out, "figures.txt"))
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
