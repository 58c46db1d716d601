"""arcsim simulate's nccl-tests-style table and arcsim calibrate --nccl-tests, end to end."""
import json
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
from gen_nccl_log import header as nccl_log_header  # noqa: E402


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)


def one_error_line(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip().count("\n") == 0, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def table(arcsim_bin, *args):
    r = run(arcsim_bin, "simulate", "--collective", "allreduce", "--profile", "nccl", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_table_follows_nccl_tests_definitions(arcsim_bin):
    d = table(arcsim_bin, "--min-bytes", "1MiB", "--max-bytes", "1GiB", "--step-factor", "4",
              "--topology", "dgx-a100", "--nodes", "2")
    rows = d["rows"]
    assert [r["bytes"] for r in rows] == [1048576 * 4 ** i for i in range(6)]
    n = d["ranks"]
    assert n == 16
    for r in rows:
        algbw = r["bytes"] / (r["time_us"] * 1e-6) / 1e9
        assert abs(r["algbw_GBps"] / algbw - 1) < 1e-9
        assert abs(r["busbw_GBps"] / (algbw * 2 * (n - 1) / n) - 1) < 1e-9
        assert r["algorithm"] in ("ring", "tree") and r["protocol"] in ("LL", "LL128", "Simple")
    # Large messages are NIC-bound: 8 NICs x 24 GB/s achievable.
    assert 180 < rows[-1]["busbw_GBps"] < 195


def test_table_text_and_bad_input(arcsim_bin):
    r = run(arcsim_bin, "simulate", "--collective", "allgather", "--profile", "nccl", "--topology", "p4d",
            "--nodes", "2", "--min-bytes", "1MiB", "--max-bytes", "4MiB")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert len(lines) == 3
    assert "busbw_GBps" in r.stdout and "simulated" in r.stdout
    one_error_line(run(arcsim_bin, "simulate", "--collective", "allreduce", "--nodes", "2",
                       "--min-bytes", "4MiB", "--max-bytes", "1MiB"), "--max-bytes")
    one_error_line(run(arcsim_bin, "simulate", "--collective", "allreduce", "--nodes", "2", "--profile", "nccl",
                       "--bytes", "1MiB", "--protocol", "LL256"), "protocol")


def write_log(path, hosts, rows):
    lines = nccl_log_header(hosts)
    for size, t in rows:
        algbw = size / t / 1e3
        busbw = algbw * 2 * 15 / 16
        lines.append(f"{size:12d} {size // 4:12d}     float     sum      -1 {t:8.1f} {algbw:7.2f} {busbw:7.2f}      0 "
                     f"{t:8.1f} {algbw:7.2f} {busbw:7.2f}      0")
    path.write_text("\n".join(lines) + "\n")


def test_calibrate_then_predict_more_servers(arcsim_bin, tmp_path):
    # The user's workflow on rows the simulator made for a slower site (a NIC achieves 0.75 of its
    # line rate): calibrate on 2 servers with the dgx-a100 base, predict 8 servers.
    site = tmp_path / "site.json"
    spec = json.loads((pathlib.Path(__file__).resolve().parents[2] / "topologies/presets/dgx-a100.json").read_text())
    spec["nccl"]["nic_achievable"] = "150Gbps"
    site.write_text(json.dumps(spec))
    meas = table(arcsim_bin, "--min-bytes", "1MiB", "--max-bytes", "4GiB", "--step-factor", "4",
                 "--topology", site, "--nodes", "2")
    log = tmp_path / "all_reduce_perf_2nodes.log"
    write_log(log, 2, [(int(r["bytes"]), r["time_us"]) for r in meas["rows"]])
    out = tmp_path / "calibrated.json"
    r = run(arcsim_bin, "calibrate", "--nccl-tests", log, "--gpus-per-node", "8", "--topology", "dgx-a100",
            "--output", out)
    assert r.returncode == 0, r.stderr
    assert "error_%" in r.stdout and "not determined" in r.stdout  # intra-node stays the preset's
    cal = json.loads(out.read_text())
    assert cal["nccl"]["calibrated_from"]["fitted"] == ["nic_achievable", "latency_scale"]
    truth = table(arcsim_bin, "--min-bytes", "1MiB", "--max-bytes", "4GiB", "--step-factor", "4",
                  "--topology", site, "--nodes", "8")["rows"]
    pred = table(arcsim_bin, "--min-bytes", "1MiB", "--max-bytes", "4GiB", "--step-factor", "4",
                 "--topology", out, "--nodes", "8")["rows"]
    errs = [abs(p["time_us"] / t["time_us"] - 1) for p, t in zip(pred, truth)]
    assert max(errs) < 0.02, errs
    # --predict-nodes prints the same table in the same run: the logs' sizes, 1 MiB to 4 GiB by 4.
    r = run(arcsim_bin, "calibrate", "--nccl-tests", log, "--gpus-per-node", "8", "--topology", "dgx-a100",
            "--output", tmp_path / "again.json", "--predict-nodes", "8")
    assert r.returncode == 0, r.stderr
    body = r.stdout.split("8 nodes, 64 ranks", 1)[1]
    rows = [l.split() for l in body.splitlines()[1:] if l.strip() and not l.startswith("#")]
    assert [int(float(x[0])) for x in rows] == [int(p["bytes"]) for p in pred]
    assert [float(x[1]) for x in rows] == [round(p["time_us"], 2) for p in pred]


def test_calibrate_selects_sizes_and_skips_a_slow_sample(arcsim_bin, tmp_path):
    # A 2-server log made by the simulator; one out-of-place sample 2x slow (its in-place twin is not).
    meas = table(arcsim_bin, "--min-bytes", "1MiB", "--max-bytes", "1GiB", "--step-factor", "4",
                 "--topology", "dgx-a100", "--nodes", "2")["rows"]
    log = tmp_path / "all_reduce_perf.log"
    write_log(log, 2, [(int(r["bytes"]), r["time_us"]) for r in meas])
    lines = log.read_text().splitlines()
    k = next(i for i, l in enumerate(lines) if l.split() and l.split()[0] == str(16 * 1048576))
    f = lines[k].split()
    f[5] = f"{2 * float(f[5]):.1f}"
    lines[k] = "  ".join(f)
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "cal.json"
    r = run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", "dgx-a100", "--output", out)
    assert r.returncode == 0, r.stderr
    rows = [l for l in r.stdout.splitlines() if " allreduce " in l]
    assert len(rows) == len(meas)
    slow = [l for l in rows if l.split()[4] == str(16 * 1048576)]
    assert len(slow) == 1 and "in-place time" in slow[0], slow
    assert sum("in-place time" in l for l in rows) == 1
    # The fit is not pulled by the slow sample: the site's own constants come back.
    assert abs(json.loads(out.read_text())["nccl"]["latency_scale"] - 1) < 0.05
    # --min-bytes / --max-bytes select the rows fitted on.
    r = run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", "dgx-a100", "--min-bytes", "64MiB",
            "--max-bytes", "1GiB", "--output", out)
    assert r.returncode == 0, r.stderr
    assert len([l for l in r.stdout.splitlines() if " allreduce " in l]) == 3
    one_error_line(run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", "dgx-a100", "--min-bytes",
                       "8GiB", "--output", out), "--min-bytes")
    one_error_line(run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", "dgx-a100", "--max-bytes",
                       "lots", "--output", out), "--max-bytes")


