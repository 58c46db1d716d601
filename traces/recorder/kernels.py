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


CLASSIC = ("dense", "topk", "randk", "arctopk")
# The binding's config (and a convergence log, and the trace reader) names the option table's
# `rescale` `unbiased` (an alias the binding accepts as a keyword too).
_LOG_NAME = {"rescale": "unbiased"}
_TABLE_NAME = {v: k for k, v in _LOG_NAME.items()}
# Not options of a configuration's id: ratio and ef are in the id already; seed is the log's own;
# ramp is stated in the log's compressor object only (see config_id).
_NOT_IN_ID = ("ratio", "ef", "seed", "ramp")
RAMP_HELP = ("Top-K/Rand-K ratio ramp (0.8 -> R over warmup + 100 steps): on | off; default off, the option "
             "table's (`arcsim compressors`); --ramp on reproduces the reference hooks' 0.8 -> R ramp (how the "
             "shipped traces/default recorded its topk/randk runs)")


_TABLE = []  # [the option table] once read


def option_name(key):
    """The option table's name of a log's key (`unbiased` -> `rescale`; the others are the same)."""
    return _TABLE_NAME.get(key, key)


def option_table():
    """The binding's option table (name, default, expected, help, compressors per option), or None."""
    if not _TABLE:
        ak = import_binding()
        _TABLE.append(ak.option_table() if ak is not None and hasattr(ak, "option_table") else None)
    return _TABLE[0]


def option_defaults():
    """{option: the option table's default} (empty without the binding)."""
    return {o["name"]: o["default"] for o in (option_table() or [])}


def registry():
    """(names, {option: [compressors that take it]}) from the binding, or the classic four without it."""
    table = option_table()
    if table is None:
        return list(CLASSIC), None
    return list(import_binding().compressors()), {o["name"]: list(o["compressors"]) for o in table}


def taken_options(name):
    """The options compressor `name` takes, in the option table's order (ratio and ef included)."""
    return [o["name"] for o in (option_table() or []) if name in o["compressors"]]


_APPLIES = {}


def _applies(option, ef):
    """False for an option the binding takes only with some error feedbacks (eta, beta, momentum:
    ef21m; ef21_init: ef21, ef21m) when the run's ef is another: the binding refuses it even at its
    default. Asked of the binding once per (option, ef)."""
    key = (option, ef)
    if key not in _APPLIES:
        ak, table = import_binding(), option_table()
        o = next((o for o in table or [] if o["name"] == option), None)
        if o is None or option in ("ratio", "ef", "preset") or not o["compressors"]:
            _APPLIES[key] = True
        else:
            try:
                ak.Compressor(workers=1, compressor=o["compressors"][0], ef=ef, backend="reference",
                              **{option: o["default"]})
                _APPLIES[key] = True
            except ValueError:
                _APPLIES[key] = False
    return _APPLIES[key]


def _resolve(given):
    """The binding's keyword arguments `given` (compressor, ratio, ef, seed, and the options given)
    -> the run's full configuration: compressor, ratio, ef, seed, then every option the compressor
    takes, in the option table's order, with the value it runs with: the binding's config (given,
    else the preset's, else the compressor's default: the table's, or its own, e.g. GaussianK's
    max_adjust 5); an option the config leaves out (one that does not apply under the run's ef, or
    at its default) is stated as given, else at the table's default. Raises ValueError (the
    binding's message) for an option value the binding refuses."""
    ak = import_binding()
    name = given["compressor"]
    kw = {k: v for k, v in given.items() if k not in ("compressor", "seed")}
    cfg = ak.Compressor(workers=1, compressor=name, seed=int(given.get("seed", 1)), backend="reference", **kw).config
    defaults = option_defaults()
    spec = {"compressor": name, "ratio": cfg.get("ratio", given.get("ratio")), "ef": cfg.get("ef", given.get("ef")),
            "seed": given.get("seed", cfg.get("seed"))}
    for opt in taken_options(name):
        if opt in ("ratio", "ef"):
            continue
        key = _LOG_NAME.get(opt, opt)
        if key in cfg:
            spec[key] = cfg[key]
        elif opt in given or key in given:
            spec[key] = given[opt] if opt in given else given[key]
        else:
            spec[key] = defaults[opt]
    return spec


