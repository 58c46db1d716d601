"""Running `arcsim compress` from the tests: the raw process, and a successful run's outputs."""
import json
import subprocess

import numpy as np


def run(arcsim_bin, *args):
    return subprocess.run([arcsim_bin, "compress", *map(str, args)], capture_output=True, text=True, timeout=120)


def compress(arcsim_bin, tmp_path, *args, tag=""):
    """`arcsim compress ARGS --output --report` into tmp_path (names suffixed by tag); (aggregate, report)."""
    suffix = f"-{tag}" if tag else ""
    out, rep = tmp_path / f"agg{suffix}.npy", tmp_path / f"report{suffix}.json"
    p = run(arcsim_bin, *args, "--output", out, "--report", rep)
    assert p.returncode == 0, p.stderr
    return np.load(out), json.loads(rep.read_text())
