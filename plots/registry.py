"""The compressor registry's names, as the arcsim binary states them, for the scripts that must
cover every compressor (the colour test, bench/compression_quality.py).

    compressor_names("build/arcsim") -> ["dense", "topk", ...]

Asks `arcsim compressors --json` (the registry, in documentation order). Raises RuntimeError
when it gives no list, rather than guessing one.
"""
import json
import subprocess


def compressor_names(arcsim):
    try:
        p = subprocess.run([arcsim, "compressors", "--json"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise RuntimeError(f"{arcsim}: cannot run it ({e})") from e
    if p.returncode != 0:
        raise RuntimeError(f"{arcsim} compressors --json: exit {p.returncode}: {p.stderr.strip()}")
    try:
        names = [c["name"] for c in json.loads(p.stdout)["compressors"]]
    except (ValueError, KeyError, TypeError) as e:
        raise RuntimeError(f"{arcsim} compressors --json: expected {{\"compressors\": [{{\"name\": ...}}]}} ({e})")
    if not names:
        raise RuntimeError(f"{arcsim} compressors --json: an empty registry")
    return names
