"""The testbed spec (JSON; docs/testbed.md): the sweep spec's keys where they mean the same, plus
the training and benchmark settings. Every error is one line naming the file and the key."""
import json
import pathlib
import re

from traces.recorder import kernels

KEYS = {"name", "description", "script", "compressors", "nodes", "bandwidths", "topologies", "seeds", "steps",
        "eval_every", "target", "lr", "micro_batch", "timeout_s", "bench"}
_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(kbps|mbps|gbps)\s*$", re.I)
_UNIT_MBIT = {"kbps": 1e-3, "mbps": 1.0, "gbps": 1e3}
BENCH_DEFAULT = {"ops": ["allreduce", "allgather", "broadcast", "alltoall"],
                 "sizes": [32 * 4 ** i for i in range(9)], "repeats": 7}


class SpecError(ValueError):
    pass


def parse_rate(text, where):
    m = _RATE.match(str(text)) if isinstance(text, str) else None
    if not m:
        raise SpecError(f"{where}: expected a bandwidth such as \"100Mbps\" or \"1Gbps\", got {json.dumps(text)}")
    mbit = float(m.group(1)) * _UNIT_MBIT[m.group(2).lower()]
    if not 1 <= mbit <= 10000:
        raise SpecError(f"{where}: expected 1Mbps to 10Gbps (tc tbf on veth, one machine), got {text}")
    return mbit


def _topology(t, where):
    if t == "star":
        return {"type": "star", "name": "star"}
    if t == "two-level":
        t = {"type": "two-level"}
    if not isinstance(t, dict) or t.get("type") not in ("star", "two-level"):
        raise SpecError(f"{where}: expected \"star\", \"two-level\" or {{\"type\": \"two-level\", \"leaves\": L, "
                        f"\"oversubscription\": F}}, got {json.dumps(t)}")
    extra = set(t) - {"type", "name", "leaves", "oversubscription"}
    if extra:
        raise SpecError(f"{where}: unknown key {sorted(extra)[0]} (expected type, name, leaves, oversubscription)")
    leaves, over = t.get("leaves", 2), t.get("oversubscription", 2.0)
    if not isinstance(leaves, int) or leaves < 2:
        raise SpecError(f"{where}.leaves: expected an integer >= 2, got {json.dumps(leaves)}")
    if not isinstance(over, (int, float)) or not 1 <= over <= 64:
        raise SpecError(f"{where}.oversubscription: expected a number in [1, 64], got {json.dumps(over)}")
    return {"type": t["type"], "name": t.get("name", t["type"]), "leaves": leaves, "oversubscription": float(over)}


def _compressor(c, where):
    """A sweep-spec compressor object ({"name", "ratio", "ef", options...}) or "NAME:R" -> (text, ef, options)."""
    if isinstance(c, str):
        c = {"name": c.partition(":")[0], **({"ratio": float(c.partition(":")[2])} if ":" in c else {})}
    if not isinstance(c, dict) or "name" not in c:
        raise SpecError(f"{where}: expected {{\"name\": ..., \"ratio\": ..., \"ef\": ...}} or \"NAME:R\", "
                        f"got {json.dumps(c)}")
    name = c["name"]
    text = "dense" if name == "dense" else f"{name}:{c.get('ratio', 0.2)}"
    ef = c.get("ef", "none")
    options = {k: v for k, v in c.items() if k not in ("name", "ratio", "ef", "label")}
    try:
        spec = kernels.parse_compressor(text, ef, options=options)
    except ValueError as e:
        raise SpecError(f"{where}: {e}") from None
    return {"text": text, "ef": ef, "options": options, "id": kernels.config_id(spec),
            "label": c.get("label", kernels.config_id(spec))}


def _list(doc, key, default=None):
    v = doc.get(key, default)
    return v if isinstance(v, list) else [v]


def load(path):
    path = pathlib.Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SpecError(f"{path}: expected a JSON testbed spec, got {type(e).__name__}: {e}") from None
    if not isinstance(doc, dict):
        raise SpecError(f"{path}: expected a JSON object")
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise SpecError(f"{path}: {unknown[0]}: unknown key (expected one of {', '.join(sorted(KEYS))})")
    for key in ("script", "compressors", "nodes", "bandwidths", "target"):
        if key not in doc:
            raise SpecError(f"{path}: {key}: required")
    script = (path.parent / doc["script"]).resolve()
    if not script.is_file():
        raise SpecError(f"{path}: script: expected a `record --script` file, {script} does not exist")
    nodes = _list(doc, "nodes")
    for n in nodes:
        if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= 16:
            raise SpecError(f"{path}: nodes: expected rank counts in [2, 16] (one machine), got {json.dumps(n)}")
    seeds = _list(doc, "seeds", [1])
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds) or \
            len(set(seeds)) != len(seeds):
        raise SpecError(f"{path}: seeds: expected distinct integers >= 0, got {json.dumps(doc.get('seeds'))}")
    out = {
        "name": doc.get("name", path.stem), "script": str(script), "nodes": nodes, "seeds": seeds,
        "compressors": [_compressor(c, f"{path}: compressors[{i}]") for i, c in enumerate(_list(doc, "compressors"))],
        "bandwidths": [parse_rate(b, f"{path}: bandwidths[{i}]") for i, b in enumerate(_list(doc, "bandwidths"))],
        "topologies": [_topology(t, f"{path}: topologies[{i}]") for i, t in enumerate(_list(doc, "topologies", "star"))],
        "target": doc["target"], "lr": float(doc.get("lr", 0.01)), "micro_batch": doc.get("micro_batch"),
    }
    for key, default, lo, hi in (("steps", 60, 2, 100000), ("eval_every", 10, 1, 100000), ("timeout_s", 120, 5, 3600)):
        v = doc.get(key, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
            raise SpecError(f"{path}: {key}: expected a number in [{lo}, {hi}], got {json.dumps(v)}")
        out[key] = int(v) if key != "timeout_s" else float(v)
    bench = dict(BENCH_DEFAULT, **doc.get("bench", {}))
    if set(bench) - set(BENCH_DEFAULT):
        raise SpecError(f"{path}: bench: unknown key {sorted(set(bench) - set(BENCH_DEFAULT))[0]} "
                        "(expected ops, sizes, repeats)")
    out["bench"] = bench
    ids = [c["id"] for c in out["compressors"]]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{path}: compressors: expected distinct configurations, got {ids}")
    return out