def ramp_value(ramp):
    """--ramp: None (not given: the option table's default, off, or the preset's), on | off."""
    if ramp is None or isinstance(ramp, bool):
        return ramp
    if ramp in ("on", "off"):
        return ramp == "on"
    raise ValueError(f"--ramp: expected on or off, got {ramp} ({'auto was removed: ' if ramp == 'auto' else ''}"
                     "the default is off, the option table's; --ramp on reproduces the reference hooks' "
                     "0.8 -> R ramp for Top-K/Rand-K)")


def parse_compressor(text, ef, rank=None, seed=1, warmup=None, ramp=None, shape_rule=None, options=None):
    """'dense' | 'NAME:R' (NAME a registry compressor, R its ratio) -> the run's configuration:
    the binding's keyword arguments and the convergence log's `compressor` object, with EVERY
    option the compressor takes (option table) at its resolved value (_resolve), so a log says
    everything its run was recorded with.
    rank, warmup, ramp ('on' | 'off' | a bool), shape_rule and options (further option -> value:
    recorder flags, --option K=V): None or absent = not given, i.e. the option table's default
    (or the preset's value); each goes to the compressors that take it (an option no compressor
    of the run takes is refused by the caller, unused_options). ValueError with one line on a bad
    name, ratio or option value."""
    name, _, ratio = text.partition(":")
    names, takers = registry()
    if name not in names:
        raise ValueError(f"--compressors: expected dense or NAME:R with NAME one of {', '.join(names)}, got {text}")
    ramp = ramp_value(ramp)
    if name == "dense":
        return {"compressor": "dense", "ratio": 1.0, "ef": "none", "seed": seed, "warmup": 0, "ramp": False}
    try:
        r = float(ratio)
    except ValueError:
        raise ValueError(f"--compressors: {text}: expected a ratio in (0, 1] after ':'") from None
    if not 0 < r <= 1:
        raise ValueError(f"--compressors: {text}: expected a ratio in (0, 1]")
    given = {"compressor": name, "ratio": r, "ef": ef, "seed": seed}
    flags = dict(options or {})
    for k, v in (("rank", rank), ("warmup", warmup), ("ramp", ramp), ("shape_rule", shape_rule)):
        if v is not None:
            flags.setdefault(k, v)
    if takers is None:  # no binding: only dense runs (make_compressor says why)
        return dict(given, **{k: v for k, v in flags.items() if k in ("rank", "warmup", "ramp")})
    for k, v in flags.items():
        if name in takers.get(k, []):
            given[k] = v
    try:
        return _resolve(given)
    except ValueError as e:
        raise ValueError(f"--compressors {text}: {e}") from None


def config_id(spec):
    """The id of a run's configuration (a convergence log's and its samples' `config`).

    dense -> "dense"; otherwise "<compressor>-<ratio:g>-<ef>" followed by "-KEY=VALUE" (KEY in
    sorted order, VALUE as Python's str(): True, 8, 0.5, reference) for every option the
    compressor takes whose value differs from the one the recorder gives when nothing but the
    compressor, ratio, ef and preset is asked for: the option table's default, or the preset's
    value for an option the preset sets; "-preset=NAME" when a preset is given. Not appended:
    ratio and ef (in the id already), seed (a log's own `seed`), and ramp: it is stated in the
    log's `compressor` object, which the simulator matches on, and the shipped traces/default
    names its ramp-on Top-K/Rand-K runs "topk-0.2-ef14" / "randk-0.2-ef14", so Top-K with or
    without the ramp has one id (`record --resume` refuses to add runs to an id whose logs were
    recorded with other options, see differing_options). The recorder's defaults are the option
    table's, so every id of a configuration left at the defaults is the plain one (topk-0.2-ef14,
    arctopk-0.2-ef14, powersgd-0.2-ef14, dgc-0.2-none), and PowerSGD at rank 2 is
    powersgd-0.2-ef14-rank=2."""
    if spec["compressor"] == "dense":
        return "dense"
    head = f"{spec['compressor']}-{spec['ratio']:g}-{spec['ef']}"
    base = _baseline(spec["compressor"], spec["ratio"], spec["ef"], spec.get("preset"))
    if base is None:  # no binding: the options the spec states beyond the plain ones
        extra = {k: v for k, v in spec.items() if k not in _NOT_IN_ID + ("compressor", "warmup", "rank")}
        return head + "".join(f"-{k}={extra[k]}" for k in sorted(extra))
    extra = {}
    for opt in taken_options(spec["compressor"]):
        key = _LOG_NAME.get(opt, opt)
        if opt in _NOT_IN_ID or key not in spec:
            continue
        if not _same(spec[key], base.get(key)) or (opt == "preset" and spec[key] != option_defaults()["preset"]):
            extra[opt] = spec[key]
    return head + "".join(f"-{k}={extra[k]}" for k in sorted(extra))


