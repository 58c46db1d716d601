"""Trace format v1 in Python: writer (used by the recorder) and reader/checker (used by tests and
scripts). Mirrors traces/trace.hpp; docs/traces.md is the field-by-field description.

    w = TraceWriter("out", name="fmnist", layout=layout)       # layout: list of parameter dicts
    w.add_sample(config="dense", world=8, step=0, bucket=0, tensors=[...], workers=[0, 1], data=arr)
    w.add_convergence({...}); w.save()                           # trace.json written atomically
    t = read_trace("out"); g = load_file(t, t["samples"][0]["data"])
"""
import csv
import hashlib
import io
import json
import math
import os
import stat
import tempfile
import pathlib

import numpy as np

FORMAT = "arcsim-trace/1"
COMPUTE_FORMAT = "arcsim-compute/1"
_NPY_DTYPES = {"float32": np.float32, "float16": np.float16}


class TraceError(RuntimeError):
    """One line: '<file>: <field>: expected ..., got ...'."""


def write_atomic(path, data):
    """Write bytes or str so that readers never see a half-written file: an exclusively created
    temporary with an unpredictable name in the same directory (O_EXCL, no symlink followed),
    fsync, then rename over the target. A target that exists and is not a regular file (a device,
    a FIFO, a symlink, a directory) is refused, never replaced."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise TraceError(f"{path}: expected a regular file to write (or none), found something else "
                         "(a link, device, FIFO or directory): refusing to replace it")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp.")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb" if isinstance(data, (bytes, bytearray)) else "w") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_csv_atomic(path, columns, rows):
    """A CSV file (header `columns`; each row a dict, missing keys empty, or a sequence in column
    order) written with write_atomic."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns] if isinstance(r, dict) else r)
    write_atomic(path, buf.getvalue())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def write_data_file(root, relative, array, dtype="float32"):
    """Writes `array` as <root>/<relative> (.npy, float32 or float16); returns its file reference."""
    if dtype not in _NPY_DTYPES:
        raise TraceError(f"{relative}: dtype: expected float32 or float16, got {dtype}")
    arr = np.asarray(array, dtype=np.float32).astype(_NPY_DTYPES[dtype])
    if not np.isfinite(arr).all():
        raise TraceError(f"{relative}: values: expected finite numbers (after conversion to {dtype})")
    data = npy_bytes(arr)
    write_atomic(pathlib.Path(root) / relative, data)
    return {"file": relative, "dtype": dtype, "shape": list(arr.shape), "sha256": hashlib.sha256(data).hexdigest()}


def run_seed(log, trace_seed):
    """A convergence log's seed: its own `seed`, else its compressor's, else the trace's."""
    if "seed" in log:
        return int(log["seed"])
    return int(log.get("compressor", {}).get("seed", trace_seed))


