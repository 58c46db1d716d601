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


def config_id(spec):
    if spec["compressor"] == "dense":
        return "dense"
    return f"{spec['compressor']}-{spec['ratio']:g}-{spec['ef']}"


def parse_compressor(text, ef, rank, seed, warmup, ramp, shape_rule="rows"):
    """'dense' | 'topk:0.2' | 'randk:0.05' | 'arctopk:0.2' -> the binding's keyword arguments.
    ramp: 'auto' enables the 0.8 -> ratio ramp for Top-K and Rand-K only (as the reference hooks)."""
    name, _, ratio = text.partition(":")
    if name not in ("dense", "topk", "randk", "arctopk"):
        raise ValueError(f"--compressors: expected dense, topk:R, randk:R or arctopk:R, got {text}")
    if name == "dense":
        return {"compressor": "dense", "ratio": 1.0, "ef": "none", "seed": seed, "warmup": 0, "ramp": False}
    try:
        r = float(ratio)
    except ValueError:
        raise ValueError(f"--compressors: {text}: expected a ratio in (0, 1] after ':'") from None
    if not 0 < r <= 1:
        raise ValueError(f"--compressors: {text}: expected a ratio in (0, 1]")
    spec = {"compressor": name, "ratio": r, "ef": ef, "seed": seed, "warmup": warmup,
            "ramp": (name in ("topk", "randk")) if ramp == "auto" else ramp == "on"}
    if name == "arctopk":
        spec.update({"rank": rank, "row_scores": "sketch", "shape_rule": shape_rule, "sketch_allreduce": "tensor"})
    return spec


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
