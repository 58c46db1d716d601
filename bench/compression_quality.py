#!/usr/bin/python3
"""Writes docs/compressors/quality.md: every compressor of the registry on the default trace.

    /usr/bin/python3 bench/compression_quality.py [--arcsim build/arcsim] [--out docs/compressors/quality.md]
                                                  [--work DIR] [--jobs N] [--ratios 0.2 0.05] [--nodes 8 64]
                                                  [--bandwidth 10Gbps]

Two sweeps, both on traces/default with the demo's network, compute and kernel-timing settings
(experiments/default.json) at the asked node counts and one bandwidth:

1. quality: dense, and every other registered compressor at each ratio with its own defaults (no
   error feedback, no warm-up, no ramp). From results.csv: relative error and retained energy of
   the aggregate on the replayed gradient samples (every sample the trace holds), bytes one node
   sends per iteration, simulated iteration time. A compressor that takes
   no `ratio` is run once at its defaults; one the sweep refuses is listed as not measured.
2. time to accuracy: the spec `arcsim init` writes for the trace (one configuration per
   convergence log, as recorded), at the same points: steps and time to the target with 95 %
   intervals over seeds, speedup over dense, and what the run sends up to the target.

The compressors come from the binary (plots/registry.py), so new ones are picked up. The table
is written atomically and holds no timestamps: the same build and inputs give the same bytes.
Exit status 0, or 1 when some compressor could not be measured (the table says which), 2 for bad
arguments or a sweep that fails otherwise.
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "plots"))
import registry  # noqa: E402

# The demo's settings that decide iteration times (everything but the grid and the compressors).
NETWORK_KEYS = ["latencies", "topologies", "profiles", "algorithm", "kernel_timing", "compute", "bucket_cap",
                "first_bucket_cap", "collectives", "seed"]


def fail(msg, code=2):
    print(f"compression_quality.py: error: {msg}", file=sys.stderr)
    sys.exit(code)


def sweep(arcsim, spec, out, jobs):
    """Runs `arcsim sweep`; returns (exit status, stderr's last line)."""
    cmd = [arcsim, "sweep", spec, "--out", out, "--quiet", "--replace"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    last = (p.stderr.strip().splitlines() or [""])[-1]
    return p.returncode, last


def read_results(out):
    with open(os.path.join(out, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "results.json")) as f:
        doc = json.load(f)
    return rows, doc


def rank_methods(arcsim):
    """Compressors whose k counts a rank (PowerSGD): the ratio does not change them."""
    out = subprocess.run([arcsim, "compressors", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"{arcsim} compressors --json failed: {out.stderr.strip()}")
    return {c["name"] for c in json.loads(out.stdout)["compressors"] if c.get("k_unit") == "rank"}


def quality_entries(names, ratios, by_rank=frozenset()):
    entries = []
    for n in names:
        if n in by_rank:  # one configuration: its ratio is unused
            entries.append({"name": n, "convergence": "none"})
        elif n == "dense":
            entries.append({"name": "dense", "convergence": "none"})
        else:
            # Quality and iteration times only: no convergence log stands for these configurations.
            entries += [{"name": n, "ratio": r, "label": f"{n}-{r:g}", "convergence": "none"} for r in ratios]
    return entries


def run_quality(arcsim, base, names, ratios, work, jobs):
    """The quality sweep; compressors the spec refuses are dropped (with the reason) or, when only
    `ratio` is refused, run at their defaults."""
    entries = quality_entries(names, ratios, rank_methods(arcsim))
    skipped = {}
    spec_path = os.path.join(work, "quality.json")
    out = os.path.join(work, "quality")
    for _ in range(len(entries) + 1):
        spec = dict(base, name="compression-quality", compressors=entries)
        with open(spec_path, "w") as f:
            json.dump(spec, f, indent=1)
        rc, last = sweep(arcsim, spec_path, out, jobs)
        if rc == 0:
            return read_results(out), skipped
        m = re.search(r"compressors\[(\d+)\]\.(\w+)", last)
        if rc != 2 or not m:
            fail(f"arcsim sweep {spec_path} failed (exit {rc}): {last}")
        i, field = int(m.group(1)), m.group(2)
        name = entries[i]["name"]
        if field == "ratio" and "ratio" in entries[i]:
            print(f"compression_quality.py: note: {name} takes no ratio; measured at its defaults", file=sys.stderr)
            entries = [e for e in entries if e["name"] != name] + [{"name": name, "convergence": "none"}]
        else:
            print(f"compression_quality.py: warning: {name} not measured: {last}", file=sys.stderr)
            skipped[name] = last
            entries = [e for e in entries if e["name"] != name]
    fail("the quality sweep kept refusing its spec")


def run_tta(arcsim, base, nodes, bandwidth, work, jobs):
    spec_path = os.path.join(work, "tta.json")
    cmd = [arcsim, "init", os.path.join(ROOT, "traces", "default"), "--out", spec_path, "--nodes",
           *[str(n) for n in nodes], "--bandwidths", bandwidth]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)}: {(p.stderr.strip().splitlines() or [''])[-1]}")
    with open(spec_path) as f:
        spec = json.load(f)
    spec.update({k: v for k, v in base.items() if k in NETWORK_KEYS})
    spec["name"] = "compression-quality-tta"
    spec["trace"] = base["trace"]
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=1)
    out = os.path.join(work, "tta")
    rc, last = sweep(arcsim, spec_path, out, jobs)
    if rc != 0:
        fail(f"arcsim sweep {spec_path} failed (exit {rc}): {last}")
    return read_results(out)


