#!/usr/bin/python3
"""Paper-ready figures from an arcsim results directory (what `arcsim sweep` wrote).

    /usr/bin/python3 plots/plot_results.py RESULTS_DIR [--out DIR]

Reads RESULTS_DIR/results.csv (and the accuracy curves in results.json) and writes, as PDF + PNG:
  speedup_vs_nodes      speedup over dense vs node count, one line per compressor, one panel per bandwidth
  speedup_vs_bandwidth  speedup over dense vs bandwidth, one panel per node count
  iteration_breakdown   stacked compute / compression / exposed communication per iteration
  accuracy_vs_time      test accuracy vs predicted wall-clock, one panel per bandwidth
  tta_bars              predicted time to accuracy, one group of bars per node count
When the sweep has several (topology, profile, latency) combinations, each figure is written once
per combination with a suffix "--<topology>-<profile>-<latency>us". Prints the files it wrote.
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
           "compression_s", "exposed_comm_s", "comm_s", "bytes_per_node", "steps_to_target", "tta_s",
           "speedup_vs_dense", "speedup_vs_topk", "iteration_speedup_vs_dense", "iteration_speedup_vs_topk"]


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
                    r[k] = float(r[k]) if r[k] != "" else None
            rows.append(r)
    curves, target = {}, None
    jpath = os.path.join(results_dir, "results.json")
    if os.path.exists(jpath):
        with open(jpath) as f:
            doc = json.load(f)
        for p in doc.get("points", []):
            curves[int(p["point"])] = p.get("curve", [])
        target = doc.get("provenance", {}).get("target")
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        fail(f"{path}: no finished point to plot")
    return ok, curves, target


def fmt_bw(gbps):
    return f"{gbps:g} Gbit/s"


def configs(rows):
    """(label, compressor, linestyle) in first-appearance order; the n-th config of one compressor gets
    the n-th line style, so two Top-K ratios share Top-K's colour but not its dash."""
    out, seen, per = [], set(), {}
    for r in sorted(rows, key=lambda r: r["point"]):
        if r["label"] in seen:
            continue
        seen.add(r["label"])
        n = per.get(r["compressor"], 0)
        per[r["compressor"]] = n + 1
        out.append((r["label"], r["compressor"], style.LINESTYLES[n % len(style.LINESTYLES)]))
    return out


def speedup_column(rows):
    """Time-to-accuracy speedups when the trace gave any, else per-iteration speedups."""
    if any(r["speedup_vs_dense"] is not None for r in rows):
        return "speedup_vs_dense", "speedup over dense\n(time to accuracy)"
    return "iteration_speedup_vs_dense", "speedup over dense\n(iteration time)"


def legend_below(fig, axes):
    handles, labels = [], []
    for a in axes:
        for h, l in zip(*a.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.tight_layout(rect=(0, 0.09 if len(labels) <= 4 else 0.14, 1, 1))
    else:
        fig.tight_layout()


def log2_nodes_axis(ax, nodes):
    ax.set_xscale("log", base=2)
    ax.set_xticks(nodes)
    ax.set_xticklabels([f"{int(n)}" for n in nodes])
    ax.minorticks_off()


def fig_speedup_vs_nodes(rows, stem):
    col, ylabel = speedup_column(rows)
    bws = sorted({r["bandwidth_gbps"] for r in rows})
    nodes = sorted({r["nodes"] for r in rows})
    fig, axes = style.grid(len(bws))
    for ax, bw in zip(axes, bws):
        for label, comp, ls in configs(rows):
            pts = sorted((r["nodes"], r[col]) for r in rows
                         if r["label"] == label and r["bandwidth_gbps"] == bw and r[col] is not None)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], ls, color=style.colour(comp),
                        marker=style.marker(comp), label=style.display(comp, label))
        ax.axhline(1.0, color="#999999", lw=0.6, zorder=0)
        log2_nodes_axis(ax, nodes)
        ax.set_title(fmt_bw(bw))
        ax.set_xlabel("nodes")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    legend_below(fig, axes)
    return style.save(fig, stem)


