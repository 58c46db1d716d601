"""Sharded sweeps through the CLI with the real simulator: --prepare, --shard I/N and --merge give
results byte-identical to an unsharded run (also with failed points); the merge names every
missing or incomplete shard in one error line; --slurm writes the job chain and --submit submits
it with sbatch (a stand-in sbatch here; tests/slurm/cluster_test.sh runs a real cluster)."""
import json
import os
import pathlib
import stat
import subprocess

from test_sweep import files, small_spec, sweep


def sharded(arcsim_bin, spec, out, n, expect=0):
    r = sweep(arcsim_bin, spec, out, "--prepare")
    assert r.returncode == 0, r.stderr
    for i in range(1, n + 1):
        r = sweep(arcsim_bin, spec, out, "--shard", f"{i}/{n}", "--jobs", "2")
        assert r.returncode in ((0, 1) if expect is None else (expect,)), r.stderr
        assert (out / "shards" / f"{i}-of-{n}" / "results.json").exists()
    return sweep(arcsim_bin, spec, out, "--merge")


def one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    return lines[0]


def test_merged_shards_are_byte_identical_to_an_unsharded_run(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path)
    whole = tmp_path / "whole"
    assert sweep(arcsim_bin, spec, whole, "--jobs", "2").returncode == 0
    out = tmp_path / "sharded"
    r = sharded(arcsim_bin, spec, out, 3)
    assert r.returncode == 0, r.stderr
    assert "merged: 24 points (24 ok, 0 failed" in r.stdout
    assert files(out) == files(whole)
    # Re-running a finished shard resumes it: nothing simulated, same bytes.
    before = (out / "shards" / "2-of-3" / "results.json").read_bytes()
    r = sweep(arcsim_bin, spec, out, "--shard", "2/3")
    assert r.returncode == 0 and ", 0 simulations" in r.stdout, r.stdout
    assert (out / "shards" / "2-of-3" / "results.json").read_bytes() == before


def break_plan(plans_dir, name):
    """A plan that names a tensor the compute profile lacks: its simulations fail, deterministically."""
    path = plans_dir / name
    doc = json.loads(path.read_text())
    doc["plan"]["buckets"][0]["tensors"][0] = "no.such.tensor"
    path.write_text(json.dumps(doc, indent=1) + "\n")


def test_merged_shards_with_failed_points_are_byte_identical(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8, 16], bandwidths=["10Gbps"])
    out, whole = tmp_path / "sharded", tmp_path / "whole"
    assert sweep(arcsim_bin, spec, out, "--prepare").returncode == 0
    break_plan(out / "plans", "topk--steady.json")
    whole.mkdir()
    subprocess.run(["cp", "-r", str(out / "plans"), str(whole / "plans")], check=True)
    r = sweep(arcsim_bin, spec, whole, "--jobs", "2")
    assert r.returncode == 1 and r.stderr.count("failed: ") == 2, r.stderr
    assert "no.such.tensor" in r.stderr
    r = sharded(arcsim_bin, spec, out, 2, expect=None)
    assert r.returncode == 1, r.stderr
    assert r.stderr.count("failed: ") == 2 and "merged: 8 points (6 ok, 2 failed" in r.stdout
    assert files(out) == files(whole)


def test_merge_names_every_missing_and_incomplete_shard(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8, 16], bandwidths=["10Gbps"])
    out = tmp_path / "out"
    assert sharded(arcsim_bin, spec, out, 3).returncode == 0
    (out / "results.json").unlink()
    (out / "results.csv").unlink()
    (out / "shards" / "3-of-3" / "results.json").unlink()
    doc = json.loads((out / "shards" / "1-of-3" / "results.json").read_text())
    doc["points"] = doc["points"][1:]
    (out / "shards" / "1-of-3" / "results.json").write_text(json.dumps(doc))
    line = one_error_line(sweep(arcsim_bin, spec, out, "--merge"))
    assert "cannot merge, 2 of 3 shard(s) unusable" in line
    assert "shard 1/3 incomplete" in line and "shard 3/3 missing" in line and "shard 2/3" not in line
    assert not (out / "results.json").exists()


def test_shard_options_are_checked(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8], bandwidths=["10Gbps"])
    for bad in ("0/4", "5/4", "x", "1/4/2"):
        assert "--shard: expected I/N" in one_error_line(sweep(arcsim_bin, spec, tmp_path / "o", "--shard", bad))
    assert "--prepare" in one_error_line(sweep(arcsim_bin, spec, tmp_path / "o", "--shard", "1/2"))
    assert "at most one of" in one_error_line(sweep(arcsim_bin, spec, tmp_path / "o", "--merge", "--prepare"))
    assert "--partition: only with --slurm" in one_error_line(sweep(arcsim_bin, spec, tmp_path / "o", "--partition", "p"))
    help_text = subprocess.run([arcsim_bin, "sweep", "--help"], capture_output=True, text=True).stdout
    for o in ("--prepare", "--shard", "--merge", "--slurm", "--submit", "--array-max", "--cpus-per-task"):
        assert o in help_text