def _same(a, b):
    """Equal option values: numbers within rounding (an int and a float alike), a bool only to a bool."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


_BASELINES = {}


def _baseline(name, ratio, ef, preset):
    """The configuration of (name, ratio, ef, preset) with nothing else given, or None without the binding."""
    if option_table() is None:
        return None
    key = (name, float(ratio), ef, preset)
    if key not in _BASELINES:
        given = {"compressor": name, "ratio": float(ratio), "ef": ef, "seed": 1}
        if preset is not None:
            given["preset"] = preset
        _BASELINES[key] = _resolve(given)
    return _BASELINES[key]


def stated(compressor):
    """A log's `compressor` object as the full configuration it ran with (logs written before
    every option was stated leave out those at their defaults): every option the compressor
    takes, resolved through the binding; the seed is left out. A stated key the compressor does
    not take (an older recorder's `ramp: false` on arctopk) is dropped."""
    c = dict(compressor)
    name = c.get("compressor", c.get("name"))
    if name == "dense" or option_table() is None:
        return {k: v for k, v in c.items() if k != "seed"}
    takes = set(taken_options(name)) | {_LOG_NAME.get(o, o) for o in taken_options(name)}
    given = {"compressor": name, "ratio": c.get("ratio", option_defaults().get("ratio")),
             "ef": c.get("ef", "none"), "seed": 1}
    for k, v in c.items():
        if k in takes and k not in given and v is not None and _applies(option_name(k), given["ef"]):
            given[k] = v
    try:
        spec = _resolve(given)
    except ValueError:
        spec = dict(given)
    spec.pop("seed", None)
    return spec


def differing_options(logged, spec):
    """[(key, logged value, spec's value)] for every stated option of two configurations that
    differs (both taken as stated(): options left out count at their resolved value; seed aside)."""
    a, b = stated(logged), stated(spec)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if not _same(a.get(k), b.get(k))]


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
    """The binding's Compressor over `workers` emulated workers for a configuration
    (parse_compressor's)."""
    ak = import_binding()
    if ak is None:
        if spec["compressor"] != "dense":
            raise RuntimeError("arcsim_kernels is not built (build target arcsim_kernels_py): "
                               f"compressor {spec['compressor']} needs it")
        return DenseMean()
    return ak.Compressor(workers=workers, backend=BACKEND, **_binding_options(spec))


def make_distributed_compressor(spec, transport, reduction="ordered"):
    """The binding's DistributedCompressor of one rank for a configuration (parse_compressor's):
    the same options as make_compressor, its collectives carried by `transport`
    (traces/recorder/distributed.py's TorchTransport)."""
    ak = import_binding()
    if ak is None:
        raise RuntimeError("arcsim_kernels is not built (build target arcsim_kernels_py): distributed training "
                           "with arcsim's compressors needs it")
    return ak.DistributedCompressor(transport, backend=BACKEND, reduction=reduction, **_binding_options(spec))


def _binding_options(spec):
    """The binding's keyword arguments of a configuration: the options that do not apply under
    its ef (stated at their defaults) are left out, since the binding refuses them."""
    ef = spec.get("ef", "none")
    return {k: v for k, v in spec.items() if k in ("compressor", "ratio", "seed") or _applies(option_name(k), ef)}
