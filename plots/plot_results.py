#!/usr/bin/python3
"""Paper-ready figures from an arcsim results directory (what `arcsim sweep` wrote).

    /usr/bin/python3 plots/plot_results.py RESULTS_DIR [--out DIR] [--traffic simulated|authors]

Reads RESULTS_DIR/results.csv, the per-seed curves, shapes and spec in results.json, and (when
present) RESULTS_DIR/breakeven.csv from `arcsim breakeven`, and writes, as PDF + PNG:
  speedup_vs_nodes      speedup over dense vs node count (log axes, 95 % intervals), one panel per
                        bandwidth, panels on one y scale
  speedup_vs_bandwidth  speedup over dense vs bandwidth per NIC, one panel per node count;
                        break-even crossings marked
  iteration_breakdown   stacked compute / compression / exposed communication of the steady
                        iteration (relative to dense's at the same point), and under each panel
                        the share of time to accuracy spent in the warm-up and ratio-ramp steps
  accuracy_vs_time      target metric vs predicted wall-clock, mean over seeds with a seed band
  accuracy_vs_bytes     target metric vs bytes one node has sent (bytes per iteration x steps, as
                        simulated; --traffic authors: the authors' global bits), a mark at the target
  tta_vs_nodes          predicted time to accuracy with 95 % intervals (points on a log axis)
The last three need convergence: without it they are not drawn and figures.txt says so.

How a time to accuracy (TTA) was obtained is drawn, never hidden (columns tta_status,
convergence_estimate, seeds, seeds_reached): a configuration that did not reach the target at a
point gets an x at the bottom of the panel and "target not reached at N=..." in its legend entry;
a partial point (some seeds missed: a censored estimate) is half-filled, its legend entry says
"k of n seeds reached"; interpolated points are hollow, extrapolated ones hollow with a dashed
line into them; a point that is the mean of one seed is ringed (no interval). Error bars are
drawn only where the interval exists and are clipped to the axis (an arrow head says so).
With seven or more configurations (the compressor family) the speed-up and TTA figures become
small multiples, one panel per configuration, two columns wide, and the accuracy figures one
panel per configuration with the others in grey behind it.

Every figure has a footer: model (trace), target, ranks and nodes, compute and kernel-timing
source (GPU), network profile, latency, topology, seeds. figures.txt lists every figure, what it
leaves out, and every point that did not reach the target, is partial, interpolated, extrapolated
or one seed. When the sweep has several (topology, profile, latency) combinations, each figure is
written once per combination with a suffix "--<topology>-<profile>-<latency>us". Every file is
written through one exclusive atomic writer (style.Staged): all are rendered to new temporaries
first and renamed together at the end, so an error (a full disk) keeps the previous figures. A
damaged input is one error line naming the file and column or field, exit 2. Prints the files it
wrote.
"""
import argparse
import csv
import errno
import json
import math
import os
import re
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402
from style import plt  # noqa: E402


def _textsafe():
    """The Python side's one helper for input text in error lines (traces/recorder/textsafe.py),
    loaded by path: plots/ runs without the recorder's package (and torch) importable."""
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "..", "traces", "recorder", "textsafe.py"), os.path.join(here, "textsafe.py")):
        if os.path.isfile(cand):
            spec = importlib.util.spec_from_file_location("arcsim_textsafe", cand)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    raise ImportError("traces/recorder/textsafe.py: not found next to plots/")


_TS = _textsafe()
shown, quoted, one_line = _TS.shown, _TS.quoted, _TS.one_line

NUMERIC = ["point", "ratio", "nodes", "ranks", "bandwidth_gbps", "latency_us", "iteration_s", "compute_s",
           "compression_s", "exposed_comm_s", "comm_s", "bytes_per_node", "bits_per_step_authors",
           "bytes_per_node_to_target", "bits_to_target_authors", "steps_to_target", "steps_to_target_sd",
           "seeds", "seeds_reached", "tta_s", "tta_s_lo", "tta_s_hi", "speedup_vs_dense", "speedup_vs_dense_lo",
           "speedup_vs_dense_hi", "speedup_vs_topk", "speedup_vs_topk_lo", "speedup_vs_topk_hi",
           "iteration_speedup_vs_dense", "iteration_speedup_vs_topk", "convergence_nodes", "warmup_ramp_s",
           "warmup_ramp_share"]
MAX_PANELS = 4
FAMILY_AT = 7      # this many configurations or more: small multiples (one panel per configuration)
MAX_BARS = 24      # bars per breakdown panel; node counts beyond that are left out (and named)
MARKED = [0]       # break-even crossings drawn by the current figure
CLIPPED = [0]      # error bars (or breakdown bars) clipped at the axis by the current figure
LABEL_COLOUR = {}  # label -> colour, set by configs()
META = {"trace": None, "target": None}  # from results.json, for the footer
SEEDS_RE = re.compile(r"(\d+) of (\d+) seeds reached")
GREY = "#444444"


class InputError(Exception):
    """Bad content in an input file: '<file>: [line N: ]<column or field>: expected ..., got ...'."""


def fail(msg, status=2):
    """The script's one error exit: one line (escaped, capped), exit 2, no traceback."""
    print(f"plot_results.py: error: {one_line(str(msg))}", file=sys.stderr)
    sys.exit(status)


def bad(path, where, field, expected, got):
    """Raises InputError for `field` of `path` (where: "line N" of a CSV, "" else)."""
    raise InputError(f"{path}: {where + ': ' if where else ''}{field}: expected {expected}, got {got}")


def got_text(v):
    """What an error line says was found: none, a quoted (escaped, capped) value or a JSON type."""
    if v is None:
        return "none"
    if isinstance(v, str):
        return "an empty value" if v == "" else quoted(v)
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"{v!r}"
    return {dict: "an object", list: "an array"}.get(type(v), type(v).__name__)


# results.csv: columns every row needs, and those an ok row needs a value in.
CSV_REQUIRED = ["point", "compressor", "label", "status", "nodes", "bandwidth_gbps", "latency_us", "topology",
                "profile"]
CSV_OK_VALUES = ["compressor", "label", "nodes", "bandwidth_gbps", "latency_us", "topology", "profile",
                 "iteration_s"]
POSITIVE = {"nodes", "bandwidth_gbps", "ranks", "iteration_s"}
NONNEGATIVE = {"point", "latency_us", "seeds", "seeds_reached", "compute_s", "compression_s", "exposed_comm_s",
               "comm_s", "bytes_per_node", "tta_s", "tta_s_lo", "tta_s_hi", "steps_to_target"}
# Columns of a newer arcsim that annotate() derives (from tta_note, results.json) when absent.
DERIVED = {"ranks", "seeds_reached", "warmup_ramp_s", "warmup_ramp_share"}
INTEGRAL = {"point", "nodes", "ranks", "seeds", "seeds_reached", "convergence_nodes"}


def number(path, where, col, text):
    """A CSV cell as a float (None when empty), finite and in the column's range."""
    if text is None or text == "":
        return None
    try:
        v = float(text)
    except ValueError:
        bad(path, where, col, "a number", got_text(text))
    if not math.isfinite(v):
        bad(path, where, col, "a finite number", got_text(text))
    if col in POSITIVE and v <= 0:
        bad(path, where, col, "a number > 0", got_text(text))
    if col in NONNEGATIVE and v < 0:
        bad(path, where, col, "a number >= 0", got_text(text))
    if col in INTEGRAL and v != int(v):
        bad(path, where, col, "an integer", got_text(text))
    return v