def test_slurm_scripts(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8, 16], bandwidths=["10Gbps"])
    out = tmp_path / "out"
    r = sweep(arcsim_bin, spec, out, "--slurm", "--shards", "5", "--partition", "short", "--time", "1:00:00",
              "--cpus-per-task", "4", "--array-max", "2", "--account", "lab")
    assert r.returncode == 0, r.stderr
    d = out / "slurm"
    for f in ("prepare.sbatch", "shards.sbatch", "merge.sbatch", "submit.sh"):
        assert subprocess.run(["bash", "-n", str(d / f)]).returncode == 0, f
    assert (d / "logs").is_dir()
    shards = (d / "shards.sbatch").read_text()
    for line in ("#SBATCH --array=1-5%2", "#SBATCH --cpus-per-task=4", "#SBATCH --partition=short",
                 "#SBATCH --time=1:00:00", "#SBATCH --account=lab"):
        assert line + "\n" in shards, line
    assert '--shard "${SLURM_ARRAY_TASK_ID}/5" --jobs "${SLURM_CPUS_PER_TASK:-4}"' in shards
    assert f"cd '{os.getcwd()}'" in shards
    assert "--prepare" in (d / "prepare.sbatch").read_text() and "--merge" in (d / "merge.sbatch").read_text()
    assert "afterok:$p" in (d / "submit.sh").read_text() and "afterok:$a" in (d / "submit.sh").read_text()
    # The default: one array task per network point.
    r = sweep(arcsim_bin, spec, out, "--slurm")
    assert r.returncode == 0 and "#SBATCH --array=1-2\n" in (d / "shards.sbatch").read_text()
    assert "--time: expected a Slurm time limit" in one_error_line(sweep(arcsim_bin, spec, out, "--slurm", "--time", "1h"))
    assert "--partition: expected" in one_error_line(sweep(arcsim_bin, spec, out, "--slurm", "--partition", "a b"))
    # A trace the prepare job could not read is refused before any script is written.
    bad = small_spec(tmp_path, "bad.json", trace=str(tmp_path / "no-trace"))
    line = one_error_line(sweep(arcsim_bin, bad, tmp_path / "bad-out", "--slurm"))
    assert f"{bad}: trace: " in line and not (tmp_path / "bad-out" / "slurm").exists()


def fake_sbatch(tmp_path, fail_on=None):
    """An sbatch that logs its arguments and answers ids 101, 102, ... (--parsable)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    log = tmp_path / "sbatch.log"
    script = bindir / "sbatch"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {log}
n=$(wc -l < {log})
if [ "$n" = "{fail_on}" ]; then echo "sbatch: error: Batch job submission failed: Invalid account" >&2; exit 1; fi
echo "$((100 + n));cluster"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")
    return env, log


def test_slurm_submit_chains_the_jobs_with_afterok(arcsim_bin, tmp_path):
    spec = small_spec(tmp_path, nodes=[8], bandwidths=["10Gbps"])
    env, log = fake_sbatch(tmp_path)
    out = tmp_path / "out"
    r = subprocess.run([arcsim_bin, "sweep", str(spec), "--out", str(out), "--slurm", "--shards", "4", "--submit"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "submitted: prepare 101, shards 102 (array 1-4), merge 103" in r.stdout
    assert "squeue -j 101,102,103" in r.stdout and "sacct -j 101,102,103" in r.stdout
    calls = log.read_text().splitlines()
    assert calls[0] == f"--parsable {out}/slurm/prepare.sbatch"
    assert calls[1] == f"--parsable --dependency=afterok:101 {out}/slurm/shards.sbatch"
    assert calls[2] == f"--parsable --dependency=afterok:102 {out}/slurm/merge.sbatch"

    (tmp_path / "second").mkdir()
    env, log = fake_sbatch(tmp_path / "second", fail_on=2)
    r = subprocess.run([arcsim_bin, "sweep", str(spec), "--out", str(out), "--slurm", "--submit"],
                       capture_output=True, text=True, env=env, timeout=30)
    line = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(line) == 1, r.stderr
    assert "shards.sbatch failed (exit 1): sbatch: error: Batch job submission failed: Invalid account" in line[0]
    assert "already queued: 101" in line[0]
