"""bench/compression_quality.py: one quality row per registered compressor and ratio, the numbers
those of the sweep it ran, a TTA row per convergence log and node count, and the same bytes on a
second run."""
import csv
import json
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "plots"))
import registry  # noqa: E402

SCRIPT = ROOT / "bench" / "compression_quality.py"


def run(arcsim_bin, out, work):
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), "--arcsim", arcsim_bin, "--out", str(out), "--work",
                           str(work), "--jobs", "2"], capture_output=True, text=True, timeout=900)


def table(text, header_start):
    lines = text.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(header_start))
    rows = []
    for l in lines[i + 2:]:
        if not l.startswith("|"):
            break
        rows.append([c.strip() for c in l.strip("|").split("|")])
    return rows


def test_every_compressor_and_ratio_with_the_sweeps_numbers(arcsim_bin, tmp_path):
    out, work = tmp_path / "quality.md", tmp_path / "work"
    r = run(arcsim_bin, out, work)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    q = table(text, "| compressor | ratio |")
    names = registry.compressor_names(arcsim_bin)
    listing = json.loads(subprocess.run([arcsim_bin, "compressors", "--json"], capture_output=True, text=True).stdout)
    by_rank = {c["name"] for c in listing["compressors"] if c["k_unit"] == "rank"}  # one row, no ratio
    expected = [("dense", "1")] + [(n, ratio) for n in names if n != "dense"
                                   for ratio in (("-",) if n in by_rank else ("0.2", "0.05"))]
    assert [(row[0], row[1]) for row in q] == expected
    with open(work / "quality" / "results.csv", newline="") as f:
        res = list(csv.DictReader(f))
    for row in q:
        label = row[0] if row[0] == "dense" or row[1] == "-" else f"{row[0]}-{row[1]}"
        at = {int(x["nodes"]): x for x in res if x["label"] == label}
        assert sorted(at) == [8, 64]
        assert float(row[2]) == float(f"{float(at[8]['relative_error']):.3g}")
        assert float(row[4].replace(",", "")) == round(float(at[8]["bytes_per_node"]) / 1024, 1)
        assert float(row[7]) == round(1e3 * float(at[64]["iteration_s"]), 3)
    dense = q[0]
    assert float(dense[2]) == 0 and float(dense[3]) == 1
    # Time to accuracy: every convergence config of the trace at both node counts.
    t = table(text, "| configuration | N |")
    assert {row[1] for row in t} == {"8", "64"}
    assert any(row[0] == "dense" and row[3] == "ok" and "[" in row[5] for row in t)  # status, TTA [95 %]
    # Deterministic: the same inputs give the same file.
    first = text
    r = run(arcsim_bin, out, work)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == first


def test_bad_arguments_are_one_line(tmp_path):
    r = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--arcsim", str(tmp_path / "nope")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "--arcsim" in r.stderr