def read_csv(path):
    """(header, [(line, row)]) of a CSV file; undecodable bytes kept (escaped in errors)."""
    try:
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
            reader = csv.DictReader(f)
            out = []
            for r in reader:
                out.append((reader.line_num, r))
            return list(reader.fieldnames or []), out
    except csv.Error as e:
        raise InputError(f"{path}: line {reader.line_num}: expected CSV, got {shown(str(e))}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None


def checked_rows(path, header, lines, required, writer):
    """(line number, row) of a CSV whose header has every `required` column and whose rows are whole:
    one error line naming the file, line and column otherwise."""
    for col in required:
        if col not in header:
            bad(path, "line 1", col, f"a column {col} in the header ({writer} writes it)", "none")
    for line, r in lines:
        where = f"line {line}"
        if None in r:
            bad(path, where, "row", f"{len(header)} values (as the header)", f"{len(header) + len(r[None])}")
        for col in required:
            if r.get(col) is None:
                bad(path, where, col, f"a value (a row of {len(header)} values)", "a short row")
        yield line, r


def check_results_csv(path, header, lines):
    """results.csv rows, checked and converted: NUMERIC columns to float or None."""
    if not header or header[0] != "point":
        bad(path, "line 1", "header", "the header of arcsim sweep's results.csv (point,compressor,...)",
            got_text(",".join(header)) if header else "an empty file")
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        bad(path, "line 1", dup[0], "each column once in the header", "it twice")
    rows = []
    for line, r in checked_rows(path, header, lines, CSV_REQUIRED, "arcsim sweep"):
        where = f"line {line}"
        for k in NUMERIC:
            if k in r:
                r[k] = number(path, where, k, r[k])
            elif k not in DERIVED:  # a column this results.csv lacks: no value
                r[k] = None
        if r["point"] is None:
            bad(path, where, "point", "a point number", "an empty value")
        if r.get("status") == "ok":
            for col in CSV_OK_VALUES:
                if r.get(col) in (None, ""):
                    bad(path, where, col, "a value in a row with status ok", "an empty value")
        r["_line"] = line
        rows.append(r)
    return rows


def expect(cond, path, field, expected, value):
    if not cond:
        bad(path, "", field, expected, got_text(value))


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_results_json(path, doc):
    """What the figures read of results.json: points[] (point, curve, seed_curves, shapes),
    provenance and experiment (target, trace)."""
    expect(isinstance(doc, dict), path, "(root)", "a JSON object", doc)
    for key in ("provenance", "experiment"):
        v = doc.get(key)
        expect(v is None or isinstance(v, dict), path, key, "an object", v)
        t = (v or {}).get("target")
        if t is not None:
            expect(isinstance(t, dict), path, f"{key}.target", "an object {metric, value, mode}", t)
            expect(t.get("value") is None or is_num(t["value"]), path, f"{key}.target.value", "a number",
                   t.get("value"))
            for f in ("metric", "mode"):
                expect(t.get(f) is None or isinstance(t[f], str), path, f"{key}.target.{f}", "a string", t.get(f))
        for f in ("trace", "trace_name"):
            expect((v or {}).get(f) is None or isinstance(v[f], str), path, f"{key}.{f}", "a string", (v or {}).get(f))
    pts = doc.get("points", [])
    expect(isinstance(pts, list), path, "points", "an array", pts)
    for i, p in enumerate(pts):
        at = f"points[{i}]"
        expect(isinstance(p, dict), path, at, "an object", p)
        expect(is_num(p.get("point")) and p["point"] == int(p["point"]), path, f"{at}.point", "an integer",
               p.get("point"))
        curve = p.get("curve") or []
        expect(isinstance(curve, list), path, f"{at}.curve", "an array", curve)
        for j, c in enumerate(curve):
            expect(isinstance(c, list) and len(c) >= 3 and all(is_num(x) or x is None for x in c) and
                   is_num(c[0]) and is_num(c[1]), path, f"{at}.curve[{j}]", "[step, wall_s, metric, ...] numbers", c)
        sc = p.get("seed_curves") or []
        expect(isinstance(sc, list), path, f"{at}.seed_curves", "an array", sc)
        for j, c in enumerate(sc):
            expect(isinstance(c, dict) and isinstance(c.get("points"), list), path, f"{at}.seed_curves[{j}]",
                   "an object with points", c)
            for k, q in enumerate(c["points"]):
                expect(isinstance(q, list) and len(q) >= 3 and is_num(q[0]) and is_num(q[1]) and
                       all(is_num(x) or x is None for x in q), path, f"{at}.seed_curves[{j}].points[{k}]",
                       "[step, wall_s, metric, ...] numbers", q)
        shapes = p.get("shapes") or []
        expect(isinstance(shapes, list), path, f"{at}.shapes", "an array", shapes)
        for j, sh in enumerate(shapes):
            f = f"{at}.shapes[{j}]"
            expect(isinstance(sh, dict), path, f, "an object", sh)
            for k in ("first_step", "last_step"):
                expect(is_num(sh.get(k)), path, f"{f}.{k}", "a number", sh.get(k))
            it = sh.get("iteration")
            expect(isinstance(it, dict), path, f"{f}.iteration", "an object", it)
            for k in ("bytes_per_node", "total_s", "ranks"):
                expect(it.get(k) is None or is_num(it[k]), path, f"{f}.iteration.{k}", "a number", it.get(k))
            expect(sh.get("kind") is None or isinstance(sh["kind"], str), path, f"{f}.kind", "a string",
                   sh.get("kind"))
            expect(sh.get("bits_per_step_authors") is None or is_num(sh["bits_per_step_authors"]), path,
                   f"{f}.bits_per_step_authors", "a number", sh.get("bits_per_step_authors"))
        for j, st in enumerate(p.get("seed_tta") or []):
            expect(isinstance(st, dict) and (st.get("steps") is None or is_num(st["steps"])), path,
                   f"{at}.seed_tta[{j}].steps", "a number", st)
        init = p.get("ef21_init_authors")
        if init is not None:
            expect(isinstance(init, dict) and is_num(init.get("step")) and is_num(init.get("bits")), path,
                   f"{at}.ef21_init_authors", "an object {step, bits} of numbers", init)
        for k in ("convergence_estimate", "tta_status"):
            expect(p.get(k) is None or isinstance(p[k], str), path, f"{at}.{k}", "a string", p.get(k))
        for k in ("ranks", "seeds_reached", "warmup_ramp_s", "warmup_ramp_share"):
            expect(p.get(k) is None or is_num(p[k]), path, f"{at}.{k}", "a number", p.get(k))


def load(results_dir):
    """(ok rows, failed rows, target, breakeven). Each ok row is annotated (annotate()) with how
    its TTA was obtained."""
    path = os.path.join(results_dir, "results.csv")
    if not os.path.exists(path):
        fail(f"{path}: no such file (run `arcsim sweep` first)")
    rows = check_results_csv(path, *read_csv(path))
    points, doc = {}, {}
    jpath = os.path.join(results_dir, "results.json")
    if os.path.exists(jpath):
        try:
            with open(jpath, encoding="utf-8", errors="surrogateescape") as f:
                doc = json.load(f)
        except json.JSONDecodeError as e:
            raise InputError(f"{jpath}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
        except (OSError, UnicodeError, RecursionError, ValueError) as e:
            raise InputError(f"{jpath}: cannot read: {getattr(e, 'strerror', None) or type(e).__name__}") from None
        check_results_json(jpath, doc)
        for p in doc.get("points", []):
            points[int(p["point"])] = p
    prov, spec = doc.get("provenance") or {}, doc.get("experiment") or {}
    target = prov.get("target") or spec.get("target")
    trace = prov.get("trace_name") or os.path.basename(str(prov.get("trace") or spec.get("trace") or "").rstrip("/"))
    META.update(trace=trace or None, target=target)
    for r in rows:
        annotate(r, points.get(int(r["point"]), {}))
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    if not ok:
        fail(f"{path}: no finished point to plot")
    return ok, failed, target, load_breakeven(results_dir)


def _given(r, p, key):
    """(present, value) of a column: the CSV's when it has the column, else results.json's point."""
    if key in r:
        return True, r[key]
    if key in p:
        v = p[key]
        return True, (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
    return False, None


def annotate(r, p):
    """Adds to a row: ranks, seeds (runs at the point), seeds_reached, estimate (recorded |
    interpolated | extrapolated), tta_status, the marks a figure draws (none, partial, interpolated,
    extrapolated, one_seed, no_tta), warm-up/ramp time and share, and the curves and shapes of
    results.json. Results of an older arcsim without the new columns: derived from tta_note and
    results.json where they can be, else left missing."""
    note = r.get("tta_note") or ""
    tta = r.get("tta_s")
    r["shapes"] = p.get("shapes", [])
    r["ef21_init"] = p.get("ef21_init_authors")
    curves = p.get("seed_curves")
    if not curves and p.get("curve"):
        curves = [{"seed": 0, "points": [c + [c[2]] for c in p["curve"]]}]
    r["curves"] = curves or []

    have, ranks = _given(r, p, "ranks")
    if ranks is None:
        steady = [s for s in r["shapes"] if s.get("kind") == "steady"] or r["shapes"]
        ranks = (steady[-1].get("iteration") or {}).get("ranks") if steady else None
    r["ranks"] = float(ranks) if ranks else r.get("nodes")

    have_reached, reached = _given(r, p, "seeds_reached")
    seeds = r.get("seeds")
    if not have_reached:  # older results: `seeds` counted the seeds that reached; the note names misses
        m = SEEDS_RE.search(note)
        if m:
            reached, seeds = float(m.group(1)), float(m.group(2))
        elif tta is not None:
            reached = seeds
        else:
            reached = 0.0 if "not reached" in note else None
    r["seeds"], r["seeds_reached"] = seeds, reached

    have_est, est = _given(r, p, "convergence_estimate")
    if not est and tta is not None and not have_est:
        est = "interpolated" if note.startswith("interpolated") else (
            "extrapolated" if note.startswith("extrapolated") or "nearest recorded" in note else "recorded")
    r["estimate"] = est or None

    have_status, status = _given(r, p, "tta_status")
    status = (status or "").strip()
    if not have_status:
        if tta is None:
            status = "none" if "not reached" in note else ""
        elif reached is not None and seeds and reached < seeds:
            status = "partial"
        elif est == "extrapolated":
            status = "extrapolated"
        else:
            status = "ok"
    r["tta_status"] = status
    got = tta is not None
    r["none"] = not got and status == "none"
    r["no_tta"] = not got and not r["none"]
    r["partial"] = got and (status == "partial" or (reached is not None and bool(seeds) and reached < seeds))
    r["extrapolated"] = got and (status == "extrapolated" or est == "extrapolated")
    r["interpolated"] = got and est == "interpolated" and not r["extrapolated"]
    n_mean = reached if reached is not None else seeds
    r["one_seed"] = got and n_mean == 1

    _, wr = _given(r, p, "warmup_ramp_s")
    _, share = _given(r, p, "warmup_ramp_share")
    if wr is None and got:
        wr = warmup_ramp_from_shapes(p)
    if share is None and wr is not None and got and tta > 0:
        share = wr / tta
    r["warmup_ramp_s"], r["warmup_ramp_share"] = wr, share


def warmup_ramp_from_shapes(p):
    """Older results: the mean over the seeds that reached of the time their steps 1..S spent in
    the warm-up and ramp shapes (each at its simulated iteration time), as the TTA sums them;
    None when results.json lacks what it takes."""
    shapes, seeds = p.get("shapes") or [], [s for s in (p.get("seed_tta") or []) if s.get("steps") is not None]
    if not shapes or not seeds:
        return None
    total = 0.0
    for s in seeds:
        steps = float(s["steps"])
        for sh in shapes:
            if sh.get("kind") not in ("warmup", "ramp"):
                continue
            t = (sh.get("iteration") or {}).get("total_s")
            if t is None:
                return None
            last = steps if sh["last_step"] < 0 else min(float(sh["last_step"]), steps)
            total += max(0.0, last - sh["first_step"] + 1) * t
    return total / len(seeds)


BREAKEVEN_REQUIRED = ["metric", "label", "compressor"]


def load_breakeven(results_dir):
    """breakeven.csv of `arcsim breakeven`: {axis, rows}, or None when there is none (or it has
    no breakeven_<axis> column: nothing to mark). Each row: metric, label, compressor, its value
    (a number > 0), and nodes / bandwidth_gbps / topology / profile / latency_us where given."""
    path = os.path.join(results_dir, "breakeven.csv")
    if not os.path.exists(path):
        return None
    header, lines = read_csv(path)
    axis = next((k[len("breakeven_"):] for k in header if k.startswith("breakeven_")), None)
    if axis is None:
        return None
    out = []
    for line, r in checked_rows(path, header, lines, BREAKEVEN_REQUIRED, "arcsim breakeven"):
        where = f"line {line}"
        v = r.get("breakeven_" + axis, "")
        if v in ("", None):
            continue
        r["value"] = number(path, where, "breakeven_" + axis, v)
        if r["value"] <= 0:
            bad(path, where, "breakeven_" + axis, "a number > 0 (a crossing on a log axis)", got_text(v))
        for k in ("nodes", "bandwidth_gbps", "latency_us"):
            if k in r:
                r[k] = number(path, where, k, r[k])
        for k in ("breakeven_ci_lo", "breakeven_ci_hi"):  # the crossing's 95 % interval (tta rows)
            r[k] = number(path, where, k, r[k]) if r.get(k) not in ("", None) else None
        out.append(r)
    return {"axis": axis, "rows": out}


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


def is_family(cfgs):
    return len(cfgs) >= FAMILY_AT


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
    if at_most <= 1:
        return values[-1:]
    idx = sorted({round(i * (len(values) - 1) / (at_most - 1)) for i in range(at_most)})
    return [values[i] for i in idx]


def omitted(all_values, shown, what, fmt):
    left = [v for v in sorted(all_values) if v not in shown]
    if not left:
        return ""
    return f"{what} not drawn as panels: " + ", ".join(fmt(v) for v in left)


def fmt_bw(gbps):
    return f"{gbps:g} Gbit/s per NIC"


def network_title(rows, gbps):
    """The panel's network: the NIC bandwidth, or the transport of one host (no NIC between its GPUs)."""
    hosts = {r.get("transport") for r in rows if r["bandwidth_gbps"] == gbps and r["nodes"] == 1}
    hosts.discard(None)
    hosts.discard("none")
    if hosts and all(r["nodes"] == 1 for r in rows if r["bandwidth_gbps"] == gbps):
        return "one host, " + ", ".join(sorted(hosts))
    return fmt_bw(gbps)


def fmt_time(s):
    if s < 1e-3:
        return f"{s * 1e6:.3g} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def ranks_of(rows, n):
    ranks = sorted({int(r["ranks"]) for r in rows if r["nodes"] == n and r.get("ranks")})
    return ranks


def gpus_per_node(rows):
    return sorted({int(round(r["ranks"] / r["nodes"])) for r in rows if r.get("ranks") and r.get("nodes")})


def nodes_xlabel(rows):
    """"nodes" with how ranks follow from them: equal, nodes x G, or (mixed) under each tick."""
    g = gpus_per_node(rows)
    if not g or g == [1]:
        return "nodes (= ranks)"
    if len(g) == 1:
        return f"nodes (ranks = nodes x {g[0]})"
    return "nodes (ranks below)"


def node_title(rows, n):
    ranks = ranks_of(rows, n)
    if ranks and ranks != [int(n)]:
        return f"{int(n)} nodes ({'/'.join(str(x) for x in ranks)} ranks)"
    return f"{int(n)} nodes"


def node_ticklabels(rows, nodes):
    if len(gpus_per_node(rows)) > 1:
        return [f"{int(n)}\n({'/'.join(str(x) for x in ranks_of(rows, n))})" for n in nodes]
    return [f"{int(n)}" for n in nodes]


def short_compute(src):
    if not src:
        return "?"
    if src.startswith("model:"):
        return src.split(" ")[0] + " roofline"
    if src.startswith("trace (") and src.endswith(")"):
        inner = src[len("trace ("):-1].split(",")[0].split(" (")[0].strip()
        return f"trace ({inner})"
    return src.split(" (")[0]


def target_text(target):
    if not target or target.get("value") is None:
        return "no target"
    metric = target.get("metric", "accuracy")
    mode = target.get("mode") or ("max" if metric == "accuracy" else "min")
    return f"target {metric} {'>=' if mode == 'max' else '<='} {target['value']:g}"


def span(values, unit=""):
    values = sorted(values)
    if not values:
        return "?"
    return (f"{values[0]:g}" if values[0] == values[-1] else f"{values[0]:g}-{values[-1]:g}") + unit


def footer_lines(rows):
    """Two lines: what was trained and on what (model, target, ranks, GPU), then the network."""
    def one(key, fmt=str):
        vals = sorted({fmt(r[key]) for r in rows if r.get(key) not in (None, "")})
        return "/".join(vals) if vals else "?"
    g = gpus_per_node(rows)
    gtxt = (f"{g[0]} GPU{'s' if g[0] > 1 else ''}" if len(g) == 1 else
            "/".join(str(x) for x in g) + " GPUs") if g else "? GPUs"
    ranks = span([r["ranks"] for r in rows if r.get("ranks")])
    nodes = span([r["nodes"] for r in rows])
    seeds = sorted({int(r["seeds"]) for r in rows if r.get("seeds")})
    seed_txt = ("seeds " + (f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}")) if seeds else "no TTA"
    model = f"model {META['trace']}, " if META.get("trace") else ""
    line1 = f"{model}{target_text(META.get('target'))}, {ranks} ranks ({nodes} nodes x {gtxt}), {seed_txt}"
    line2 = (f"compute {one('compute_source', short_compute)}, kernels {one('kernel_timing')}, {one('profile')} profile, "
             f"{one('latency_us', lambda v: f'{v:g} us')}, {one('topology')}")
    return [line1, line2]


def footer_text(rows):
    return "; ".join(footer_lines(rows))


def log2_nodes_axis(ax, nodes, rows=None):
    ax.set_xscale("log", base=2)
    ax.set_xticks(nodes)
    ax.set_xticklabels(node_ticklabels(rows, nodes) if rows else [f"{int(n)}" for n in nodes])
    ax.minorticks_off()
    ax.set_xlim(min(nodes) / 2 ** 0.4, max(nodes) * 2 ** 0.4)


def bandwidth_axis(ax, bws, rows=None):
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


def nice_log_ticks(lo, hi):
    """Plain-number ticks for a log axis from lo to hi: the sparsest of 1 / 1-3 / 1-2-5 / finer
    steps that puts at least three ticks in the range (every k-th decade when there are many)."""
    if not (lo > 0 and hi > lo):
        return []
    e0, e1 = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    ticks = []
    for subs in ((1,), (1, 3), (1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [round(m * 10.0 ** e, 12) for e in range(e0, e1 + 1) for m in subs]
        ticks = [t for t in ticks if lo <= t <= hi]
        if len(ticks) >= 3:
            break
    if len(ticks) > 7:
        step = math.ceil(len(ticks) / 6)
        ticks = ticks[::step]
    return ticks


def readable_log(axis):
    """Log-axis labels in plain numbers (0.2, 0.5, 1, 2, ...), not powers of ten, as many as a
    one-column panel holds. Call it after the data are drawn (it reads the axis range)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter
    ax = axis.axes
    lo, hi = sorted(ax.get_xlim() if axis is ax.xaxis else ax.get_ylim())  # triggers autoscaling
    ticks = nice_log_ticks(lo, hi)
    if ticks:
        axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def log_limits(values, bar_ends, bottom_room=False):
    """y limits of a log axis: the values with a margin, widened for the error bars by at most a
    factor 2.5 beyond the values (bars reaching further are clipped at the axis, and said so)."""
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return 0.5, 2.0
    vmin, vmax = min(values), max(values)
    ends = [b for b in bar_ends if b is not None and b > 0]
    bmin, bmax = min(ends + [vmin]), max(ends + [vmax])
    lo = max(bmin, vmin / 2.5) / 1.15
    hi = min(bmax, vmax * 2.5) * 1.15
    if hi / lo < 2.2:
        mid = math.sqrt(hi * lo)
        lo, hi = mid / 1.5, mid * 1.5
    if bottom_room:
        lo /= 1.4
    return lo, hi


# ---------------------------------------------------------------------------------------------
# How each TTA was obtained: per configuration, in the legend and in figures.txt.

MARKS = [  # (flag, what figures.txt calls it, how the point figures draw it)
    ("none", "target not reached (no TTA, no speedup)", "x at the panel bottom"),
    ("partial", "partial: some seeds missed the target (TTA a censored estimate, the misses counted at their "
                "budget)", "half-filled"),
    ("extrapolated", "extrapolated across N", "hollow, dashed line into it"),
    ("interpolated", "interpolated across N", "hollow"),
    ("one_seed", "1 seed (no interval)", "ringed"),
    ("no_tta", "no TTA", "not drawn"),
]


def where(sub, crow):
    """"N=16, 32" (one GPU per node) or "16, 32 nodes (128, 256 ranks)": the node counts of `sub`
    (rows of one configuration), with the bandwidths when not every bandwidth of that node count
    in the figure is meant."""
    by_n = {}
    for r in sub:
        by_n.setdefault(r["nodes"], set()).add(r["bandwidth_gbps"])
    parts = []
    for n in sorted(by_n):
        every = {r["bandwidth_gbps"] for r in crow if r["nodes"] == n}
        s = f"{int(n)}"
        if by_n[n] != every:
            s += " (" + ", ".join(f"{b:g}" for b in sorted(by_n[n])) + " Gbit/s)"
        parts.append(s)
    ranks = sorted({int(r["ranks"]) for r in sub if r.get("ranks")})
    if not ranks or ranks == sorted({int(n) for n in by_n}):
        return "N=" + ", ".join(parts)
    return ", ".join(parts) + f" nodes ({', '.join(map(str, ranks))} ranks)"


def seeds_text(sub):
    pairs = sorted({(int(r["seeds_reached"]), int(r["seeds"])) for r in sub
                    if r.get("seeds_reached") is not None and r.get("seeds")})
    if not pairs:
        return "some seeds reached"
    ks, ns = sorted({k for k, _ in pairs}), sorted({n for _, n in pairs})
    k = f"{ks[0]}" if len(ks) == 1 else f"{ks[0]}-{ks[-1]}"
    n = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    return f"{k} of {n} seeds reached"


def no_tta_reason(crow):
    note = " ".join((r.get("tta_note") or "") for r in crow).lower()
    if "convergence log" in note:
        return "no convergence log"
    if "no target" in note:
        return "no target"
    if "failed" in note:
        return "point failed"
    return ""


def config_notes(crow):
    """What a configuration's legend entry says about its rows in a figure: [(flag, text)] for the
    points that did not reach the target, partial points, and no TTA at all."""
    if crow and all(r["no_tta"] for r in crow):
        why = no_tta_reason(crow)
        return [("no_tta", "no TTA" + (f": {why}" if why else ""))]
    out = []
    none = [r for r in crow if r["none"]]
    if none:
        out.append(("none", "did not reach the target" if len(none) == len(crow) else
                    "target not reached at " + where(none, crow)))
    part = [r for r in crow if r["partial"]]
    if part:
        at = "" if len(part) == len(crow) else " at " + where(part, crow)
        out.append(("partial", f"partial{at}: {seeds_text(part)}"))
    return out


def status_report(rows, cfgs, metric="tta", drawn=True, only=None):
    """figures.txt's account of how the TTAs of a figure were obtained: one line per kind (none,
    partial, extrapolated, interpolated, 1 seed, no TTA), naming each configuration and where;
    drawn: with how the point figures mark it; only: these kinds."""
    if metric != "tta":
        return []
    per = {}
    for label, comp, _ in cfgs:
        crow = [r for r in rows if r["label"] == label]
        if not crow:
            continue
        name = style.display(comp, label)
        if all(r["no_tta"] for r in crow):
            why = no_tta_reason(crow)
            per.setdefault("no_tta", []).append(name + (f" ({why})" if why else ""))
            continue
        for flag, _, _ in MARKS:
            sub = [r for r in crow if r[flag]]
            if not sub:
                continue
            extra = ""
            if flag == "partial":
                extra = f": {seeds_text(sub)}"
            elif flag == "extrapolated":
                held = sorted({int(r["convergence_nodes"]) for r in sub if r.get("convergence_nodes")})
                extra = f": steps recorded at {', '.join(map(str, held))} ranks" if held else ""
            per.setdefault(flag, []).append(f"{name} at {where(sub, crow)}{extra}")
    return [f"{what}{f' [{how}]' if drawn else ''}: " + " | ".join(per[flag])
            for flag, what, how in MARKS if flag in per and (only is None or flag in only)]


def legend_label(comp, label, crow, metric="tta"):
    text = style.display(comp, label)
    notes = [t for _, t in config_notes(crow)] if metric == "tta" else []
    return text + (f" ({'; '.join(notes)})" if notes else "")


def flags_in(rows, metric="tta"):
    if metric != "tta":
        return set()
    return {flag for flag, _, _ in MARKS if any(r[flag] for r in rows)}


def mark_handles(flags, one_seed_ringed=True, clipped=False, lines=True):
    """The legend's key to the marks that a figure drew."""
    from matplotlib.lines import Line2D
    h = []
    if "none" in flags:
        h.append(Line2D([], [], marker="x", ls="none", color=GREY, markeredgewidth=1.0,
                        label="x: target not reached"))
    if "partial" in flags:
        h.append(Line2D([], [], marker="o", ls="none", color=GREY, fillstyle="bottom", markerfacecoloralt="white",
                        label="half-filled: partial"))
    if "interpolated" in flags:
        h.append(Line2D([], [], marker="o", ls="none", color=GREY, markerfacecolor="white",
                        label="hollow: interpolated in N"))
    if "extrapolated" in flags:
        h.append(Line2D([], [], marker="o", ls=(0, (2, 1.5)) if lines else "none", color=GREY, alpha=0.8,
                        markerfacecolor="white", label="dashed: extrapolated in N"))
    if "one_seed" in flags and one_seed_ringed:
        h.append(Line2D([], [], marker="o", ls="none", markersize=7, markerfacecolor="none",
                        markeredgecolor="#888888", markeredgewidth=0.6, label="ringed: 1 seed, no interval"))
    if clipped:
        h.append(Line2D([], [], marker="^", ls="none", color=GREY, markersize=3,
                        label="arrow: bar clipped at axis"))
    return h


# ---------------------------------------------------------------------------------------------
# Legend, notes and footer under the panels.

def _wrap(text, width):
    return textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]


def _legend_layout(labels, width_in, max_cols):
    """(ncol, wrapped labels, height in pt) of a legend of `labels` across width_in inches."""
    if not labels:
        return 1, [], 0.0
    per_char, entry_pad = 3.4, 25.0  # pt per character at 6.5 pt; handle + spacing
    avail = width_in * 72 - 8
    longest = max(len(l) for l in labels)
    ncol = max(1, min(max_cols, len(labels), int(avail // (longest * per_char + entry_pad))))
    fit = max(20, int((avail / ncol - entry_pad) / per_char))
    wrapped = ["\n".join(_wrap(l, fit)) for l in labels]
    rows = [wrapped[i:i + ncol] for i in range(0, len(wrapped), ncol)]
    height = sum(max(w.count("\n") + 1 for w in row) * 7.6 + 1.6 for row in rows) + 4
    return ncol, wrapped, height


def finish(fig, rows, notes=(), cfg_handles=(), marks=()):
    """Under the panels, from the top: the configurations' legend, the key to the marks, notes,
    and the two-line footer. The figure grows by what they take, so the panels keep their size."""
    W, H = fig.get_size_inches()
    wide = W > 5
    cfg_handles, marks = list(cfg_handles), list(marks)
    c_ncol, c_labels, c_h = _legend_layout([h.get_label() for h in cfg_handles], W, 6 if wide else 4)
    m_ncol, m_labels, m_h = _legend_layout([h.get_label() for h in marks], W, 4 if wide else 3)
    note_chars = int(W * 72 / 2.6)
    note_lines = [l for n in notes if n for l in _wrap(n, note_chars)]
    foot_lines = [l for n in footer_lines(rows) for l in _wrap(n, int(W * 72 / 2.45))]
    foot_h = len(foot_lines) * 6.0 + 2
    note_h = (len(note_lines) * 6.4 + 4) if note_lines else 0
    block = (foot_h + note_h + m_h + c_h) / 72
    Hn = H + block
    fig.set_figheight(Hn)
    fy = lambda pt: pt / 72 / Hn  # noqa: E731
    fig.text(0.5, 0.0, "\n".join(foot_lines), ha="center", va="bottom", fontsize=4.8, color="#555555",
             linespacing=1.15)
    if note_lines:
        fig.text(0.5, fy(foot_h), "\n".join(note_lines), ha="center", va="bottom", fontsize=5, color="#555555",
                 linespacing=1.2)
    for handles, labels, ncol, y in ((marks, m_labels, m_ncol, foot_h + note_h),
                                     (cfg_handles, c_labels, c_ncol, foot_h + note_h + m_h)):
        if handles:
            for h, l in zip(handles, labels):
                h.set_label(l)
            fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False, borderaxespad=0.1,
                       bbox_to_anchor=(0.5, fy(y)), handlelength=2.2, columnspacing=1.0, labelspacing=0.35)
    fig.tight_layout(rect=(0, fy(foot_h + note_h + m_h + c_h) + 0.005, 1, 1), h_pad=0.6, w_pad=0.6)


# ---------------------------------------------------------------------------------------------
# Points with intervals: speed-ups and time to accuracy.

def draw_interval(ax, x, lo, hi, c, ylim):
    """A 95 % interval from lo to hi, clipped to the axis: a clipped end is an arrow head."""
    ymin, ymax = ylim
    lo_c, hi_c = max(lo, ymin), min(hi, ymax)
    if hi_c <= lo_c:
        return
    ax.plot([x, x], [lo_c, hi_c], color=c, lw=0.7, zorder=3, solid_capstyle="butt")
    for end, clipped, m in ((lo_c, lo < ymin, "v"), (hi_c, hi > ymax, "^")):
        if clipped:
            ax.plot([x], [end], marker=m, color=c, markersize=3, ls="none", clip_on=False, zorder=3)
        else:
            ax.plot([x], [end], marker="_", color=c, markersize=3.2, markeredgewidth=0.7, ls="none", zorder=3)
    if lo < ymin or hi > ymax:
        CLIPPED[0] += 1


def draw_points(ax, pts, all_xs, none_xs, c, ls, mk, ylim, ring_one_seed, shift=1.0, none_shift=1.0):
    """One configuration's points: pts {x: (y, lo, hi, row)} (row None: no marks), joined where
    they are neighbours (a point missing between two breaks the line); a line into an
    extrapolated point is dashed and paler; marks as mark_handles() explains; an x at the bottom
    of the panel at each x of none_xs (target not reached)."""
    from matplotlib.transforms import blended_transform_factory
    xs = sorted(all_xs)

    def ext(x):
        return pts[x][3] is not None and pts[x][3]["extrapolated"]

    def flush(run):
        if len(run) > 1:
            ax.plot([x * shift for x in run], [pts[x][0] for x in run], ls=ls, color=c, lw=1.0, zorder=2)

    run = []
    for a, b in zip(xs, xs[1:]):
        if a in pts and b in pts and not (ext(a) or ext(b)):
            run = (run or [a]) + [b]
            continue
        flush(run)
        run = []
        if a in pts and b in pts:
            ax.plot([a * shift, b * shift], [pts[a][0], pts[b][0]], ls=(0, (2, 1.5)), color=c, lw=0.8, alpha=0.75,
                    zorder=2)
    flush(run)
    for x, (y, lo, hi, r) in pts.items():
        X = x * shift
        kw = dict(marker=mk, ls="none", color=c, markeredgewidth=0.8, zorder=4)
        if r is not None and r["partial"]:
            kw.update(fillstyle="bottom", markerfacecoloralt="white", markersize=4.6)
        elif r is not None and (r["interpolated"] or r["extrapolated"]):
            kw.update(markerfacecolor="white")
        ax.plot([X], [y], **kw)
        if r is not None and r["one_seed"] and ring_one_seed:
            ax.plot([X], [y], marker="o", markersize=7.5, markerfacecolor="none", markeredgecolor="#888888",
                    markeredgewidth=0.6, ls="none", zorder=3.5)
        if lo is not None and hi is not None:
            draw_interval(ax, X, lo, hi, c, ylim)
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for x in none_xs:
        ax.plot([x * none_shift], [0.045], transform=trans, marker="x", color=c, markersize=4, markeredgewidth=1.0,
                ls="none", clip_on=False, zorder=5)


# The speed-up figures are one figure with the axes swapped: x is one of (nodes, bandwidth),
# one panel per value of the other; break-even marks are drawn where breakeven.csv's axis is x.
AXES = {
    "nodes": {"col": "nodes", "breakeven": "nodes", "xlabel": nodes_xlabel, "draw": log2_nodes_axis,
              "title": node_title, "key": lambda rows, v: node_title(rows, v),
              "omitted": ("node counts", lambda v: f"{int(v)}")},
    "bandwidth": {"col": "bandwidth_gbps", "breakeven": "bandwidth",
                  "xlabel": lambda rows: "bandwidth per NIC (Gbit/s)", "draw": bandwidth_axis,
                  "title": lambda rows, v: fmt_bw(v), "key": lambda rows, v: fmt_bw(v),
                  "omitted": ("bandwidths", lambda v: f"{v:g} Gbit/s")},
}


def tta_unit(rows):
    have = [r["tta_s"] for r in rows if r["tta_s"] is not None]
    peak = max(have) if have else 1.0
    return (3600.0, "h") if peak > 3 * 3600 else ((60.0, "min") if peak > 180 else (1.0, "s"))


def fig_points(kind, x, rows, stem, breakeven=None):
    """kind "speedup" (over dense, against x = "nodes" or "bandwidth") or "tta" (time to accuracy
    against nodes). A few configurations: one panel per value of the other axis, one line per
    configuration. The family (FAMILY_AT or more): one panel per configuration, one line per value
    of the other axis (dark to light). Every panel on one log y scale."""
    xa, pa = AXES[x], AXES["bandwidth" if x == "nodes" else "nodes"]
    if kind == "speedup":
        col, lo_c, hi_c, ylabel, metric = speedup_columns(rows)
        div = 1.0
    else:
        col, lo_c, hi_c, metric = "tta_s", "tta_s_lo", "tta_s_hi", "tta"
        div, unit = tta_unit(rows)
        ylabel = f"time to accuracy ({unit})"
    cfgs = configs(rows)
    fam = is_family(cfgs)
    xs = sorted({r[xa["col"]] for r in rows})
    all_outer = sorted({r[pa["col"]] for r in rows})
    outer = pick(all_outer)
    shown = [r for r in rows if r[pa["col"]] in outer]
    panels = []  # (title, [(label, comp, colour, linestyle, rows, outer value)])
    if fam:
        for label, comp, _ in cfgs:
            if kind == "speedup" and comp == "dense":
                continue  # the reference line at 1
            panels.append((style.display(comp, label), [
                (label, comp, style.series_shade(colour(comp, label), i, len(outer)),
                 style.LINESTYLES[i % len(style.LINESTYLES)],
                 [r for r in shown if r["label"] == label and r[pa["col"]] == v], v) for i, v in enumerate(outer)]))
    else:
        for v in outer:
            panels.append((pa["title"](rows, v), [
                (label, comp, colour(comp, label), ls, [r for r in shown if r["label"] == label and r[pa["col"]] == v], v)
                for label, comp, ls in cfgs]))
    plan, values, ends, any_none = [], [], [], False
    for pi, (_, series) in enumerate(panels):
        for si, (label, comp, c, ls, srows, v) in enumerate(series):
            pts = {}
            for r in srows:
                if r[col] is None:
                    continue
                lo = r.get(lo_c) if lo_c else None
                hi = r.get(hi_c) if hi_c else None
                if lo is None or hi is None:
                    lo = hi = None
                pts[r[xa["col"]]] = (r[col] / div, None if lo is None else lo / div, None if hi is None else hi / div,
                                     r if metric == "tta" else None)
            none_xs = [r[xa["col"]] for r in srows if metric == "tta" and r["none"]]
            values += [p[0] for p in pts.values()]
            ends += [e for p in pts.values() for e in p[1:3] if e is not None]
            any_none = any_none or bool(none_xs)
            plan.append((pi, si, len(series), label, comp, c, ls, pts, sorted({r[xa["col"]] for r in srows}),
                         none_xs, v))
    if kind == "speedup":
        values.append(1.0)
    ylim = log_limits(values, ends, any_none)
    if fam:
        ncols = 4 if len(panels) > 6 else 3
        fig, axes = style.grid(len(panels), ncols=ncols, sharey=True, width=style.PAGE_WIDTH_IN, panel_height=1.3)
    else:
        ncols = 2
        fig, axes = style.grid(len(panels), sharey=True)
    ncols = 1 if len(panels) == 1 else min(ncols, len(panels))
    got = [r for r in shown if r["tta_s"] is not None]
    one_seed_all = metric == "tta" and bool(got) and all(r["one_seed"] for r in got)
    spread = 0.09 if (kind == "tta" or fam) else 0.05
    for ax in axes:
        ax.set_yscale("log")
        ax.set_ylim(*ylim)
    extra_handles = []
    for pi, si, ns, label, comp, c, ls, pts, all_xs, none_xs, v in plan:
        ax = axes[pi]
        off = si - (ns - 1) / 2
        draw_points(ax, pts, all_xs, none_xs, c, ls, style.marker(comp), ylim, not one_seed_all,
                    shift=2 ** (off * spread), none_shift=2 ** (off * 0.07))
        if kind == "speedup" and breakeven and breakeven["axis"] == xa["breakeven"]:
            sel = (lambda r, v=v, label=label: r.get(pa["col"]) == v and r["label"] == label)
            extra_handles = mark_crossings(ax, breakeven, metric, sel, rows, c) or extra_handles
    for i, ax in enumerate(axes):
        prow = [r for series in panels[i][1] for r in series[4]]
        if not any(item[7] or item[9] for item in plan if item[0] == i):  # an empty panel says why
            why = no_tta_reason(prow) if prow and all(r["no_tta"] for r in prow) else ""
            ax.text(0.5, 0.5, "no TTA" + (f"\n({why})" if why else "") if metric == "tta" else "no data",
                    transform=ax.transAxes, ha="center", va="center", fontsize=6, color="#777777")
        if kind == "speedup":
            ax.axhline(1.0, color="#999999", lw=0.6, zorder=0)
        xa["draw"](ax, xs, rows)
        ax.set_title(panels[i][0])
        if i + ncols >= len(axes):
            ax.set_xlabel(xa["xlabel"](rows))
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        readable_log(ax.yaxis)
        ax.set_ylim(*ylim)
    # The legend: configurations (few) or the other axis' values (family), then the marks.
    if fam:
        cfg_handles = [_line(style.LINESTYLES[i % len(style.LINESTYLES)], style.series_shade(GREY, i, len(outer)),
                             "o", pa["key"](rows, v)) for i, v in enumerate(outer)]
    else:
        cfg_handles = [_line(ls, colour(comp, label), style.marker(comp),
                             legend_label(comp, label, [r for r in shown if r["label"] == label], metric))
                       for label, comp, ls in cfgs if any(r["label"] == label for r in shown)]
    marks = mark_handles(flags_in(shown, metric) - {"no_tta"}, not one_seed_all, CLIPPED[0] > 0) + extra_handles
    notes = []
    if ends or lo_c:
        notes.append("error bars: 95 % interval over seeds (on log TTA), where one exists" if kind == "tta" else
                     "error bars: 95 % interval over paired seeds, where one exists")
    if one_seed_all:
        notes.append("every point is one seed: no intervals")
    if fam:
        for label, comp, _ in cfgs:
            said = [t for _, t in config_notes([r for r in shown if r["label"] == label])] if metric == "tta" else []
            if said:
                notes.append(f"{style.display(comp, label)}: {'; '.join(said)}")
    nobase = [r for r in shown if kind == "speedup" and metric == "tta" and r["tta_s"] is not None and r[col] is None]
    if nobase:
        why = sorted({r.get("speedup_note") for r in nobase if r.get("speedup_note")})
        notes.append("no speedup (TTA but no baseline to pair with) at " + where(nobase, shown) +
                     (f": {why[0]}" if len(why) == 1 else " (speedup_note says why)"))
    clipped = f"{CLIPPED[0]} error bar(s) clipped at the axis (arrow heads)" if CLIPPED[0] else ""
    what, fmt = pa["omitted"]
    left = omitted(all_outer, outer, what, fmt)
    if left and fam:
        left = left.replace("not drawn as panels", "not drawn")
    note = "; ".join(n for n in (left, clipped, notes[-1] if nobase else "") if n)
    finish(fig, rows, notes + [n for n in (clipped, left) if n], cfg_handles, marks)
    return style.save(fig, stem), note, status_report(shown, cfgs, metric)


def _line(ls, c, mk, label):
    from matplotlib.lines import Line2D
    return Line2D([], [], ls=ls, color=c, marker=mk, label=label)


def same_group(r, rows):
    """A breakeven.csv row belongs to the figure's (topology, profile, latency)."""
    g = rows[0]
    lat = r.get("latency_us")
    if lat is None:
        return False
    return r.get("topology") == g["topology"] and r.get("profile") == g["profile"] and lat == g["latency_us"]


def mark_crossings(ax, breakeven, metric, select, rows, c=None):
    """Break-even points from breakeven.csv at speedup 1, in each configuration's colour (or c)."""
    from matplotlib.lines import Line2D
    drawn = 0
    labels = {r["label"] for r in rows}
    for r in breakeven["rows"]:
        if r["metric"] != metric or not select(r) or not same_group(r, rows) or r["label"] not in labels:
            continue
        cc = c or colour(r["compressor"], r["label"])
        ax.axvline(r["value"], color=cc, lw=0.6, ls=(0, (1, 1.5)), zorder=1)
        ax.plot([r["value"]], [1.0], marker="X", color=cc, markersize=4.5, markeredgecolor="white",
                markeredgewidth=0.5, zorder=5)
        lo, hi = r.get("breakeven_ci_lo"), r.get("breakeven_ci_hi")
        if lo is not None or hi is not None:  # the interval from the seeds; an open end runs to the axis
            x0, x1 = ax.get_xlim()
            ax.plot([lo if lo is not None else x0, hi if hi is not None else x1], [1.0, 1.0], color=cc, lw=2.4,
                    alpha=0.4, solid_capstyle="butt", zorder=4)
            ax.set_xlim(x0, x1)
        drawn += 1
    MARKED[0] += drawn
    if not drawn:
        return []
    return [Line2D([], [], marker="X", ls=(0, (1, 1.5)), color=GREY, markersize=4.5,
                   label=f"break-even ({'TTA, bar: its 95 % interval' if metric == 'tta' else 'iteration'}, bisection)")]


# ---------------------------------------------------------------------------------------------
# Where the time goes: the steady iteration, and the warm-up/ramp share of the TTA.

PARTS = [("compute_s", 0.30, None, "compute (pale)"),
         ("compression_s", 0.30, "//////", "compression (hatched)"),
         ("exposed_comm_s", 1.0, None, "exposed comm. (full)")]


def bar_cap(heights):
    """Where to cut the tallest bars so that the others stay readable: None when none stands out."""
    hs = sorted(h for h in heights if h is not None)
    if not hs:
        return None
    q = hs[int(0.8 * (len(hs) - 1))]
    cap = max(2.5, 1.25 * q)
    return cap if hs[-1] > 1.1 * cap else None


def fig_breakdown(rows, stem):
    """Per bandwidth panel: stacked compute, compression and exposed communication of each
    configuration's steady iteration, relative to dense's at the same point (one y scale for every
    panel; bars far above the rest are cut, their value written on them), grouped by node count
    (dense's own time under each group). Under each panel, on one scale, the share of the time to
    accuracy spent in the dense warm-up and the ratio-ramp steps."""
    from matplotlib.patches import Patch
    from matplotlib.transforms import blended_transform_factory
    cfgs = configs(rows)
    fam = is_family(cfgs)
    all_bws = sorted({r["bandwidth_gbps"] for r in rows})
    bws = pick(all_bws)
    all_nodes = sorted({r["nodes"] for r in rows})
    nodes = pick(all_nodes, max(2, MAX_BARS // max(1, len(cfgs))))
    shown = [r for r in rows if r["bandwidth_gbps"] in bws and r["nodes"] in nodes]
    at = {(r["label"], r["nodes"], r["bandwidth_gbps"]): r for r in shown}
    base = next((label for label, comp, _ in cfgs if comp == "dense"), None)
    norm = base is not None and any((base, n, bw) in at for n in nodes for bw in bws)
    div, unit = time_unit(max(r["iteration_s"] for r in shown))

    def denom(n, bw):
        if not norm:
            return div
        d = at.get((base, n, bw))
        return d["iteration_s"] if d and d.get("iteration_s") else None

    heights = [r["iteration_s"] / denom(r["nodes"], r["bandwidth_gbps"]) for r in shown
               if r.get("iteration_s") is not None and denom(r["nodes"], r["bandwidth_gbps"])]
    cap = bar_cap(heights) if norm else None
    top = (cap * 1.22) if cap else max(heights + [1.0 if norm else 0.0]) * 1.08
    if norm:
        top = max(top, 1.5)  # room for dense's own time over its bar
    shares = [r["warmup_ramp_share"] for r in shown if r["tta_s"] is not None and r.get("warmup_ramp_share") is not None]
    has_share = bool(shares) and max(shares) > 0
    ncols = 1 if len(bws) == 1 else 2
    nrows = (len(bws) + ncols - 1) // ncols
    ratios = [1.35, 0.62] * nrows if has_share else [1.35] * nrows
    fig = plt.figure(figsize=(style.PAGE_WIDTH_IN if fam else style.COLUMN_WIDTH_IN, 0.35 + sum(ratios)))
    gs = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
    tops, lows = [], []
    width = 0.82 / max(1, len(cfgs))
    trans_cache = {}
    for i, bw in enumerate(bws):
        rr, cc = divmod(i, ncols)
        grow = rr * 2 if has_share else rr
        ax = fig.add_subplot(gs[grow, cc], sharey=tops[0] if (tops and norm) else None)
        tops.append(ax)
        sax = None
        if has_share:
            sax = fig.add_subplot(gs[grow + 1, cc], sharey=lows[0] if lows else None)
            lows.append(sax)
            trans_cache[i] = blended_transform_factory(sax.transData, sax.transAxes)
        for ci, (label, comp, _) in enumerate(cfgs):
            c = colour(comp, label)
            for gi, n in enumerate(nodes):
                r = at.get((label, n, bw))
                d = denom(n, bw)
                if r is None or not d:
                    continue
                x = gi + (ci - (len(cfgs) - 1) / 2) * width
                bottom, cut = 0.0, False
                for key, alpha, hatch, _ in PARTS:
                    h = max(0.0, r[key] or 0.0) / d
                    if cap and bottom + h > cap:
                        h, cut = max(0.0, cap - bottom), True
                    ax.bar(x, h, width * 0.92, bottom=bottom, color=c, alpha=alpha, linewidth=0)
                    if hatch and h > 0:  # the hatch drawn opaque over the pale fill, so it stays visible
                        ax.bar(x, h, width * 0.92, bottom=bottom, facecolor="none", hatch=hatch, edgecolor=c,
                               linewidth=0)
                    bottom += h
                    if cut:
                        break
                if cut:
                    CLIPPED[0] += 1
                    ax.plot([x - width * 0.5, x + width * 0.5], [cap * 0.9, cap * 0.95], color="white", lw=1.2,
                            zorder=5, solid_capstyle="butt")
                    total = r["iteration_s"] / d
                    ax.text(x, cap * 1.01, f"{total:.3g}x", rotation=90, ha="center", va="bottom", fontsize=4.6,
                            color=c)
                if norm and label == base:  # dense's own time, over its bar
                    ax.text(x, 1.04, fmt_time(d), rotation=90, ha="center", va="bottom", fontsize=4.6, color=GREY)
                if sax is not None:
                    if r["tta_s"] is not None and r.get("warmup_ramp_share") is not None:
                        sax.bar(x, 100 * r["warmup_ramp_share"], width * 0.92, color=c, alpha=0.85, linewidth=0)
                    elif r["none"]:
                        sax.plot([x], [0.08], transform=trans_cache[i], marker="x", color=c, markersize=3.2,
                                 markeredgewidth=0.9, ls="none", clip_on=False, zorder=5)
        ax.set_xlim(-0.5, len(nodes) - 0.5)
        ax.set_xticks(range(len(nodes)))
        ax.set_xticklabels(node_ticklabels(rows, nodes))
        ax.grid(axis="x", visible=False)
        ax.set_title(network_title(rows, bw))
        ax.set_ylim(0, top)
        if cc == 0:
            ax.set_ylabel("iteration time\n(x dense's)" if norm else f"iteration time ({unit})")
        elif norm:
            ax.tick_params(labelleft=False)
        if norm:
            ax.axhline(1.0, color="#999999", lw=0.5, ls=(0, (3, 2)), zorder=0)
        if sax is not None:
            sax.set_xlim(-0.5, len(nodes) - 0.5)
            sax.set_xticks(range(len(nodes)))
            sax.set_xticklabels(node_ticklabels(rows, nodes))
            sax.grid(axis="x", visible=False)
            if cc == 0:
                sax.set_ylabel("warm-up+ramp\n(% of TTA)")
            else:
                sax.tick_params(labelleft=False)
            if i + ncols >= len(bws):
                sax.set_xlabel(nodes_xlabel(rows))
        elif i + ncols >= len(bws):
            ax.set_xlabel(nodes_xlabel(rows))
    if lows:
        lows[0].set_ylim(0, max(5.0, 100 * max(shares) * 1.2))
    comp_handles = [Patch(color=colour(c, l), label=style.display(c, l)) for l, c, _ in cfgs]
    # Parts in a neutral hue that no compressor uses, so "exposed comm." is not read as Dense.
    part_handles = [Patch(facecolor="#8a6d3b", alpha=a, label=name) if not h else
                    Patch(facecolor="#e8e0d0", hatch=h, edgecolor="#8a6d3b", linewidth=0, label=name)
                    for _, a, h, name in PARTS]
    marks = mark_handles({"none"} if has_share and any(r["none"] for r in shown) else set())
    notes, facts = [], []
    if norm:
        notes.append("bars: steady-state iteration time over dense's at the same point (dense's own time written "
                     "over its bar)")
    comp_share = max((r["compression_s"] or 0.0) / r["iteration_s"] for r in shown if r.get("iteration_s"))
    if comp_share < 0.01:
        notes.append(f"compression kernels take at most {100 * comp_share:.2g} % of any iteration (too thin to see)")
    if CLIPPED[0]:
        facts.append(f"{CLIPPED[0]} bar(s) cut at {cap:.3g}x dense, their value written on them")
    if has_share:
        notes.append("lower panels: share of the time to accuracy spent in the dense warm-up and ratio-ramp steps")
    elif shares:
        facts.append("no configuration spends time in warm-up or ramp steps (every TTA is steady-state steps)")
    elif has_tta(shown):
        facts.append("warm-up/ramp share of TTA: not in these results (warmup_ramp_share missing)")
    facts.append(omitted(all_bws, bws, "bandwidths", lambda v: f"{v:g} Gbit/s"))
    if nodes != all_nodes:
        facts.append("node counts not drawn (too many bars): " + ", ".join(f"{int(n)}" for n in all_nodes
                                                                        if n not in nodes))
    facts = [f for f in facts if f]
    finish(fig, rows, notes + facts, comp_handles, part_handles + marks)
    report = status_report(shown, cfgs, drawn=False, only=("none", "partial", "no_tta")) if has_share else []
    return style.save(fig, stem), "; ".join(facts), report


def time_unit(seconds):
    """A readable unit for a set of times: (divisor, name)."""
    if seconds < 1e-3:
        return 1e-6, "us"
    if seconds < 1:
        return 1e-3, "ms"
    return 1.0, "s"


# ---------------------------------------------------------------------------------------------
# Accuracy curves.

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


def draw_curve(ax, r, band, c, ls, label=None):
    """A configuration's mean curve with its seed band (when it has several seeds)."""
    xs = [b[0] for b in band]
    ax.plot(xs, [b[1] for b in band], ls=ls, color=c, label=label, zorder=3)
    if len(r["curves"]) > 1:
        ax.fill_between(xs, [b[2] for b in band], [b[3] for b in band], color=c, alpha=0.18, linewidth=0, zorder=2)


def accuracy_panels(rows, stem, target, xkey_of, xlabel, to_target, per_bw, note_bits, need_shapes=False):
    """The two accuracy figures. per_bw: one panel per bandwidth (time; at the largest node count)
    or per node count (bytes; at the lowest bandwidth, bytes do not depend on it). The family: one
    panel per configuration at the largest node count and the lowest bandwidth, the others' mean
    curves in grey behind it. to_target(r): x of the mark at the target (or None); a time is a
    dotted vertical, an amount of traffic a marker."""
    with_curve = [r for r in tta_figure_rows(rows) if r["shapes"] or not need_shapes]
    cfgs = configs(rows)
    fam = is_family(cfgs)
    _, ylabel = metric_name(target)
    n_max = max(r["nodes"] for r in with_curve)
    bw_min = min(r["bandwidth_gbps"] for r in with_curve)
    if fam:
        sel = [r for r in with_curve if r["nodes"] == n_max and r["bandwidth_gbps"] == bw_min]
        cfgs_here = [c for c in cfgs if any(r["label"] == c[0] for r in sel)]
        panels = []
        for label, comp, _ in cfgs_here:
            mine = [r for r in sel if r["label"] == label]
            said = "target not reached" if any(r["none"] for r in mine) else (
                seeds_text(mine) if any(r["partial"] for r in mine) else "")
            panels.append((style.display(comp, label) + (f": {said}" if said else ""), mine))
        fig, axes = style.grid(len(panels), ncols=4 if len(panels) > 6 else 3, sharey=True,
                               width=style.PAGE_WIDTH_IN, panel_height=1.3)
        ncols = 1 if len(panels) == 1 else (4 if len(panels) > 6 else 3)
        left = ""
        where_txt = f"{fmt_bw(bw_min)}, {node_title(rows, n_max)}" if per_bw else node_title(rows, n_max)
    else:
        if per_bw:
            all_v = sorted({r["bandwidth_gbps"] for r in with_curve})
            vs = pick(all_v)
            panels = [(fmt_bw(v), [r for r in with_curve if r["nodes"] == n_max and r["bandwidth_gbps"] == v])
                      for v in vs]
            left = omitted(all_v, vs, "bandwidths", lambda v: f"{v:g} Gbit/s")
            where_txt = node_title(rows, n_max)
        else:
            all_v = sorted({r["nodes"] for r in with_curve})
            vs = pick(all_v)
            panels = [(node_title(rows, v), [r for r in with_curve if r["nodes"] == v and r["bandwidth_gbps"] == bw_min])
                      for v in vs]
            left = omitted(all_v, vs, "node counts", lambda v: f"{int(v)}")
            where_txt = ""
        fig, axes = style.grid(len(panels), sharey=True)
        ncols = 1 if len(panels) == 1 else 2
    bands = {}
    for pi, (_, prow) in enumerate(panels):
        for r in prow:
            band = seed_band(r["curves"], target, lambda step, wall, r=r: xkey_of(r, step, wall))
            if band:
                bands[(pi, r["label"])] = (r, band)
    used = [r for (_, _), (r, _) in bands.items()]
    style_of = {label: (comp, ls) for label, comp, ls in cfgs}
    for pi, ax in enumerate(axes):
        mine = {k[1]: v for k, v in bands.items() if k[0] == pi}
        if fam:  # the rest of the family in grey, behind
            label = panels[pi][1][0]["label"]
            for (_, other), (_, band2) in bands.items():
                if other != label:
                    ax.plot([b[0] for b in band2], [b[1] for b in band2], color="#bbbbbb", lw=0.6, zorder=1)
        for label, (r, band) in mine.items():
            comp, ls = style_of[label]
            c = colour(comp, label)
            draw_curve(ax, r, band, c, ls, label=style.display(comp, label))
            x_t = to_target(r) if r["tta_s"] is not None else None
            if x_t:
                if per_bw:
                    ax.axvline(x_t, color=c, lw=0.6, ls=":", zorder=0)
                elif target:  # marked as in the point figures: half-filled partial, hollow across N
                    kw = ({"fillstyle": "bottom", "markerfacecoloralt": "white"} if r["partial"] else
                          {"markerfacecolor": "white"} if (r["interpolated"] or r["extrapolated"]) else {})
                    ax.plot([x_t], [metric_value(target, target["value"])], style.marker(comp), color=c,
                            markeredgewidth=0.8, zorder=4, **kw)
        if target:
            ax.axhline(metric_value(target, target["value"]), color="#999999", lw=0.6, ls="--", zorder=0)
        ax.set_xscale("log")
        readable_log(ax.xaxis)
        ax.set_title(panels[pi][0])
        if pi + ncols >= len(axes):
            ax.set_xlabel(xlabel)
        if pi % ncols == 0:
            ax.set_ylabel(ylabel)
    if fam:  # one x range for every panel
        lo = min(ax.get_xlim()[0] for ax in axes)
        hi = max(ax.get_xlim()[1] for ax in axes)
        for ax in axes:
            ax.set_xlim(lo, hi)
            readable_log(ax.xaxis)
    seeds = max((len(r["curves"]) for r in used), default=1)
    notes = [(f"line: mean of {seeds} seeds, band: their range" if seeds > 1 else "one seed per curve")
             + ("; dotted: TTA" if per_bw else "; marker: mean over seeds at the target")]
    if where_txt:
        notes.append(("every panel: " if not fam else "at ") + where_txt +
                     ("; grey: the other configurations" if fam else ""))
    from_other = sorted({(style.display(style_of[r["label"]][0], r["label"]), int(r["convergence_nodes"]))
                         for r in used if r.get("convergence_nodes") and r["convergence_nodes"] != r["ranks"]})
    if from_other:
        notes.append("curves recorded at other ranks: " + ", ".join(f"{n} ({k} ranks)" for n, k in from_other))
    cfg_handles = []
    if fam:
        for label, comp, _ in cfgs:
            said = [t for _, t in config_notes([r for r in used if r["label"] == label])]
            if said:
                notes.append(f"{style.display(comp, label)}: {'; '.join(said)}")
    else:
        cfg_handles = [_line(ls, colour(comp, label), None,
                             legend_label(comp, label, [r for r in used if r["label"] == label]))
                       for label, comp, ls in cfgs if any(r["label"] == label for r in used)]
    notes += [n for n in note_bits if n]
    if left:
        notes.append(left)
    marks = []
    if not per_bw:  # the markers at the target are marked as in the point figures
        from matplotlib.lines import Line2D
        flags = flags_in([r for r in used if r["tta_s"] is not None])
        marks = mark_handles(flags & {"partial"})
        if flags & {"interpolated", "extrapolated"}:
            marks.append(Line2D([], [], marker="o", ls="none", color=GREY, markerfacecolor="white",
                                label="hollow: estimated across N"))
    finish(fig, rows, notes, cfg_handles, marks)
    return style.save(fig, stem), left, used


def fig_accuracy_vs_time(rows, stem, target):
    files, note, used = accuracy_panels(rows, stem, target, lambda r, step, wall: wall, "predicted wall-clock (s)",
                                        lambda r: r["tta_s"], True, [])
    return files, note, status_report(used, configs(rows), drawn=False)


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
    span_ = f"{lo:.2f}" if abs(hi - lo) < 0.005 else f"{lo:.2f}-{hi:.2f}"
    return f"authors' convention: 8N x {span_} x these bytes (--traffic authors)"


def fig_accuracy_vs_bytes(rows, stem, target, traffic="simulated"):
    with_curve = [r for r in tta_figure_rows(rows) if r["shapes"]]
    to_target = "bits_to_target_authors" if traffic == "authors" else "bytes_per_node_to_target"
    nodes = pick(sorted({r["nodes"] for r in with_curve}))
    other = "" if traffic == "authors" else traffic_ratio_note(with_curve, nodes)
    files, note, used = accuracy_panels(
        rows, stem, target, lambda r, step, wall: cumulative_traffic(r, step, traffic),
        "Gbit, all ranks (authors)" if traffic == "authors" else "GB sent per node",
        lambda r: (r[to_target] / 1e9) if (target and r.get(to_target)) else None, False, [other], need_shapes=True)
    if other:  # figures.txt says it in full
        note = "; ".join(x for x in (note, other.replace("authors' convention:", "the authors' convention (global "
                                     "bits of all ranks, 2(N-1)b per all-reduce, N(N-1)b per all-gather) counts"))
                         if x)
    return files, note, status_report(used, configs(rows), drawn=False)


def fig_tta_vs_nodes(rows, stem):
    return fig_points("tta", "nodes", rows, stem)


def fig_speedup_over(x, rows, stem, breakeven):
    return fig_points("speedup", x, rows, stem, breakeven)


def groups(rows):
    keys = []
    for r in sorted(rows, key=lambda r: r["point"]):
        k = (r["topology"], r["profile"], r["latency_us"])
        if k not in keys:
            keys.append(k)
    return keys


def failed_note(failed):
    """The points that failed (not drawn), one clause."""
    if not failed:
        return ""
    by = {}
    for r in failed:
        by.setdefault(r.get("label") or r.get("compressor") or "?", []).append(r)
    parts = []
    for label, rs in by.items():
        pts = ", ".join(f"N={int(r['nodes'])} {r['bandwidth_gbps']:g} Gbit/s" if r.get("nodes") is not None and
                        r.get("bandwidth_gbps") is not None else f"point {int(r['point'])}" for r in rs)
        parts.append(f"{label} at {pts}")
    return "failed points (not drawn; see results.csv error): " + "; ".join(parts)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results_dir")
    ap.add_argument("--out", help="where to write the figures (default: RESULTS_DIR)")
    ap.add_argument("--traffic", choices=["simulated", "authors"], default="simulated",
                    help="x axis of accuracy_vs_bytes: GB one node sent as simulated (default), or Gbit of "
                         "all ranks in the ARC-Top-K authors' convention")
    args = ap.parse_args(argv)
    try:
        return plot(args)
    except InputError as e:
        fail(e)
    except style.WriteError as e:  # a full disk, a refused link: the previous figures are kept
        fail(f"{e.strerror}" + ("" if e.errno == errno.EEXIST else " (the previous figures are kept)"))
    except OSError as e:
        fail(f"{e.filename or args.out or args.results_dir}: {e.strerror or e}")
    except KeyboardInterrupt:
        fail("interrupted (the previous figures are kept)", 130)
    except Exception as e:  # a case the checks of load() miss: still one line naming the inputs
        fail(f"{args.results_dir}: results.csv / results.json / breakeven.csv: expected what arcsim sweep and "
             f"arcsim breakeven write, got content the plot cannot draw ({type(e).__name__}: {e})")
    finally:
        style.STAGED.discard()


def plot(args):
    """Every figure and figures.txt, rendered to temporaries first and renamed together at the end."""
    rows, failed, target, breakeven = load(args.results_dir)
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
        fail_here = failed_note([r for r in failed if (r.get("topology"), r.get("profile"), r.get("latency_us")) == key])
        if fail_here:
            lines.append(f"points{suffix}: {fail_here}")
        conv = has_tta(sub) and tta_figure_rows(sub)
        if conv:
            figs += [("accuracy_vs_time", lambda s: fig_accuracy_vs_time(sub, s, target)),
                     ("accuracy_vs_bytes", lambda s: fig_accuracy_vs_bytes(sub, s, target, args.traffic)),
                     ("tta_vs_nodes", lambda s: fig_tta_vs_nodes(sub, s))]
        for name, draw in figs:
            MARKED[0] = CLIPPED[0] = 0
            files, note, report = draw(p(name))
            if MARKED[0]:
                note = "; ".join(x for x in (note, f"{MARKED[0]} break-even crossing(s) from breakeven.csv marked") if x)
            written += files
            lines.append(f"{name}{suffix}: drawn" + (f"; {note}" if note else ""))
            lines += [f"  {r}" for r in report]
        if not conv:
            lines.append(f"accuracy_vs_time{suffix}, accuracy_vs_bytes{suffix}, tta_vs_nodes{suffix}: not drawn: "
                         "no time to accuracy in these results (the trace has no convergence log that reaches the "
                         "target for them); speedups are per iteration")
            print("plot_results.py: note: " + lines[-1], file=sys.stderr)
    style.STAGED.stage_text(os.path.join(out, "figures.txt"), "\n".join(lines) + "\n")
    style.STAGED.commit()
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
