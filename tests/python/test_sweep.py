"""`arcsim sweep` end to end on a small copy of experiments/default.json: resume after a kill gives the
same bytes as an uninterrupted run, two fresh runs are identical, a failing point is reported and the
others kept, bad specs are one error line with exit 2, and docs/experiments.md lists exactly the
columns results.csv has."""
import csv
import json
import os
import pathlib
import signal
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRACE = str(ROOT / "traces" / "default")


def small_spec(tmp_path, name="small.json", **over):
    spec = json.loads((ROOT / "experiments" / "default.json").read_text())
    spec["trace"] = TRACE
    spec["nodes"] = [8, 16, 32]
    spec["bandwidths"] = ["1Gbps", "100Gbps"]
    spec.update(over)
    path = tmp_path / name
    path.write_text(json.dumps(spec, indent=1))
    return path


def sweep(arcsim_bin, spec, out, *extra, timeout=120):
    return subprocess.run([arcsim_bin, "sweep", str(spec), "--out", str(out), "--quiet", *extra],
                          capture_output=True, text=True, timeout=timeout)


def files(out):
    return (out / "results.csv").read_bytes(), (out / "results.json").read_bytes()


def test_resume_after_kill_gives_identical_files(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path)
    ref = tmp_path / "ref"
    r = sweep(arcsim_bin, spec, ref, "--jobs", "2")
    assert r.returncode == 0, r.stderr

    out = tmp_path / "killed"
    p = subprocess.Popen([arcsim_bin, "sweep", str(spec), "--out", str(out), "--quiet", "--jobs", "1",
                          "--write-interval", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_with = None
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None:
        try:
            s = json.loads((out / "results.json").read_text())["summary"]
        except (OSError, ValueError, KeyError):
            s = None
        if s and s["ok"] >= 2 and s["pending"] > 0:
            p.send_signal(signal.SIGKILL)
            killed_with = s["ok"]
            break
        time.sleep(0.01)
    p.wait(timeout=30)
    assert killed_with is not None, "the sweep finished before it could be killed midway"
    # The interrupted files are complete documents with the finished points only.
    partial = json.loads((out / "results.json").read_text())
    assert 0 < len(partial["points"]) < 24
    with open(out / "results.csv") as f:
        assert len(list(csv.DictReader(f))) == len(partial["points"])

    r = sweep(arcsim_bin, spec, out, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert "reused from an earlier run" in r.stdout
    assert files(out) == files(ref)


def test_two_fresh_runs_are_identical(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8, 64], bandwidths=["10Gbps"])
    a, b = tmp_path / "a", tmp_path / "b"
    for d, jobs in ((a, "1"), (b, "2")):
        r = sweep(arcsim_bin, spec, d, "--jobs", jobs)
        assert r.returncode == 0, r.stderr
    assert files(a) == files(b)
    doc = json.loads((a / "results.json").read_text())
    prov = doc["provenance"]
    for k in ("arcsim_version", "git_commit", "trace_checksum", "network_profiles", "kernel_timing"):
        assert prov.get(k), k
    assert doc["summary"] == {"points": 8, "ok": 8, "failed": 0, "pending": 0}


def test_failing_point_is_reported_and_others_kept(arcsim_bin, tmp_path):
    # A timeout no simulation can meet: every point fails, each is reported, the files hold them all.
    spec = small_spec(tmp_path, nodes=[8], bandwidths=["10Gbps"], point_timeout="1us")
    out = tmp_path / "fail"
    r = sweep(arcsim_bin, spec, out, "--jobs", "2")
    assert r.returncode == 1, r.stderr
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert all(x["status"] == "failed" and "timed out" in x["error"] and x["iteration_s"] == "" for x in rows)
    assert r.stderr.count("failed: ") == 4
    # Mixed: re-running the same dir with a sane timeout keeps nothing failed and fills every point.
    spec2 = small_spec(tmp_path, "ok.json", nodes=[8], bandwidths=["10Gbps"])
    r = sweep(arcsim_bin, spec2, out, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    with open(out / "results.csv") as f:
        assert [x["status"] for x in csv.DictReader(f)] == ["ok"] * 4


@pytest.mark.parametrize("change, field", [
    ({"bandwith": ["1Gbps"]}, "bandwith"),
    ({"compressors": [{"name": "topk", "rank": 4}]}, "compressors[0].rank"),
    ({"compressors": [{"name": "topk", "colour": "red"}]}, "compressors[0].colour"),
    ({"bandwidths": [100]}, "bandwidths[0]"),
    ({"latencies": ["-5us"]}, "latencies[0]"),
    ({"compressors": [{"name": "topk", "ratio": 0}]}, "compressors[0].ratio"),
    ({"compressors": [{"name": "topk", "ratio": 1.5}]}, "compressors[0].ratio"),
    ({"nodes": []}, "nodes"),
    ({"profiles": ["infiniband"]}, "profiles[0]"),
])
def test_bad_spec_is_one_error_line_exit_2(arcsim_bin, tmp_path, change, field):
    spec = small_spec(tmp_path, **change)
    r = sweep(arcsim_bin, spec, tmp_path / "out", timeout=30)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"{spec}: {field}:" in lines[0]


def test_malformed_json_is_one_error_line(arcsim_bin, tmp_path):
    spec = tmp_path / "bad.json"
    spec.write_text('{"trace": "x",, }')
    r = sweep(arcsim_bin, spec, tmp_path / "out", timeout=30)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{spec}: malformed JSON" in lines[0], r.stderr


def doc_columns():
    """The column names of the results.csv table in docs/experiments.md."""
    text = (ROOT / "docs" / "experiments.md").read_text().splitlines()
    start = next(i for i, l in enumerate(text) if l.strip() == "| column | unit | meaning |")
    names = []
    for l in text[start + 2:]:
        if not l.startswith("|"):
            break
        names.append(l.split("|")[1].strip().strip("`"))
    return names


def test_docs_embed_the_columns_table_as_printed(arcsim_bin):
    """`arcsim sweep --columns` is the one source of the column table; docs/experiments.md embeds
    its output verbatim (regenerate: replace the table with that command's output)."""
    printed = subprocess.run([arcsim_bin, "sweep", "--columns"], capture_output=True, text=True).stdout
    table = printed.strip().splitlines()
    docs = (ROOT / "docs" / "experiments.md").read_text().splitlines()
    start = docs.index(table[0])
    assert docs[start:start + len(table)] == table
    assert start + len(table) == len(docs) or not docs[start + len(table)].startswith("|")


def test_documented_columns_are_the_written_ones(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8], bandwidths=["10Gbps"])
    out = tmp_path / "cols"
    r = sweep(arcsim_bin, spec, out, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert doc_columns() == header
    printed = subprocess.run([arcsim_bin, "sweep", "--columns"], capture_output=True, text=True).stdout
    assert [l.split("|")[1].strip().strip("`") for l in printed.splitlines()[2:]] == header
    required = ["compressor", "ratio", "nodes", "bandwidth_gbps", "latency_us", "topology", "profile", "iteration_s",
                "compute_s", "compression_s", "exposed_comm_s", "comm_s", "bytes_per_node", "steps_to_target",
                "tta_s", "speedup_vs_dense", "speedup_vs_topk"]
    assert set(required) <= set(header)


def test_mismatched_compressor_is_refused_at_start_unless_it_names_a_stand_in(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8], bandwidths=["10Gbps"],
                      compressors=[{"name": "dense"}, {"name": "topk", "ratio": 0.2, "ef": "ef14"}])
    r = sweep(arcsim_bin, spec, tmp_path / "w", "--jobs", "2")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "compressors[1]" in lines[0] and "ramp: the trace's topk logs were recorded with ramp true" in lines[0]
    assert not (tmp_path / "w" / "results.csv").exists()
    # Named, the ramp-on logs stand in and the results say so; "none" asks for iteration times only.
    for convergence, config in (("topk-0.2-ef14", "topk-0.2-ef14"), ("none", "")):
        spec = small_spec(tmp_path, nodes=[8], bandwidths=["10Gbps"],
                          compressors=[{"name": "dense"},
                                       {"name": "topk", "ratio": 0.2, "ef": "ef14", "convergence": convergence}])
        out = tmp_path / ("w-" + convergence)
        r = sweep(arcsim_bin, spec, out, "--jobs", "2")
        assert r.returncode == 0, r.stderr
        with open(out / "results.csv") as f:
            topk = list(csv.DictReader(f))[1]
        assert topk["convergence_config"] == config
        assert (topk["tta_s"] != "") == (convergence != "none")


def test_init_writes_a_spec_with_tta_for_every_recorded_configuration(arcsim_bin, tmp_path):
    spec = tmp_path / "init" / "spec.json"
    r = subprocess.run([arcsim_bin, "init", TRACE, "--out", str(spec), "--nodes", "8", "16", "--bandwidths", "10Gbps"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # The default compute is the trace's CPU profile, the default network a GPU cluster's: said.
    assert "warning: compute \"trace\" times every layer as recorded on the CPU" in r.stderr
    doc = json.loads(spec.read_text())
    assert not os.path.isabs(doc["trace"])  # relative to the spec, as the spec format wants
    r = sweep(arcsim_bin, spec, tmp_path / "out", "--jobs", "2", timeout=300)
    assert r.returncode == 0, r.stderr
    # No other warning: every configuration matched its own convergence log.
    assert [w for w in r.stderr.splitlines() if "warning" in w and "compute \"trace\"" not in w] == []
    with open(tmp_path / "out" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for row in rows:
        assert row["convergence_config"] == row["label"]
        assert row["tta_s"] != "" or "not reached" in row["tta_note"], row["tta_note"]
        assert row["seeds"] != "" or "not reached" in row["tta_note"]


def test_breakeven_writes_the_csv(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8], bandwidths=["1Gbps", "100Gbps"],
                      compressors=[{"name": "dense"}, {"name": "arctopk", "ratio": 0.2, "ef": "ef14"}])
    r = subprocess.run([arcsim_bin, "breakeven", str(spec), "--over", "bandwidth", "--out", str(tmp_path / "be"),
                        "--jobs", "2", "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "be" / "breakeven.csv") as f:
        rows = list(csv.DictReader(f))
    assert {row["metric"] for row in rows} == {"tta", "iteration"}
    for row in rows:
        assert "breakeven_bandwidth" in row
        if row["breakeven_bandwidth"]:
            lo, hi, x = float(row["bracket_lo"]), float(row["bracket_hi"]), float(row["breakeven_bandwidth"])
            assert lo <= x <= hi and hi / lo <= 1.01 + 1e-9
            assert (float(row["speedup_lo"]) - 1) * (float(row["speedup_hi"]) - 1) <= 0
        else:
            assert row["note"]
    bad = subprocess.run([arcsim_bin, "breakeven", str(spec), "--over", "latency", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0


def three_seed_trace(tmp_path):
    """traces/default with every log recorded three times: seed k's curve is the original one run
    (1 + 0.08 (k - 1)) times faster, so every seed reaches the target at a known, different step."""
    import shutil
    dst = tmp_path / "trace3"
    shutil.copytree(TRACE, dst)
    doc = json.loads((dst / "trace.json").read_text())
    out = []
    # The shipped trace also holds real seeds 2 and 3 for some configurations: start from seed 1's.
    for c in [c for c in doc["convergence"] if c.get("seed", 1) == 1]:
        pts = c["points"]

        def acc_at(s):
            if s <= pts[0]["step"]:
                return pts[0]["accuracy"]
            for a, b in zip(pts, pts[1:]):
                if a["step"] <= s <= b["step"]:
                    return a["accuracy"] + (s - a["step"]) / (b["step"] - a["step"]) * (b["accuracy"] - a["accuracy"])
            return pts[-1]["accuracy"]
        for k in (1, 2, 3):
            d = json.loads(json.dumps(c))
            d["seed"] = k
            for p in d["points"]:
                p["accuracy"] = acc_at(p["step"] * (1 + 0.08 * (k - 1)))
            d["steps_to_target"] = next((p["step"] for p in d["points"] if p["accuracy"] >= d["target_accuracy"]), None)
            d["stopped"] = "target" if d["steps_to_target"] is not None else "budget"
            out.append(d)
    doc["convergence"] = out
    (dst / "trace.json").write_text(json.dumps(doc, indent=1))
    return dst


def test_three_seeds_give_intervals_in_the_files_and_the_table(arcsim_bin, tmp_path):
    trace = three_seed_trace(tmp_path)
    spec = small_spec(tmp_path, trace=str(trace), nodes=[8, 12, 64], bandwidths=["1Gbps", "100Gbps"])
    out = tmp_path / "s3"
    r = subprocess.run([arcsim_bin, "sweep", str(spec), "--out", str(out), "--jobs", "2", "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    with_tta = [x for x in rows if x["tta_s"]]
    assert with_tta
    for x in with_tta:
        assert x["seeds"] == "3"
        assert float(x["tta_s_lo"]) < float(x["tta_s"]) < float(x["tta_s_hi"])
        assert float(x["steps_to_target_sd"]) > 0
        if x["compressor"] != "dense" and x["speedup_vs_dense"]:
            assert float(x["speedup_vs_dense_lo"]) <= float(x["speedup_vs_dense"]) <= float(x["speedup_vs_dense_hi"])
        if x["nodes"] == "12":
            assert x["tta_note"].startswith("interpolated log-log between N=8 and N=16"), x["tta_note"]
    # The table prints the intervals and marks the N=12 column as interpolated.
    assert "[" in r.stdout and "95 %" in r.stdout
    assert "i (" in r.stdout
    doc = json.loads((out / "results.json").read_text())
    p = next(p for p in doc["points"] if p["tta_s"] is not None)
    assert len(p["seed_curves"]) == 3 and len(p["seed_tta"]) == 3


def test_init_and_breakeven_bad_input_is_one_line(arcsim_bin, tmp_path):
    r = subprocess.run([arcsim_bin, "init", str(tmp_path / "absent"), "--out", str(tmp_path / "s.json")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "absent" in r.stderr
    assert not (tmp_path / "s.json").exists()
    spec = small_spec(tmp_path)
    r = subprocess.run([arcsim_bin, "breakeven", str(spec), "--over", "bandwidth", "--out", str(tmp_path / "b"),
                        "--range", "10Gbps"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--range" in r.stderr and r.stderr.strip().count("\n") == 0


def test_init_writes_one_host_specs_and_one_gpu_choice_times_both(arcsim_bin, tmp_path):
    trace = os.path.join(ROOT, "traces", "default")
    r = subprocess.run([arcsim_bin, "init", trace, "--out", str(tmp_path / "one.json"), "--nodes", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--nodes" in r.stderr and "nothing to communicate" in r.stderr, r.stderr
    assert not (tmp_path / "one.json").exists()
    r = subprocess.run([arcsim_bin, "init", trace, "--out", str(tmp_path / "one.json"), "--nodes", "1",
                        "--topologies", "host-4x4090-shm", "--compute", "model:RTX4090"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    spec = json.loads((tmp_path / "one.json").read_text())
    assert spec["nodes"] == [1] and spec["topologies"] == ["host-4x4090-shm"]
    assert spec["compute"] == spec["kernel_timing"] == "model:RTX4090"


def test_shipped_demo_has_no_bound_outside_the_possible(arcsim_bin, tmp_path):
    """Every interval of the demo's results is positive and holds its centre; statuses and seed
    counts are filled wherever there is a TTA, and ranks are nodes on the one-GPU star."""
    out = tmp_path / "demo"
    r = sweep(arcsim_bin, os.path.join(ROOT, "experiments", "default.json"), out, "--jobs", "2", timeout=600)
    assert r.returncode == 0, r.stderr
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for row in rows:
        assert row["ranks"] == row["nodes"]
        for v, lo, hi in (("tta_s", "tta_s_lo", "tta_s_hi"),
                          ("speedup_vs_dense", "speedup_vs_dense_lo", "speedup_vs_dense_hi"),
                          ("speedup_vs_topk", "speedup_vs_topk_lo", "speedup_vs_topk_hi")):
            if row[lo]:
                assert 0 < float(row[lo]) <= float(row[v]) <= float(row[hi]), (row["label"], v, row[lo], row[v], row[hi])
        if row["tta_s"]:
            assert row["tta_status"] in ("ok", "partial", "extrapolated")
            assert 0 < int(row["seeds_reached"]) <= int(row["seeds"])