def fig_speedup_vs_bandwidth(rows, stem):
    col, ylabel = speedup_column(rows)
    bws = sorted({r["bandwidth_gbps"] for r in rows})
    nodes = sorted({r["nodes"] for r in rows})
    fig, axes = style.grid(len(nodes))
    for ax, n in zip(axes, nodes):
        for label, comp, ls in configs(rows):
            pts = sorted((r["bandwidth_gbps"], r[col]) for r in rows
                         if r["label"] == label and r["nodes"] == n and r[col] is not None)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], ls, color=style.colour(comp),
                        marker=style.marker(comp), label=style.display(comp, label))
        ax.axhline(1.0, color="#999999", lw=0.6, zorder=0)
        ax.set_xscale("log")
        ax.set_xticks(bws)
        ax.set_xticklabels([f"{b:g}" for b in bws])
        ax.minorticks_off()
        ax.set_title(f"{int(n)} nodes")
        ax.set_xlabel("bandwidth (Gbit/s)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    legend_below(fig, axes)
    return style.save(fig, stem)


def pick(values, at_most=4):
    """At most `at_most` values spread over the sorted list (first and last always kept)."""
    values = sorted(values)
    if len(values) <= at_most:
        return values
    idx = sorted({round(i * (len(values) - 1) / (at_most - 1)) for i in range(at_most)})
    return [values[i] for i in idx]


def time_unit(seconds):
    """A readable unit for a set of times: (divisor, name)."""
    if seconds < 1e-3:
        return 1e-6, "us"
    if seconds < 1:
        return 1e-3, "ms"
    return 1.0, "s"


def fig_breakdown(rows, stem):
    from matplotlib.patches import Patch
    bws = pick({r["bandwidth_gbps"] for r in rows})
    nodes = sorted({r["nodes"] for r in rows})
    cfgs = configs(rows)
    peak = max(r["iteration_s"] for r in rows)
    div, unit = time_unit(peak)
    fig, axes = style.grid(len(bws))
    width = 0.8 / max(1, len(cfgs))
    parts = [("compute_s", 0.35, None, "compute"), ("compression_s", 0.65, "////", "compression kernels"),
             ("exposed_comm_s", 1.0, None, "exposed comm.")]
    for ax, bw in zip(axes, bws):
        for ci, (label, comp, _) in enumerate(cfgs):
            for ni, n in enumerate(nodes):
                match = [r for r in rows if r["label"] == label and r["nodes"] == n and r["bandwidth_gbps"] == bw]
                if not match:
                    continue
                r = match[0]
                x = ni + (ci - (len(cfgs) - 1) / 2) * width
                bottom = 0.0
                for key, alpha, hatch, _ in parts:
                    h = max(0.0, r[key] or 0.0) / div
                    ax.bar(x, h, width * 0.92, bottom=bottom, color=style.colour(comp), alpha=alpha,
                           hatch=hatch, edgecolor="white" if hatch else "none", linewidth=0)
                    bottom += h
        ax.set_xticks(range(len(nodes)))
        ax.set_xticklabels([f"{int(n)}" for n in nodes])
        ax.grid(axis="x", visible=False)
        ax.set_title(fmt_bw(bw))
        ax.set_xlabel("nodes")
        ax.set_ylabel(f"iteration time ({unit})")
    # Two legend rows: colours name the compressors, shades name the parts of the bar.
    comp_handles = [Patch(color=style.colour(c), label=style.display(c, l)) for l, c, _ in cfgs]
    part_handles = [Patch(facecolor="#555555", alpha=a, hatch=h, edgecolor="white", label=name)
                    for _, a, h, name in parts]
    fig.legend(handles=comp_handles, loc="lower center", ncol=min(4, len(comp_handles)), frameon=False,
               bbox_to_anchor=(0.5, 0.045 * ((len(comp_handles) + 3) // 4 - 1) + 0.05))
    fig.legend(handles=part_handles, loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, -0.01))
    fig.tight_layout(rect=(0, 0.06 + 0.06 * ((len(comp_handles) + 3) // 4), 1, 1))
    return style.save(fig, stem)


def fig_accuracy_vs_time(rows, curves, stem, target=None):
    bws = pick({r["bandwidth_gbps"] for r in rows})
    with_curve = [r for r in rows if curves.get(int(r["point"]))]
    fig, axes = style.grid(len(bws))
    if not with_curve:
        for ax in axes:
            ax.text(0.5, 0.5, "no convergence log in the trace", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xlabel("predicted wall-clock (s)")
            ax.set_ylabel("test accuracy (%)")
        fig.tight_layout()
        return style.save(fig, stem)
    n_plot = max(r["nodes"] for r in with_curve)
    for ax, bw in zip(axes, bws):
        for label, comp, ls in configs(rows):
            match = [r for r in with_curve if r["label"] == label and r["nodes"] == n_plot and r["bandwidth_gbps"] == bw]
            if not match:
                continue
            c = curves[int(match[0]["point"])]
            xs = [p[1] for p in c if p[1] > 0]
            ys = [100 * p[2] for p in c if p[1] > 0]
            ax.plot(xs, ys, ls, color=style.colour(comp), label=style.display(comp, label))
            if match[0]["tta_s"] is not None:
                ax.axvline(match[0]["tta_s"], color=style.colour(comp), lw=0.6, ls=":", zorder=0)
        if target and target.get("metric") == "accuracy":
            ax.axhline(100 * target["value"], color="#999999", lw=0.6, ls="--", zorder=0)
        ax.set_xscale("log")
        ax.set_title(f"{fmt_bw(bw)}, {int(n_plot)} nodes")
        ax.set_xlabel("predicted wall-clock (s)")
        ax.set_ylabel("test accuracy (%)")
    legend_below(fig, axes)
    return style.save(fig, stem)


def fig_tta_bars(rows, stem):
    bws = pick({r["bandwidth_gbps"] for r in rows})
    nodes = sorted({r["nodes"] for r in rows})
    cfgs = configs(rows)
    have = [r["tta_s"] for r in rows if r["tta_s"] is not None]
    fig, axes = style.grid(len(bws))
    if not have:
        for ax in axes:
            ax.text(0.5, 0.5, "no time to accuracy:\nno convergence data for these points", ha="center",
                    va="center", transform=ax.transAxes)
            ax.set_xlabel("nodes")
            ax.set_ylabel("time to accuracy (s)")
        fig.tight_layout()
        return style.save(fig, stem)
    div, unit = (3600.0, "h") if max(have) > 3 * 3600 else ((60.0, "min") if max(have) > 180 else (1.0, "s"))
    width = 0.8 / max(1, len(cfgs))
    low = min(have) / div
    for ax, bw in zip(axes, bws):
        for ci, (label, comp, _) in enumerate(cfgs):
            for ni, n in enumerate(nodes):
                match = [r for r in rows if r["label"] == label and r["nodes"] == n and r["bandwidth_gbps"] == bw]
                x = ni + (ci - (len(cfgs) - 1) / 2) * width
                if match and match[0]["tta_s"] is not None:
                    ax.bar(x, match[0]["tta_s"] / div, width * 0.92, color=style.colour(comp),
                           label=style.display(comp, label))
                elif match:
                    ax.text(x, low, "n/a", rotation=90, ha="center", va="bottom", fontsize=5,
                            color=style.colour(comp))
        ax.set_yscale("log")
        ax.set_xticks(range(len(nodes)))
        ax.set_xticklabels([f"{int(n)}" for n in nodes])
        ax.grid(axis="x", visible=False)
        ax.set_title(fmt_bw(bw))
        ax.set_xlabel("nodes")
        ax.set_ylabel(f"time to accuracy ({unit})")
    legend_below(fig, axes)
    return style.save(fig, stem)


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
    args = ap.parse_args(argv)
    rows, curves, target = load(args.results_dir)
    out = args.out or args.results_dir
    os.makedirs(out, exist_ok=True)
    style.apply()
    written = []
    keys = groups(rows)
    for key in keys:
        sub = [r for r in rows if (r["topology"], r["profile"], r["latency_us"]) == key]
        suffix = "" if len(keys) == 1 else f"--{key[0]}-{key[1]}-{key[2]:g}us"
        p = lambda name: os.path.join(out, name + suffix)  # noqa: E731
        written += fig_speedup_vs_nodes(sub, p("speedup_vs_nodes"))
        written += fig_speedup_vs_bandwidth(sub, p("speedup_vs_bandwidth"))
        written += fig_breakdown(sub, p("iteration_breakdown"))
        written += fig_accuracy_vs_time(sub, curves, p("accuracy_vs_time"), target)
        written += fig_tta_bars(sub, p("tta_bars"))
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
