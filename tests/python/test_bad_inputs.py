"""Every row of bad_inputs_table.py: one clear error line, the expected exit status, nothing
clobbered and no temporary file left behind."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from bad_inputs_table import DIR, FIFO, ROWS, TRACE

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_TRACE = ROOT / "traces" / "default"


def small_trace(dest, spec):
    """The default trace cut to its first sample, then mutated as the row asks."""
    dest.mkdir(parents=True)
    doc = json.loads((DEFAULT_TRACE / "trace.json").read_text())
    doc["samples"] = doc["samples"][:1]
    rel = doc["samples"][0]["data"]["file"]
    (dest / rel).parent.mkdir(parents=True)
    data = (DEFAULT_TRACE / rel).read_bytes()
    if spec.npy == FIFO:
        os.mkfifo(dest / rel)
    elif isinstance(spec.npy, tuple):
        os.symlink(spec.npy[1], dest / rel)
    else:
        (dest / rel).write_bytes(spec.npy(data) if spec.npy else data)
    text = None
    if spec.mutate:
        out = spec.mutate(doc)
        if out == "DUPKEY":
            text = json.dumps(doc, indent=1).replace('"name":', '"name": "x", "name":', 1)
        elif out == "OVERFLOW":
            text = json.dumps(doc, indent=1).replace('"forward_s": ', '"forward_s": 1e999, "x": ', 1)
        else:
            doc = out
    (dest / "trace.json").write_text(text if text is not None else json.dumps(doc, indent=1))


def materialise(d, files):
    for name, content in files.items():
        p = d / name
        if isinstance(content, TRACE):
            small_trace(p, content)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if content == DIR:
            p.mkdir(exist_ok=True)
        elif content == FIFO:
            os.mkfifo(p)
        elif isinstance(content, tuple) and content[0] == "symlink":
            os.symlink(content[1], p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        elif isinstance(content, str):
            p.write_text(content)
        else:
            p.write_text(json.dumps(content).replace("{trace}", str(DEFAULT_TRACE)).replace("{d}", str(d)))


def snapshot(d, names):
    out = {}
    for n in names:
        p = d / n
        out[n] = p.read_bytes() if p.is_file() else None
    return out


def test_table_is_large_and_unique():
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids)), "duplicate row ids"
    assert len(ROWS) >= 150, len(ROWS)
    commands = {r["argv"][0] for r in ROWS if r["argv"]}
    for c in ["simulate", "topology", "trace", "compress", "replay", "calibrate", "sweep", "plot"]:
        assert c in commands, c


@pytest.mark.parametrize("case", ROWS, ids=[r["id"] for r in ROWS])
def test_bad_input(arcsim_bin, tmp_path, case):
    d = tmp_path / "d"
    d.mkdir()
    materialise(d, case["files"])
    before = snapshot(d, case["unchanged"])
    argv = [a.replace("{d}", str(d)).replace("{trace}", str(DEFAULT_TRACE)).replace("{src}", str(ROOT))
            for a in case["argv"]]
    r = subprocess.run([arcsim_bin, *argv], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, errors="replace")
    assert r.returncode == case["rc"], (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    err = r.stderr.strip()
    assert "Traceback" not in r.stderr, r.stderr
    assert err.count("\n") == 0, r.stderr
    assert err.startswith("arcsim"), err
    for needle in case["err"]:
        assert needle.replace("{d}", str(d)) in err, (needle, err)
    assert snapshot(d, case["unchanged"]) == before, "a file that must be unchanged was changed"
    leftovers = [str(p) for p in d.rglob("*") if ".tmp." in p.name]
    assert not leftovers, leftovers


def _one_refusal(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    err = r.stderr.strip()
    assert err.count("\n") == 0 and err.startswith("arcsim") and "refused" in err, r.stderr
    for n in needles:
        assert n in err, (n, err)


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_output_linked_to_an_input_is_refused(arcsim_bin, tmp_path, link):
    """A symlink or a hard link to an input, given as the output, is the input: refused, input kept."""
    from bad_inputs_table import GOOD_NPY
    g = tmp_path / "g.npy"
    g.write_bytes(GOOD_NPY)
    tr = tmp_path / "tr"
    small_trace(tr, TRACE())
    sample = next((tr / "samples").iterdir())
    before = {p: p.read_bytes() for p in (g, tr / "trace.json", sample)}
    plant = os.symlink if link == "symlink" else os.link
    plant(g, tmp_path / "o.npy")
    plant(tr / "trace.json", tmp_path / "t.json")
    plant(sample, tmp_path / "s.npy")
    run = lambda *a: subprocess.run([arcsim_bin, *map(str, a)], capture_output=True, text=True, timeout=120,
                                    stdin=subprocess.DEVNULL)
    _one_refusal(run("compress", "--compressor", "topk", "--ratio", "0.1", "--input", g, "--output",
                     tmp_path / "o.npy"), "--output", "(--input)", link.replace("hardlink", "hard link"))
    _one_refusal(run("compress", "--compressor", "topk", "--ratio", "0.1", "--input", g, "--output",
                     tmp_path / "x.npy", "--report", tmp_path / "o.npy"), "--report", "(--input)")
    _one_refusal(run("init", tr, "--out", tmp_path / "t.json"), "--out", "input trace", "(TRACE)")
    _one_refusal(run("replay", tr, "--compressor", "dense", "--plan-out", tmp_path / "t.json"), "--plan-out", "(TRACE_DIR)")
    _one_refusal(run("trace", "synth", tr, "--out", tmp_path / "s.npy"), "--out", "input trace", "(DIR)")
    for p, content in before.items():
        assert p.read_bytes() == content, p
    assert (tmp_path / "o.npy").read_bytes() == GOOD_NPY
    if link == "symlink":
        assert all((tmp_path / n).is_symlink() for n in ("o.npy", "t.json", "s.npy"))
    leftovers = [str(p) for p in tmp_path.rglob("*") if ".tmp." in p.name]
    assert not leftovers, leftovers


@pytest.mark.parametrize("argv", [["compressors"], ["compressors", "--json"], ["--version"], ["--help"],
                                  ["topology", "list"]])
def test_lost_standard_output_is_a_failure(arcsim_bin, argv):
    """A command whose standard output cannot be written (here /dev/full) fails with one line, exit 1."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        r = subprocess.run([arcsim_bin, *argv], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    assert r.returncode == 1, (r.returncode, r.stderr)
    err = r.stderr.strip()
    assert err.count("\n") == 0, r.stderr
    assert err.startswith("arcsim ") and "error: writing standard output: No space left on device" in err, err


def test_untrusted_names_are_escaped_on_the_terminal(arcsim_bin, tmp_path):
    """A topology name with an ANSI escape, a bidi override and 10 MB of text is printed escaped and
    capped (common/format.hpp escape_text), never raw."""
    topo = {"format": "arcsim-topology/1", "name": "\x1b[31mred\u202eevil" + "x" * 10_000_000, "type": "star",
            "bandwidth": "10Gbps", "latency": "5us"}
    (tmp_path / "t.json").write_text(json.dumps(topo))
    r = subprocess.run([arcsim_bin, "topology", "show", str(tmp_path / "t.json"), "--nodes", "2"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout
    assert "\\x1b[31mred\\u202eevil" in first and "..." in first and len(first) < 400, first[:500]