def num(v):
    return None if v in (None, "") else float(v)


def g(v, digits=3):
    return "-" if v is None else f"{v:.{digits}g}"


def fixed(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def kib(v):
    return "-" if v is None else f"{v / 1024:,.1f}"


def interval(v, lo, hi, fmt):
    if v is None:
        return "-"
    return fmt(v) + (f" [{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else "")


def quality_table(rows, nodes, skipped):
    by = {}
    order = []
    for r in rows:
        key = r["label"]
        if key not in by:
            order.append(key)
            by[key] = {"compressor": r["compressor"], "ratio": r["ratio"], "relative_error": num(r["relative_error"]),
                       "retained_energy": num(r["retained_energy"])}
        n = int(r["nodes"])
        by[key][("bytes", n)] = num(r["bytes_per_node"])
        by[key][("iter", n)] = num(r["iteration_s"])
        by[key][("status", n)] = r["status"]
    head = ["compressor", "ratio", "relative error", "retained energy"]
    head += [f"KiB/node/iter, N={n}" for n in nodes] + [f"iteration ms, N={n}" for n in nodes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in order:
        e = by[key]
        cells = [e["compressor"], e["ratio"] or "-", g(e["relative_error"]), g(e["retained_energy"])]
        cells += [kib(e.get(("bytes", n))) for n in nodes]
        cells += [fixed(None if e.get(("iter", n)) is None else 1e3 * e[("iter", n)], 3)
                  if e.get(("status", n)) == "ok" else "failed" for n in nodes]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    for name, why in sorted(skipped.items()):
        lines.append(f"| {name} | not measured: {why.replace('|', '/')} |" + " |" * (len(head) - 2))
    return lines


def tta_table(rows):
    head = ["configuration", "N", "seeds reached", "status", "steps to target (sd)", "TTA s [95 %]", "speedup vs dense [95 %]",
            "MB/node to target", "authors' Gbit to target", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        steps, sd = num(r["steps_to_target"]), num(r["steps_to_target_sd"])
        cells = [r["label"], r["nodes"], f"{r.get('seeds_reached') or 0} of {r['seeds']}" if r["seeds"] else "-",
                 r.get("tta_status") or "-",
                 "-" if steps is None else f"{steps:.0f}" + (f" ({sd:.0f})" if sd is not None else ""),
                 interval(num(r["tta_s"]), num(r["tta_s_lo"]), num(r["tta_s_hi"]), lambda v: f"{v:.3g}"),
                 interval(num(r["speedup_vs_dense"]), num(r["speedup_vs_dense_lo"]), num(r["speedup_vs_dense_hi"]),
                          lambda v: f"{v:.2f}"),
                 g(None if num(r.get("bytes_per_node_to_target")) is None else num(r["bytes_per_node_to_target"]) / 1e6),
                 g(None if num(r.get("bits_to_target_authors")) is None else num(r["bits_to_target_authors"]) / 1e9),
                 (r["tta_note"] or "").replace("|", "/")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".quality.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arcsim", default=os.path.join(ROOT, "build", "arcsim"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "compressors", "quality.md"))
    ap.add_argument("--work", help="where the sweeps write (default: a temporary directory, removed)")
    ap.add_argument("--jobs", type=int, default=0, help="parallel simulations (0: every CPU)")
    ap.add_argument("--ratios", type=float, nargs="+", default=[0.2, 0.05])
    ap.add_argument("--nodes", type=int, nargs="+", default=[8, 64])
    ap.add_argument("--bandwidth", default="10Gbps")
    args = ap.parse_args(argv)
    if not os.access(args.arcsim, os.X_OK):
        fail(f"--arcsim: {args.arcsim}: not an executable (build it: ./run build)")
    if any(not (0 < r <= 1) for r in args.ratios):
        fail(f"--ratios: expected fractions in (0, 1], got {args.ratios}")
    try:
        names = registry.compressor_names(args.arcsim)
    except RuntimeError as e:
        fail(str(e))
    with open(os.path.join(ROOT, "experiments", "default.json")) as f:
        demo = json.load(f)
    base = {k: demo[k] for k in NETWORK_KEYS if k in demo}
    base.update(trace=os.path.join(ROOT, "traces", "default"), nodes=args.nodes, bandwidths=[args.bandwidth],
                replay={"workers": 8, "samples": 64})

    tmp = None if args.work else tempfile.TemporaryDirectory(prefix="arcsim-quality-")
    work = args.work or tmp.name
    os.makedirs(work, exist_ok=True)
    try:
        (qrows, qdoc), skipped = run_quality(args.arcsim, base, names, args.ratios, work, args.jobs)
        trows, _ = run_tta(args.arcsim, base, args.nodes, args.bandwidth, work, args.jobs)
    finally:
        if tmp:
            tmp.cleanup()
    prov = qdoc.get("provenance", {})
    lat = ", ".join(demo.get("latencies", ["the topology's"]))
    text = "\n".join([
        "# Compressors on the default trace: quality, bytes, iteration time, time to accuracy",
        "",
        "Generated by `bench/compression_quality.py` (rerun it after adding a compressor; do not edit by "
        "hand) with arcsim " + str(prov.get("arcsim_version", "?")) + " (commit " + str(prov.get("git_commit", "?"))
        + f"), from the trace `{prov.get('trace_name', 'default')}` ({prov.get('trace_checksum', '?')}).",
        "",
        f"Network: {', '.join(demo.get('topologies', ['star']))} topology, {', '.join(demo.get('profiles', ['nccl']))} "
        f"profile, {lat}, {args.bandwidth} per node; compute {prov.get('compute_source', demo.get('compute', '?'))}; "
        f"kernel times {prov.get('kernel_timing', demo.get('kernel_timing', '?'))}; gradients replayed: "
        f"{'; '.join(prov.get('gradients') or ['?']) if isinstance(prov.get('gradients'), list) else prov.get('gradients', '?')}.",
        "",
        "## Compression quality, bytes and iteration time",
        "",
        "Each compressor with its own defaults (no error feedback, no warm-up, no ramp) at each ratio "
        "(Top-K, Rand-K: of elements; ARC-Top-K: of rows). Relative error = ||aggregate - mean||^2 / "
        "||mean||^2 and retained energy are measured on the replayed gradient samples of the trace, "
        "aggregated over the workers the trace recorded (the gradients line above says how many and at "
        "which steps: the default trace samples workers 0 and 1, so the aggregate is over 2 workers, "
        "not over N; the same at every N); bytes are what one node sends per iteration in the simulated "
        "collectives; the iteration is the simulated steady-state step (per-node bytes and times are "
        "the `bytes_per_node` and `iteration_s` columns of `arcsim sweep`).",
        "",
        *quality_table(qrows, args.nodes, skipped),
        "",
        "## Time to accuracy (the trace's convergence logs)",
        "",
        "One configuration per convergence log of the trace, with its recorded options (`arcsim init`); "
        "TTA is the log-normal centre over seeds with its 95 % interval, seeds that missed the target "
        "counted as censored at their budget (status partial), and the speedup is over paired seeds "
        "(docs/experiments.md section 3); steps recorded at other worker counts are marked in the note. MB/node to target: bytes one node sends in steps 1..steps to target, as "
        "simulated; authors' Gbit: the ARC-Top-K authors' global counter over the same steps (all "
        "ranks: 2(N-1) x bits per all-reduce, N(N-1) x bits per all-gather).",
        "",
        *tta_table(trows),
        "",
    ])
    write_atomic(args.out, text)
    print(args.out)
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
