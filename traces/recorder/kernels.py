"""The compressors, through arcsim_kernels (the pybind11 binding of kernels/, the same C++ code
as `arcsim compress` and replay). Never re-implemented here: without the binding only the dense
mean is available, and asking for anything else is an error."""
import glob
import os
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def import_binding():
    """Imports arcsim_kernels from $ARCSIM_PYTHON_DIR, $ARCSIM_BUILD/python or a build*/python
    of this tree (newest first); returns the module or None."""
    candidates = [os.environ.get("ARCSIM_PYTHON_DIR")]
    if os.environ.get("ARCSIM_BUILD"):
        candidates.append(str(pathlib.Path(os.environ["ARCSIM_BUILD"]) / "python"))
    found = sorted(glob.glob(str(ROOT / "build*" / "python" / "arcsim_kernels*.so")), key=os.path.getmtime, reverse=True)
    candidates += [str(pathlib.Path(f).parent) for f in found]
    # Highest priority first: $ARCSIM_PYTHON_DIR, then $ARCSIM_BUILD/python, then the newest
    # build*/python. They go to the front of sys.path in that order (inserting each at 0 would
    # reverse it and let the oldest, possibly stale, build shadow the one asked for).
    front = []
    for c in candidates:
        if c and c not in front and pathlib.Path(c).is_dir():
            front.append(c)
    sys.path[:] = front + [p for p in sys.path if p not in front]
    try:
        import arcsim_kernels
        return arcsim_kernels
    except ImportError:
        return None


# Keywords every configuration carries; any other option given (preset, ef21_init, a method's own)
# is part of the configuration's id, so runs that differ in it are told apart.
_ID_KEYS = {"compressor", "ratio", "ef", "seed", "warmup", "ramp", "rank", "row_scores", "shape_rule",
            "sketch_allreduce"}
CLASSIC = ("dense", "topk", "randk", "arctopk")


def config_id(spec):
    if spec["compressor"] == "dense":
        return "dense"
    extra = "".join(f"-{k}={spec[k]}" for k in sorted(spec) if k not in _ID_KEYS)
    return f"{spec['compressor']}-{spec['ratio']:g}-{spec['ef']}{extra}"


def registry():
    """(names, {option: [compressors that take it]}) from the binding, or the classic four without it."""
    ak = import_binding()
    if ak is None or not hasattr(ak, "option_table"):
        return list(CLASSIC), None
    return list(ak.compressors()), {o["name"]: list(o["compressors"]) for o in ak.option_table()}


def parse_compressor(text, ef, rank, seed, warmup, ramp, shape_rule="rows", options=None):
    """'dense' | 'NAME:R' (NAME a registry compressor, R its ratio) -> the binding's keyword arguments.
    ramp: 'auto' enables the 0.8 -> ratio ramp for Top-K and Rand-K only (as the reference hooks).
    options: further option -> value (recorder flags, --option K=V); each goes to the compressors
    that take it (an option no compressor of the run takes is refused by the caller)."""
    name, _, ratio = text.partition(":")
    names, takers = registry()
    if name not in names:
        raise ValueError(f"--compressors: expected dense or NAME:R with NAME one of {', '.join(names)}, got {text}")
    if name == "dense":
        return {"compressor": "dense", "ratio": 1.0, "ef": "none", "seed": seed, "warmup": 0, "ramp": False}
    try:
        r = float(ratio)
    except ValueError:
        raise ValueError(f"--compressors: {text}: expected a ratio in (0, 1] after ':'") from None
    if not 0 < r <= 1:
        raise ValueError(f"--compressors: {text}: expected a ratio in (0, 1]")
    spec = {"compressor": name, "ratio": r, "ef": ef, "seed": seed, "warmup": warmup}
    takes = (lambda o: name in takers.get(o, [])) if takers else (lambda o: False)
    if name in ("topk", "randk") or takes("ramp"):
        spec["ramp"] = (name in ("topk", "randk")) if ramp == "auto" else ramp == "on"
    if name == "arctopk":
        spec.update({"rank": rank, "row_scores": "sketch", "shape_rule": shape_rule, "sketch_allreduce": "tensor"})
    elif takes("rank"):
        spec["rank"] = rank
    for k, v in (options or {}).items():
        if takes(k) or (takers is None and name == "arctopk" and k in ("shape_rule", "row_scores", "sketch_allreduce")):
            spec[k] = v
    if spec.get("preset") == "reference":  # the preset sets these, unless given explicitly
        if not warmup:
            spec.pop("warmup")
        if ramp == "auto":
            spec.pop("ramp", None)
        if "shape_rule" not in (options or {}):
            spec.pop("shape_rule", None)
    return spec


def unused_options(compressors, options):
    """Options of `options` that none of the run's compressors takes (a typo, not a no-op)."""
    names, takers = registry()
    used = {n.partition(":")[0] for n in compressors}
    if takers is None:
        return sorted(options)
    return sorted(k for k in options if not any(c in takers.get(k, []) for c in used))


class DenseMean:
    """Stand-in when the binding is not built: the exact mean (no compression involved)."""

    def step(self, bucket, shapes, grads, names=None):
        return grads.mean(axis=0, dtype=np.float64).astype(np.float32), {"phase": "dense-fallback"}


BACKEND = "auto"  # where the binding runs the kernels (record --backend): auto | cpu | cuda | reference


def make_compressor(spec, workers):
    ak = import_binding()
    if ak is None:
        if spec["compressor"] != "dense":
            raise RuntimeError("arcsim_kernels is not built (build target arcsim_kernels_py): "
                               f"compressor {spec['compressor']} needs it")
        return DenseMean()
    return ak.Compressor(workers=workers, backend=BACKEND, **spec)
