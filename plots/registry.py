"""The compressor registry's names, as the arcsim binary states them, for the scripts that must
cover every compressor (the colour test, bench/compression_quality.py).

    compressor_names("build/arcsim") -> ["dense", "topk", ...]

Asks `arcsim compressors --json` (the registry, in documentation order) where the binary has
that command, else reads the choices of `--compressor` in `arcsim compress --help` ("dense|topk|randk|...",
on the usage line and the option's help line). Raises
RuntimeError when neither gives a list, rather than guessing one.
"""
import json
import re
import subprocess


def _run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise RuntimeError(f"{cmd[0]}: cannot run it ({e})") from e
    return p.returncode, p.stdout


def compressor_names(arcsim):
    rc, out = _run([arcsim, "compressors", "--json"])
    if rc == 0:
        try:
            names = [c["name"] for c in json.loads(out)["compressors"]]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"{arcsim} compressors --json: expected {{\"compressors\": [{{\"name\": ...}}]}} ({e})")
        if names:
            return names
    rc, out = _run([arcsim, "compress", "--help"])
    if rc == 0:
        # Every "a|b|c" or "a | b | c" list on a line naming --compressor (the usage line and the
        # option's own help), merged in order: one of them lagging behind the registry loses nothing.
        names, lines = [], out.splitlines()
        for i, line in enumerate(lines):
            if "--compressor" not in line:
                continue
            j = i + 1  # the help wraps long lists onto indented continuation lines
            while j < len(lines) and re.match(r"^\s{10,}[^\s-]", lines[j]):
                line += " " + lines[j].strip()
                j += 1
            for m in re.finditer(r"\b[a-z][a-z0-9_]*(?:\s*\|\s*[a-z][a-z0-9_]*)+", line):
                names += [n.strip() for n in m.group(0).split("|") if n.strip() not in names]
        if names:
            return names
    raise RuntimeError(f"{arcsim}: neither `compressors --list` nor `compress --help` names the compressors")