def test_calibrate_bad_input(arcsim_bin, tmp_path):
    bad = tmp_path / "bad.log"
    bad.write_text("nothing\n")
    one_error_line(run(arcsim_bin, "calibrate", "--nccl-tests", bad, "--collective", "allreduce",
                       "--output", tmp_path / "x.json"), "bad.log")
    assert not (tmp_path / "x.json").exists()
    one_error_line(run(arcsim_bin, "calibrate", "--nccl-tests", tmp_path / "missing.log", "--output",
                       tmp_path / "x.json"), "missing.log")
    one_error_line(run(arcsim_bin, "calibrate", "--nccl-tests", bad, "--collective", "allreduce", "--output",
                       tmp_path / "x.json", "--predict-nodes", "0"), "--predict-nodes")


def public_rows(system, servers):
    """(bytes, out-of-place us) of one system and server count of the public validation set."""
    csv = pathlib.Path(__file__).resolve().parents[2] / "sim/validation/measurements.csv"
    lines = csv.read_text().splitlines()
    head = lines[0].split(",")
    out = []
    for line in lines[1:]:
        c = dict(zip(head, line.split(",")))
        if c["system"] == system and int(c["servers"]) == servers:
            out.append((int(c["bytes"]), float(c["time_us"])))
    return out


def test_calibrate_a_public_log_run_with_nccl_algo_ring(arcsim_bin, tmp_path):
    # A real 2-server H100 log run with NCCL_ALGO=Ring (sim/validation): --nccl-algo ring fits the
    # ring to it; the written file records it and simulates at other node counts.
    rows = public_rows("h100-ndr-ib-site-a-ctas24", 2)
    assert len(rows) == 14
    log = tmp_path / "all_reduce_perf_2nodes.log"
    write_log(log, 2, rows)
    out = tmp_path / "site.json"
    r = run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", "dgx-h100", "--nccl-algo", "ring",
            "--output", out)
    assert r.returncode == 0, r.stderr
    printed = [l for l in r.stdout.splitlines() if l.strip() and not l.startswith("#") and "wrote" not in l]
    assert len(printed) == 14 and all(l.split()[-1].startswith("ring/") for l in printed)
    cal = json.loads(out.read_text())
    assert cal["nccl"]["calibrated_from"]["nccl_algo"] == "ring"
    big = [float(l.split()[-2]) for l in printed if int(l.split()[4]) >= 1 << 30]
    assert max(abs(e) for e in big) < 3, big  # large rows are NIC-bound rings: within 3 %
    pred = table(arcsim_bin, "--min-bytes", "1GiB", "--max-bytes", "1GiB", "--topology", out, "--nodes", "8")
    assert pred["ranks"] == 64
    one_error_line(run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", "dgx-h100", "--nccl-algo",
                       "nvls", "--output", tmp_path / "y.json"), "--nccl-algo")
    assert not (tmp_path / "y.json").exists()


def test_calibrate_warns_when_the_logs_outrun_rings_and_trees(arcsim_bin, tmp_path):
    # H100 servers with NCCL's default run NVLSTree at 2 servers (466 GB/s of busbw, more than 8
    # NICs carry in a ring): the fit pins the NIC at its line rate and says what that means. OCI's
    # 2-server A100 RoCE rows (rings) fit without that warning.
    validation = pathlib.Path(__file__).resolve().parents[2] / "sim/validation"
    for system, topo, warned in (("h100-ndr-ib-site-a", "dgx-h100", True),
                                 ("oci-a100-roce-nccl2.25.1", validation / "oci-bm-gpu4.json", False)):
        log = tmp_path / f"all_reduce_perf_{system}.log"
        write_log(log, 2, public_rows(system, 2))
        r = run(arcsim_bin, "calibrate", "--nccl-tests", log, "--topology", topo, "--output", tmp_path / f"{system}.json")
        assert r.returncode == 0, r.stderr
        assert ("line rate" in r.stderr) == warned, (system, r.stderr)
        if warned:
            assert "NVLSTree" in r.stderr
