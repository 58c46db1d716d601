#!/usr/bin/env python3
"""Regenerates the tables in the docs that come from data, so none goes stale by hand.

    /usr/bin/python3 docs/tables.py [--arcsim build/arcsim] [--check] [--work DIR] [NAME ...]

A table lives between two marker lines in a Markdown file:

    <!-- arcsim-table NAME -->
    ...generated lines...
    <!-- /arcsim-table -->

NAME is one of TABLES below (no NAME: all). Without --check every named table is rewritten in
place (each file written to a temporary file, then renamed); with --check nothing is written and
the exit status is 1 when a table differs from what the current code and data give (the diff is
printed). tests/python/test_docs_tables.py runs --check on the tables that take seconds.
"""
import argparse
import csv
import difflib
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from compression_quality import write_atomic  # noqa: E402  (temporary file, then rename)
BEGIN, END = "<!-- arcsim-table {} -->", "<!-- /arcsim-table -->"


def fail(msg):
    print(f"docs/tables.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---- the default trace's steps to target (docs/traces.md section 7)

def default_steps(_args):
    path = os.path.join(ROOT, "traces", "default", "trace.json")
    with open(path) as f:
        doc = json.load(f)
    runs = {}  # config -> world -> [(seed, steps or None, best, last step)]
    order = []
    for log in doc["convergence"]:
        cfg, world = log["config"], log["world"]
        if cfg not in runs:
            order.append(cfg)
        pts = [p for p in log["points"] if p.get("accuracy") is not None]
        best = max((p["accuracy"] for p in pts), default=None)
        runs.setdefault(cfg, {}).setdefault(world, []).append(
            (log.get("seed", 1), log.get("steps_to_target"), best, pts[-1]["step"] if pts else 0))
    worlds = sorted({w for c in runs.values() for w in c})
    lines = ["| config | " + " | ".join(f"N = {w}" for w in worlds) + " |", "|---|" + "---|" * len(worlds)]
    for cfg in order:
        cells = []
        for w in worlds:
            rs = sorted(runs[cfg].get(w, []))
            if not rs:
                cells.append("")
                continue
            reached = [s for _, s, _, _ in rs if s is not None]
            if len(rs) == 1:
                _, s, best, last = rs[0]
                cells.append(str(s) if s is not None else f"not reached ({best:.3f} at {last})")
                continue
            text = f"{statistics.median(reached):g} [{min(reached)}-{max(reached)}]" if reached else "none"
            cells.append(f"{text} ({len(reached)}/{len(rs)})")
        lines.append(f"| {cfg} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---- the paper specs' iteration times (docs/traces.md section 9)

def sweep(args, spec_name):
    spec = os.path.join(ROOT, "experiments", spec_name + ".json")
    out = os.path.join(args.work, spec_name)
    r = subprocess.run([args.arcsim, "sweep", spec, "--out", out, "--quiet", "--jobs", str(args.jobs)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"arcsim sweep {spec} failed (exit {r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    with open(spec) as f:
        doc = json.load(f)
    return rows, doc


def label_legend(doc):
    """What each label runs: its shape rule and error feedback (the docs never leave them implied)."""
    parts = []
    entries = [{"name": c} if isinstance(c, str) else c for c in doc["compressors"]]
    names = [c["name"] for c in entries]
    for c in entries:
        # The spec's label rule (experiments/spec.cpp assign_labels): name, or name-ratio when the
        # name appears more than once.
        label = c.get("label", c["name"] if names.count(c["name"]) == 1 or c["name"] == "dense"
                      else f"{c['name']}-{c.get('ratio', 0.2):g}")
        if c["name"] == "dense":
            parts.append(f"`{label}`: dense, implementation {c.get('implementation', 'fused')}")
            continue
        # The reference preset's values where the entry does not override them
        # (kernels/compressor_registry.cpp preset_options).
        ref = c.get("preset") == "reference"
        bits = [f"{c['name']} ratio {c.get('ratio', 0.2):g}", f"EF {c.get('ef', 'none')}"]
        if c["name"] in ("arctopk", "powersgd"):
            bits.append(f"rank {c.get('rank', 4)}")
        if c["name"] == "arctopk" or "shape_rule" in c:
            bits.append(f"shape rule {c.get('shape_rule', 'reference' if ref else 'rows')}")
        warmup = c.get("warmup", 10 if ref else 0)
        if warmup:
            bits.append(f"warm-up {warmup}")
        if c.get("ramp", ref and c["name"] in ("topk", "randk")):
            bits.append("ramp 0.8 -> ratio")
        if ref:
            bits.append("preset reference")
        bits.append(f"implementation {c.get('implementation', 'fused')}")
        parts.append(f"`{label}`: " + ", ".join(bits))
    return "; ".join(parts)


def paper_table(spec_name):
    def make(args):
        rows, doc = sweep(args, spec_name)
        labels = list(dict.fromkeys(r["label"] for r in rows))
        status = sorted({r["status"] for r in rows})
        lines = [f"ms per iteration (`iteration_s`), status {', '.join(status)}. " + label_legend(doc) + ".", "",
                 "| network | N | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
        points = list(dict.fromkeys((float(r["bandwidth_gbps"]), int(r["nodes"])) for r in rows))
        for bw, n in sorted(points):
            cells = []
            at = [r for r in rows if float(r["bandwidth_gbps"]) == bw and int(r["nodes"]) == n]
            for l in labels:
                v = [r for r in at if r["label"] == l]
                cells.append(f"{float(v[0]['iteration_s']) * 1e3:.1f}" if v and v[0]["iteration_s"] else "")
            # One host has no NIC between its GPUs: its transport is the network.
            transport = at[0].get("transport", "none")
            network = f"{bw:g} Gb/s" if transport in ("", "none") else f"one host, {transport}"
            lines.append(f"| {network} | {n} | " + " | ".join(cells) + " |")
        return "\n".join(lines)
    return make


# ---- the shipped testbed validation (docs/testbed.md section 4)

def testbed_validation(_args):
    rows, checks = [], []
    for part in ("star", "two-level"):
        base = os.path.join(ROOT, "bench", "results", "testbed", part)
        for name, into in (("validation.csv", rows), ("bench_validation.csv", checks)):
            path = os.path.join(base, name)
            if not os.path.exists(path):
                fail(f"{path}: not found; run the commands of docs/testbed.md section 4")
            with open(path) as f:
                into += list(csv.DictReader(f))
    lines = ["| topology | ranks | Gbit/s | compressor | measured s | predicted s | error % | "
             "collectives measured / predicted s | hook measured / predicted s | measured TTA s [95 %] | "
             "predicted TTA s |",
             "|---|---:|---:|---|---:|---:|---:|---|---|---|---:|"]
    for r in rows:
        tta = (f"{float(r['measured_tta_s']):.3g} [{float(r['measured_tta_lo']):.3g}, {float(r['measured_tta_hi']):.3g}]"
               if r["measured_tta_lo"] else (r["measured_tta_s"] and f"{float(r['measured_tta_s']):.3g}") or "not reached")
        ptta = f"{float(r['predicted_tta_s']):.3g}" if r["predicted_tta_s"] else ""
        lines.append(f"| {r['topology']} | {r['nodes']} | {float(r['bandwidth_gbps']):g} | {r['label']} | "
                     f"{float(r['measured_iteration_s']):.4f} | {float(r['predicted_iteration_s']):.4f} | "
                     f"{float(r['iteration_error_pct']):+.1f} | {float(r['measured_collectives_s']):.4f} / "
                     f"{float(r['predicted_collectives_s']):.4f} | {float(r['measured_hook_s']):.4f} / "
                     f"{float(r['predicted_hook_s']):.4f} | {tta} | {ptta} |")
    errs = [abs(float(r["iteration_error_pct"])) for r in rows]
    inside = [r["tta_inside"] for r in rows if r["tta_inside"]]
    # The order of two compressors of one cluster, wherever their measured times differ by > 10 %.
    same, pairs = 0, 0
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if (a["topology"], a["nodes"], a["bandwidth_gbps"]) != (b["topology"], b["nodes"], b["bandwidth_gbps"]):
                continue
            ma, mb = float(a["measured_iteration_s"]), float(b["measured_iteration_s"])
            if max(ma, mb) <= 1.1 * min(ma, mb):
                continue
            pairs += 1
            same += (ma < mb) == (float(a["predicted_iteration_s"]) < float(b["predicted_iteration_s"]))
    held = [abs(float(c["error_pct"])) for c in checks]
    lines.append("")
    lines.append(f"{len(rows)} configurations: iteration |error| mean {statistics.mean(errs):.1f} %, worst "
                 f"{max(errs):.1f} %, within 10 %: {sum(e <= 10 for e in errs)}; order of two compressors "
                 f"(measured gap > 10 %) predicted right: {same} of {pairs}; predicted TTA inside the measured "
                 f"interval: {inside.count('yes')} of {len(inside)}; the gloo fit on the benchmark's held-back sizes: "
                 f"|error| mean {statistics.mean(held):.1f} %, worst {max(held):.1f} % ({len(held)} points).")
    return "\n".join(lines)


def published_validation(_args):
    path = os.path.join(ROOT, "bench", "results", "published", "validation.csv")
    if not os.path.exists(path):
        fail(f"{path}: not found; run /usr/bin/python3 bench/published_validation.py")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    lines = ["| system | case | compressor (implementation) | role | measured | predicted | error % | "
             "compressed vs dense: measured / predicted | calibrated on | source |",
             "|---|---|---|---|---:|---:|---:|---|---|---|"]
    for r in rows:
        unit = "x dense/compressed" if r["unit"] == "dense/compressed" else "s/iter"
        direction = f"{r['measured_direction']} / {r['predicted_direction']}" if r["measured_direction"] else "-"
        lines.append(f"| {r['system']} | {r['case']} | {r['compressor']} ({r['implementation']}) | {r['role']} | "
                     f"{float(r['measured']):.4g} {unit} | {float(r['predicted']):.4g} | {float(r['error_pct']):+.1f} | "
                     f"{direction} | {r['calibrated_on']} | {r['source']} |")
    pred = [r for r in rows if r["role"] == "predict"]
    errs = [abs(float(r["error_pct"])) for r in pred]
    dirs = [r for r in pred if r["measured_direction"]]
    right = sum(r["measured_direction"] == r["predicted_direction"] for r in dirs)
    systems = sorted({r["system"] for r in rows})
    lines.append("")
    lines.append(f"{len(systems)} systems, {len(pred)} predictions: |error| mean {statistics.mean(errs):.1f} %, worst "
                 f"{max(errs):.1f} %; direction of compressed vs dense predicted right in {right} of {len(dirs)}.")
    return "\n".join(lines)


# name -> (file, generator). Seconds: default-steps, testbed-validation, paper-resnet18, paper-resnet50;
# minutes: the rest.
TABLES = {
    "default-steps": ("docs/traces.md", default_steps),
    "testbed-validation": ("docs/testbed.md", testbed_validation),
    "published-validation": ("docs/validation-published.md", published_validation),
    **{f"paper-{m}": ("docs/traces.md", paper_table(f"paper-{m}"))
       for m in ("llama-60m", "llama-130m", "llama-350m", "llama-1b", "resnet18", "resnet50", "roberta-base")},
}


def replace_table(text, name, body, path):
    begin = BEGIN.format(name)
    if text.count(begin) != 1:
        fail(f"{path}: expected exactly one line '{begin}'")
    head, rest = text.split(begin + "\n", 1)
    if END not in rest:
        fail(f"{path}: table {name}: no '{END}' after its start")
    old, tail = rest.split(END, 1)
    return head + begin + "\n" + body + "\n" + END + tail, old.rstrip("\n")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help="tables to make: " + ", ".join(TABLES) + " (default: all)")
    ap.add_argument("--arcsim", default=os.path.join(ROOT, "build", "arcsim"), help="the arcsim binary")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a table is stale")
    ap.add_argument("--work", default=None, help="where the sweeps run (default: a temporary directory)")
    ap.add_argument("--jobs", type=int, default=2, help="sweep --jobs")
    args = ap.parse_args(argv)
    for n in args.names:
        if n not in TABLES:
            fail(f"NAME: expected one of {', '.join(TABLES)}, got {n!r}")
    names = args.names or list(TABLES)
    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="arcsim-tables-")
        args.work = tmp.name
    stale = []
    texts = {}
    for name in names:
        rel, make = TABLES[name]
        path = os.path.join(ROOT, rel)
        text = texts.get(path) or open(path).read()
        print(f"docs/tables.py: {name} ...", file=sys.stderr)
        body = make(args)
        texts[path], old = replace_table(text, name, body, rel)
        if old != body:
            stale.append(name)
            if args.check:
                sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), (body + "\n").splitlines(True),
                                                           f"{rel} ({name}, as written)", f"{name} (as generated)"))
    if args.check:
        print(f"docs/tables.py: {len(stale)} of {len(names)} table(s) stale" + (": " + ", ".join(stale) if stale else ""))
        return 1 if stale else 0
    for path, text in texts.items():
        write_atomic(path, text)
    print(f"docs/tables.py: wrote {len(names)} table(s), {len(stale)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
