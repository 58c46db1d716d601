"""The plot script on a small hand-made results directory (no simulator needed): every figure is
written, as PDF and PNG, non-empty; a bad directory is one error line."""
import csv
import json
import math
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "plots" / "plot_results.py"
PY = "/usr/bin/python3"
FIGURES = ["speedup_vs_nodes", "speedup_vs_bandwidth", "iteration_breakdown", "accuracy_vs_time",
           "accuracy_vs_bytes", "tta_vs_nodes"]
CONVERGENCE_FIGURES = ["accuracy_vs_time", "accuracy_vs_bytes", "tta_vs_nodes"]

COLUMNS = ["point", "compressor", "label", "ratio", "rank", "ef", "warmup_steps", "ramp_steps", "nodes",
           "bandwidth_gbps", "latency_us", "topology", "profile", "algorithm", "collectives", "kernel_timing",
           "compute_source", "status", "iteration_s", "compute_s", "compression_s", "exposed_comm_s", "comm_s", "bytes_per_node",
           "bits_per_step_authors", "relative_error", "retained_energy", "steps_to_target", "steps_to_target_sd", "seeds", "convergence_nodes",
           "convergence_config", "tta_s", "tta_s_lo", "tta_s_hi", "bytes_per_node_to_target",
           "bits_to_target_authors", "tta_note", "speedup_vs_dense", "speedup_vs_dense_lo",
           "speedup_vs_dense_hi", "speedup_vs_topk", "speedup_vs_topk_lo", "speedup_vs_topk_hi", "iteration_speedup_vs_dense",
           "iteration_speedup_vs_topk", "error"]


def make_results(d, with_curves=True, failed_point=True):
    """A 4-compressor x 3-node x 2-bandwidth sweep from a toy alpha-beta model."""
    comps = [("dense", 1.0, 0.0, 1.0), ("topk", 0.2, 0.004, None), ("randk", 0.2, 0.001, 0.2),
             ("arctopk", 0.2, 0.002, 0.205)]
    steps = {"dense": 400, "topk": 450, "randk": 900, "arctopk": 430}
    model_bytes, compute = 4 * 2.0e6, 0.02
    rows, points = [], []
    i = 0
    for bw in [1.0, 100.0]:
        for n in [8, 16, 64]:
            base = {}
            for name, ratio, kernel_s, ar_frac in comps:
                if ar_frac is None:   # all-gather of values + indices
                    sent = (n - 1) * model_bytes * ratio * 2
                else:
                    sent = 2 * (n - 1) / n * model_bytes * ar_frac
                comm = sent / (bw * 1e9 / 8) + 2 * (n - 1) * 5e-6
                exposed = comm * (0.3 if name == "dense" else 1.0)
                it = compute + kernel_s + exposed
                tta = steps[name] * it
                base.setdefault(name, (it, tta))
                status = "failed" if (failed_point and name == "randk" and n == 64 and bw == 100.0) else "ok"
                r = {c: "" for c in COLUMNS}
                r.update(point=i, compressor=name, label=name, ratio=ratio, nodes=n, bandwidth_gbps=bw,
                         latency_us=5, topology="star", profile="nccl", algorithm="auto", collectives="plan",
                         kernel_timing="model:H100-SXM", compute_source="model:H100-SXM (roofline ...)",
                         status=status)
                if status == "ok":
                    r.update(iteration_s=it, compute_s=compute, compression_s=kernel_s, exposed_comm_s=exposed,
                             comm_s=comm, bytes_per_node=sent, steps_to_target=steps[name], tta_s=tta,
                             steps_to_target_sd=20, seeds=3, tta_s_lo=0.9 * tta, tta_s_hi=1.1 * tta,
                             convergence_nodes=min(n, 32), convergence_config=name,
                             bits_per_step_authors=8 * n * sent, bytes_per_node_to_target=steps[name] * sent,
                             bits_to_target_authors=steps[name] * 8 * n * sent,
                             tta_note="extrapolated: steps to target of N=32 held constant" if n > 32 else "")
                else:
                    r.update(error="killed by signal 11 (Segmentation fault)")
                rows.append(r)
                curve = [[s, s * it, 0.5 + 0.4 * (1 - math.exp(-3 * s / steps[name])), 1.0] for s in
                         range(50, steps[name] + 51, 50)] if with_curves else []
                seed_curves = [{"seed": k, "points": [[s, w, a + 0.01 * (k - 2), 1.0, a + 0.01 * (k - 2)]
                                                      for s, w, a, _ in curve]} for k in (1, 2, 3)]
                points.append({"point": i, "curve": curve if status == "ok" else [],
                               "seed_curves": seed_curves if status == "ok" else [],
                               "convergence_estimate": "extrapolated" if n > 32 else "recorded",
                               "shapes": [{"id": "steady", "kind": "steady", "ratio": ratio, "first_step": 1,
                                           "last_step": -1, "iteration": {"bytes_per_node": sent},
                                           "bits_per_step_authors": 8 * n * sent}]})
                i += 1
    for r in rows:
        if r["status"] != "ok":
            continue
        same = [x for x in rows if x["nodes"] == r["nodes"] and x["bandwidth_gbps"] == r["bandwidth_gbps"]]
        dense = next(x for x in same if x["compressor"] == "dense")
        topk = next(x for x in same if x["compressor"] == "topk")
        r["speedup_vs_dense"] = dense["tta_s"] / r["tta_s"]
        r["speedup_vs_dense_lo"], r["speedup_vs_dense_hi"] = 0.8 * r["speedup_vs_dense"], 1.2 * r["speedup_vs_dense"]
        r["speedup_vs_topk"] = topk["tta_s"] / r["tta_s"]
        r["iteration_speedup_vs_dense"] = dense["iteration_s"] / r["iteration_s"]
        r["iteration_speedup_vs_topk"] = topk["iteration_s"] / r["iteration_s"]
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (d / "results.json").write_text(json.dumps({"format": "arcsim-results/1", "points": points,
                                                "provenance": {"target": {"metric": "accuracy", "value": 0.85}}}))
    return d