class TraceWriter:
    """Accumulates a trace in memory and (re)writes trace.json after data files are on disk, so a
    crash mid-recording leaves the last complete trace.json (the runs finished so far)."""

    def __init__(self, root, name, layout, description=""):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.doc = {"format": FORMAT, "name": name, "layout": layout, "samples": [], "convergence": [],
                    "provenance": {}}
        if description:
            self.doc["description"] = description

    @classmethod
    def resume(cls, root):
        """Continue an existing trace directory (read back its trace.json)."""
        w = cls.__new__(cls)
        w.root = pathlib.Path(root)
        w.doc = read_json(w.root / "trace.json")
        return w

    def set_compute(self, compute, notes=None):
        self.doc["compute"] = compute
        if notes is not None:
            self.doc["compute_notes"] = notes

    def set_synthetic(self, spec):
        self.doc["synthetic"] = spec

    def set_provenance(self, provenance):
        self.doc["provenance"] = provenance

    def add_sample(self, config, world, step, tensors, workers, data, bucket=-1, dtype="float32", aggregate=None):
        base = f"samples/{config}-n{world}-s{step:06d}-b{bucket}"
        entry = {"config": config, "world": world, "step": step, "bucket": bucket, "tensors": list(tensors),
                 "workers": [int(w) for w in workers], "data": write_data_file(self.root, base + ".npy", data, dtype)}
        if aggregate is not None:
            entry["aggregate"] = write_data_file(self.root, base + "-agg.npy", aggregate, dtype)
        self.doc["samples"].append(entry)
        return entry

    def drop_run(self, config, world, seed=None, trace_seed=None):
        """Forget a run's log (and, for the trace seed's run, its samples) before re-recording it."""
        ts = self.doc.get("provenance", {}).get("seed", 0) if trace_seed is None else trace_seed
        seed = ts if seed is None else seed
        if seed == ts:
            self.doc["samples"] = [s for s in self.doc["samples"] if (s["config"], s["world"]) != (config, world)]
        self.doc["convergence"] = [c for c in self.doc["convergence"]
                                   if (c["config"], c["world"], run_seed(c, ts)) != (config, world, seed)]

    def add_convergence(self, log):
        self.doc["convergence"].append(log)

    def save(self):
        # Every log names its run's seed (the C++ reader's rule for logs without one: the
        # compressor's seed, else the trace's).
        trace_seed = self.doc.get("provenance", {}).get("seed", 0)
        for c in self.doc["convergence"]:
            c["seed"] = run_seed(c, trace_seed)
        write_atomic(self.root / "trace.json", json.dumps(self.doc, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------- reading and checking

def read_json(path):
    """A trace.json parsed, as an object; any problem is a TraceError naming the file."""
    try:
        doc = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TraceError(f"{path}: cannot open file") from None
    except json.JSONDecodeError as e:
        raise TraceError(f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except UnicodeDecodeError:
        raise TraceError(f"{path}: expected UTF-8 JSON, got undecodable bytes") from None
    except RecursionError:
        raise TraceError(f"{path}: expected JSON, got nesting too deep to read") from None
    except OSError as e:
        raise TraceError(f"{path}: cannot read: {e.strerror or e}") from None
    if not isinstance(doc, dict):
        raise TraceError(f"{path}: (root): expected a JSON object, got {type(doc).__name__}")
    return doc


def read_trace(root, check_data=True):
    """Parses <root>/trace.json and checks the essentials (the C++ validator is the full one):
    version, sample shapes against the layout, and with check_data every file's sha256, header
    and finiteness. Raises TraceError naming the file and field."""
    root = pathlib.Path(root)
    path = root / "trace.json"
    doc = read_json(path)
    if doc.get("format") != FORMAT:
        raise TraceError(f"{path}: format: expected \"{FORMAT}\" (this reader reads trace format v1), "
                         f"got {json.dumps(doc.get('format'))}")
    numel = {p["name"]: math.prod(p["shape"]) for p in doc["layout"]["parameters"]}
    for i, s in enumerate(doc["samples"]):
        for t in s["tensors"]:
            if t not in numel:
                raise TraceError(f"{path}: samples[{i}].tensors: expected layout parameter names, got unknown \"{t}\"")
        want = [len(s["workers"]), sum(numel[t] for t in s["tensors"])]
        if list(s["data"]["shape"]) != want:
            raise TraceError(f"{path}: samples[{i}].data.shape: expected {want} (workers x elements of the "
                             f"layout's tensors), got {s['data']['shape']}")
    doc["_root"] = str(root)
    if check_data:
        for i, s in enumerate(doc["samples"]):
            load_file(doc, s["data"], f"samples[{i}].data")
            if "aggregate" in s:
                load_file(doc, s["aggregate"], f"samples[{i}].aggregate")
    return doc


def load_file(trace, ref, field="data"):
    """Verified contents of a data file as float32 (checksum, dtype, shape, finiteness)."""
    path = pathlib.Path(trace["_root"]) / ref["file"]
    where = f" (trace.json {field})"
    if not path.exists():
        raise TraceError(f"{path}: missing file: expected the data file named in trace.json {field}.file")
    raw = path.read_bytes()
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as e:  # numpy says "cannot reshape..." for a truncated file
        raise TraceError(f"{path}: not a valid .npy file ({e}){where}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ref["sha256"]:
        raise TraceError(f"{path}: sha256: expected {ref['sha256']}{where}, got {digest}")
    if arr.dtype != np.dtype(_NPY_DTYPES.get(ref["dtype"], np.float32)) or list(arr.shape) != list(ref["shape"]):
        raise TraceError(f"{path}: shape/dtype: expected {ref['dtype']} {ref['shape']}{where}, "
                         f"got {arr.dtype} {list(arr.shape)}")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise TraceError(f"{path}: values: expected finite numbers{where}")
    return arr