def run_plot(d, *extra):
    return subprocess.run([PY, str(SCRIPT), str(d), *extra], capture_output=True, text=True, timeout=300)


def test_every_figure_is_written_non_empty(tmp_path):
    d = make_results(tmp_path / "res")
    r = run_plot(d)
    assert r.returncode == 0, r.stderr
    for fig in FIGURES:
        for ext in ("pdf", "png"):
            p = d / f"{fig}.{ext}"
            assert p.exists(), p
            assert p.stat().st_size > 5000, p
    listed = r.stdout.split()
    assert len(listed) == 2 * len(FIGURES)


def test_without_convergence_no_tta_figures_and_a_note(tmp_path):
    d = make_results(tmp_path / "res", with_curves=False)
    # Drop every TTA: only iteration speedups remain.
    with open(d / "results.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in ("steps_to_target", "steps_to_target_sd", "seeds", "tta_s", "tta_s_lo", "tta_s_hi", "speedup_vs_dense",
                  "speedup_vs_dense_lo", "speedup_vs_dense_hi", "speedup_vs_topk", "convergence_nodes"):
            r[k] = ""
        r["tta_note"] = "no convergence log for this compressor in the trace"
    with open(d / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    r = run_plot(d, "--out", str(tmp_path / "figs"))
    assert r.returncode == 0, r.stderr
    for fig in FIGURES:
        drawn = (tmp_path / "figs" / f"{fig}.pdf").exists()
        assert drawn == (fig not in CONVERGENCE_FIGURES), fig
    notes = (tmp_path / "figs" / "figures.txt").read_text()
    assert "not drawn: no time to accuracy" in notes
    assert "not drawn" in r.stderr


def test_footer_and_omitted_bandwidths_are_stated(tmp_path):
    d = make_results(tmp_path / "res")
    # Six bandwidths: at most four panels, the rest named in figures.txt.
    with open(d / "results.csv") as f:
        rows = list(csv.DictReader(f))
    extra = []
    for bw in (2.0, 5.0, 10.0, 40.0):
        for r in rows[:12]:
            x = dict(r)
            x["bandwidth_gbps"] = bw
            x["point"] = str(len(rows) + len(extra))
            extra.append(x)
    with open(d / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows + extra)
    r = run_plot(d)
    assert r.returncode == 0, r.stderr
    notes = (d / "figures.txt").read_text()
    assert "bandwidths not drawn as panels: " in notes
    footer = next(l for l in notes.splitlines() if l.startswith("footer"))
    for word in ("nccl profile", "5 us", "star", "kernels model:H100-SXM", "compute model:H100-SXM", "seeds 3"):
        assert word in footer, footer


def test_breakeven_crossings_are_drawn(tmp_path):
    d = make_results(tmp_path / "res")
    (d / "breakeven.csv").write_text(
        "compressor,label,nodes,latency_us,topology,profile,ratio,metric,breakeven_bandwidth,bracket_lo,bracket_hi,"
        "speedup_lo,speedup_hi,faster,evaluations,tolerance,note\n"
        "arctopk,arctopk,8,5,star,nccl,0.2,tta,12.5,12.4,12.6,1.01,0.99,below,9,relative 0.01,\n"
        "topk,topk,8,5,star,nccl,0.2,tta,,,,,,,4,relative 0.01,slower than dense over the whole range\n")
    r = run_plot(d)
    assert r.returncode == 0, r.stderr
    assert (d / "speedup_vs_bandwidth.png").stat().st_size > 5000
    notes = (d / "figures.txt").read_text()
    line = next(l for l in notes.splitlines() if l.startswith("speedup_vs_bandwidth"))
    assert "1 break-even crossing(s) from breakeven.csv marked" in line, line


def test_missing_results_is_one_error_line(tmp_path):
    r = run_plot(tmp_path / "nothing-here")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "results.csv" in r.stderr


def test_arcsim_plot_runs_the_script(arcsim_bin, tmp_path):
    d = make_results(tmp_path / "res")
    r = subprocess.run([arcsim_bin, "plot", str(d)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (d / "speedup_vs_nodes.png").stat().st_size > 5000


def test_arcsim_plot_bad_dir_fails_with_one_line(arcsim_bin, tmp_path):
    r = subprocess.run([arcsim_bin, "plot", str(tmp_path / "absent")], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert r.stderr.strip().count("\n") == 0


def test_accuracy_vs_bytes_in_both_conventions(tmp_path):
    d = make_results(tmp_path / "res")
    r = run_plot(d)
    assert r.returncode == 0, r.stderr
    # The default (simulated bytes) says what the authors' counter would show: 8N x the bytes here.
    line = next(l for l in (d / "figures.txt").read_text().splitlines() if l.startswith("accuracy_vs_bytes"))
    assert "8N x 1.00 x these bytes" in line, line
    out = tmp_path / "authors"
    r = run_plot(d, "--out", str(out), "--traffic", "authors")
    assert r.returncode == 0, r.stderr
    assert (out / "accuracy_vs_bytes.pdf").stat().st_size > 5000
    line = next(l for l in (out / "figures.txt").read_text().splitlines() if l.startswith("accuracy_vs_bytes"))
    assert "authors' convention" not in line  # it is the figure's own axis now


def test_authors_traffic_needs_the_bit_columns(tmp_path):
    d = make_results(tmp_path / "res")
    with open(d / "results.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["bits_per_step_authors"] = ""
    with open(d / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    r = run_plot(d, "--traffic", "authors")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "bits_per_step_authors" in r.stderr, r.stderr


def test_cumulative_traffic_follows_shapes_and_the_ef21_start():
    import sys
    sys.path.insert(0, str(ROOT / "plots"))
    import plot_results
    row = {"shapes": [{"first_step": 1, "last_step": 5, "iteration": {"bytes_per_node": 100.0},
                       "bits_per_step_authors": 800.0},
                      {"first_step": 6, "last_step": -1, "iteration": {"bytes_per_node": 10.0},
                       "bits_per_step_authors": 80.0}],
           "ef21_init": {"step": 6, "bits": 5000.0}}
    assert plot_results.cumulative_traffic(row, 3, "simulated") == pytest.approx(300 / 1e9)
    assert plot_results.cumulative_traffic(row, 10, "simulated") == pytest.approx((500 + 50) / 1e9)
    assert plot_results.cumulative_traffic(row, 5, "authors") == pytest.approx(4000 / 1e9)
    # Step 6 is EF21's dense start: the authors' counter adds its own amount, not the shape's.
    assert plot_results.cumulative_traffic(row, 10, "authors") == pytest.approx((4000 + 5000 + 4 * 80) / 1e9)
    row["shapes"][1]["bits_per_step_authors"] = None
    assert plot_results.cumulative_traffic(row, 10, "authors") is None
