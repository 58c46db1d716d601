"""`arcsim record`: record a gradient trace with N emulated data-parallel workers, from a script
(`--script FILE.py`, docs/traces.md section 6) or a bundled example (`--model`)."""
import argparse
import os
import pathlib
import shlex
import sys
import time

from . import data as dataset
from . import kernels, models
from .args_task import task_of, trace_seed
from .ddp import run_ddp
from .api import add_costs, check_options, check_out, check_resume_options, options, record_task
from .kernels import parse_compressor
from .targets import parse_target
from .task import ScriptError, ScriptInterrupted
from .textsafe import one_line
from .trace_io import TraceError, read_trace

PROG = "arcsim record"


class UsageError(ValueError):
    """A bad command line (argparse's message): one line, exit 2, no usage dump."""


class OutputError(OSError):
    """Standard output could not be written (--help > /dev/full): one line, exit 1."""


class _Parser(argparse.ArgumentParser):
    """argparse with record's error path: a bad option is one line (not the 28-line usage), and
    a help text that cannot be written is an OutputError, not a traceback."""

    def error(self, message):
        raise UsageError(message)

    def _print_message(self, message, file=None):
        try:
            super()._print_message(message, file)
            (file or sys.stdout).flush()
        except OSError as e:
            raise OutputError(e.errno, e.strerror) from None


def error_line(message, status=2):
    """record's one error exit: 'arcsim record: error: ...' (escaped, capped), the status."""
    try:
        print(f"{PROG}: error: {one_line(str(message))}", file=sys.stderr, flush=True)
    except OSError:
        pass
    return status


def stdout_failed(e):
    """Standard output is lost (a full disk, /dev/full, a closed pipe): one line, exit 1; later
    flushes (at exit) go to /dev/null so that Python adds no second message."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):
        pass
    return error_line(f"writing standard output: {e.strerror or e}", 1)


def _value(text):
    """--option values: true/false, an integer, a number, else the text."""
    if text in ("true", "false"):
        return text == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def compressor_options(args):
    """The compressor options given on the command line, as option -> value."""
    o = {}
    for name in ("preset", "shape_rule", "row_scores", "sketch_allreduce", "ef21_init", "momentum", "value_dtype",
                 "index_dtype"):
        if getattr(args, name) is not None:
            o[name] = getattr(args, name)
    for name in ("eta", "beta"):
        if getattr(args, name) is not None:
            try:
                o[name] = float(getattr(args, name))
            except ValueError:
                raise ValueError(f"--{name}: expected a number, got {getattr(args, name)}") from None
    if args.rescale:
        o["rescale"] = True
    for kv in args.option:
        key, eq, value = kv.partition("=")
        if not eq or not key:
            raise ValueError(f"--option: expected KEY=VALUE, got {kv}")
        o[key.replace("-", "_")] = _value(value)
    return o


def _ramp(text):
    if text not in ("on", "off"):
        try:
            kernels.ramp_value(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e).partition(": ")[2]) from None
    return text


def int_list(text):
    try:
        return [int(v) for v in text.split(",") if v != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in --help, except where there is none (None, a flag's False) or the
    help text states it itself."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text or action.required:
            return text
        return super()._get_help_string(action)


def _table_default(option):
    """' (default: V, the option table's)' for a compressor option, from the binding."""
    d = kernels.option_defaults()
    if option not in d:
        return " (default: the option table's, `arcsim compressors`)"
    v = d[option]
    return f" (default: {'on' if v is True else 'off' if v is False else v}, the option table's)"


def parser():
    names, _ = kernels.registry()
    p = _Parser(
        prog=PROG, formatter_class=_Help,
        description="Train a model with N emulated data-parallel workers and a compressor in the loop "
                    "(arcsim_kernels), and write a gradient trace (format v1, docs/traces.md): layout, "
                    "per-layer compute profile (times, FLOPs, bytes, launches), gradient samples, held-out "
                    "metric curves (one per configuration, N and seed), provenance. The model comes from "
                    "--script FILE.py (defining model(), train_data(), loss(output, target), optionally "
                    "evaluate(model), eval_data(), optimizer(params), micro_batch, collate) or --model. "
                    "For every N and seed, dense runs first; compressed runs get a step budget of "
                    "--budget-factor x dense's steps to target (capped by --max-steps). "
                    "`arcsim record --hook FILE.py:FUNCTION --trace T --out PLAN.json` instead records what a "
                    "PyTorch DDP comm hook does per bucket as a plan (docs/hooks.md; `arcsim record --hook X --help`).")
    p.add_argument("--out", required=True, help="trace directory to write (created)")
    p.add_argument("--name", default=None, help="trace name (default: the model name)")
    p.add_argument("--script", default=None, metavar="FILE.py",
                   help="the user's model, data and loss (see the description); excludes --model")
    p.add_argument("--model", default=None, choices=sorted(models.MODELS),
                   help="a bundled example script (examples/); default fmnist-cnn when --script is not given")
    p.add_argument("--data", default=None, help=f"Fashion-MNIST IDX directory of the bundled examples "
                                                f"(default {dataset.DEFAULT_DIR})")
    p.add_argument("--workers", type=int, nargs="+", default=[8], help="emulated worker counts N")
    p.add_argument("--compressors", nargs="+", default=["dense"], metavar="C",
                   help="dense, or NAME:R with NAME a registry compressor (" +
                        ", ".join(n for n in names if n != "dense") + "; `arcsim compressors`) and R its ratio, "
                        "e.g. dense topk:0.2 arctopk:0.05 powersgd:0.2")
    p.add_argument("--ef", default="none", choices=["none", "ef14", "ef21", "ef21m"], help="error feedback of compressed runs")
    p.add_argument("--rank", type=int, default=None,
                   help="ARC-Top-K sketch rank r, PowerSGD's approximation rank" + _table_default("rank"))
    # The compressor options of the option table (`arcsim compressors`); each goes to the
    # compressors of the run that take it.
    for flag, helptext in (("preset", "none | reference (the ARC-Top-K authors' settings)"),
                           ("shape-rule", "rows | reference: how tensors become matrices"),
                           ("row-scores", "ARC-Top-K: sketch | exact"), ("sketch-allreduce", "ARC-Top-K: tensor | bucket"),
                           ("ef21-init", "EF21/EF21M: dense | zero"), ("momentum", "EF21M: ema | heavy-ball"),
                           ("eta", "EF21M ema weight of the new gradient"), ("beta", "EF21M heavy-ball weight"),
                           ("value-dtype", "fp32 | fp16 | bf16"), ("index-dtype", "int32 | int64")):
        p.add_argument("--" + flag, default=None, help=helptext + _table_default(flag.replace("-", "_")))
    p.add_argument("--rescale", action="store_true", help="Rand-K: scale by d/k")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="any other compressor option (e.g. sample_ratio=0.01 for dgc); repeatable")
    p.add_argument("--warmup", type=int, default=None,
                   help="dense steps before compressing" + _table_default("warmup") +
                        "; --preset reference: the preset's")
    p.add_argument("--ramp", default=None, type=_ramp, metavar="on|off",
                   help=kernels.RAMP_HELP + "; --preset reference: the preset's (on)")
    p.add_argument("--micro-batch", type=int, default=None,
                   help="samples per worker per step (default: the script's micro_batch, else 16)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=None,
                   help="the trace's seed: the held-out subset, the compute profile's model and the gradient "
                        "samples (which are taken from this seed's runs only); default: the first of --seeds, "
                        "else 1")
    p.add_argument("--seeds", type=int, nargs="+", default=None, metavar="S",
                   help="record every (configuration, N) once per seed S (data order, initialization, "
                        "Rand-K/sketch sampling and the compressor's seed); one convergence log per seed "
                        "(default: --seed)")
    p.add_argument("--target", default=None, metavar="METRIC:VALUE",
                   help="what a run trains to: METRIC:VALUE on a metric evaluate() returns (loss:0.3, "
                        "accuracy:0.9, perplexity:40) or a plain accuracy fraction. Direction: minimised when "
                        "the name is or ends with loss, error, err, perplexity, ppl, mse, mae, rmse, nll, wer "
                        "or cer, else maximised (--target-mode overrides). Required with --script; default "
                        "0.85 (accuracy) with --model")
    p.add_argument("--target-mode", default=None, choices=["max", "min"],
                   help="reached when the metric is >= (max) or <= (min) the value")
    p.add_argument("--max-steps", type=int, default=1000, help="step budget of every run")
    p.add_argument("--budget-factor", type=float, default=3.0,
                   help="compressed runs stop at this multiple of dense's steps to target (0: off)")
    p.add_argument("--eval-every", type=int, default=25, help="steps between test evaluations")
    p.add_argument("--eval-size", type=int, default=2000, help="bundled examples: size of the fixed test subset")
    p.add_argument("--train-subset", type=int, default=0,
                   help="bundled examples: use only this many training images (0: all)")
    p.add_argument("--sample-steps", type=int_list, default=[0], help="steps whose gradients are saved, e.g. 0,100")
    p.add_argument("--sample-workers", type=int_list, default=[0, 1], help="worker ranks whose gradients are saved")
    p.add_argument("--sample-dtype", default="float32", choices=["float32", "float16"])
    p.add_argument("--sample-aggregate", action="store_true", help="also save the aggregate applied at sampled steps")
    p.add_argument("--per-worker", default="vmap", choices=["vmap", "loop"], help="how per-worker gradients are computed")
    p.add_argument("--profile-steps", type=int, default=20, help="steps timed for the compute profile")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "cuda", "reference"],
                   help="where the compression kernels run (auto: cuda when a device is present, else cpu)")
    p.add_argument("--first-bucket-cap", type=int, default=1 << 20, help="bytes")
    p.add_argument("--bucket-cap", type=int, default=25 << 20, help="bytes")
    p.add_argument("--resume", action="store_true",
                   help="add to the trace in --out: keep its runs (config, N, seed), record the missing ones (a "
                        "directory without a trace yet is started); without it, record refuses a directory "
                        "that already holds a trace")
    p.add_argument("--costs-only", action="store_true",
                   help="count the per-layer cost (FLOPs, bytes, launches) of the model into the compute profile "
                        "of the existing trace in --out; no training, no re-timing")
    p.add_argument("--log", default=None, help="also append progress lines to this file")
    p.add_argument("--ddp", type=int, default=0, metavar="P",
                   help="record from real DistributedDataParallel with P processes on localhost (gloo) "
                        "instead of emulated workers, each rank compressing its own gradient and the compressor's "
                        "collectives going through the process group (arcsim.distributed); per-rank timings are "
                        "written to --out/timings/; --workers is ignored")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="--ddp: seconds after which a collective that a rank waits for gives up (a lost or stuck "
                        "peer), in (0, 86400]")
    return p


def check_args(args):
    if args.data is not None and not pathlib.Path(args.data).is_dir():
        raise ValueError(f"--data {args.data}: expected the Fashion-MNIST IDX directory, got no such directory")
    if args.eval_size < 1:
        raise ValueError(f"--eval-size: expected an integer >= 1, got {args.eval_size}")
    if args.train_subset < 0:
        raise ValueError(f"--train-subset: expected an integer >= 0 (0: all), got {args.train_subset}")
    if args.target is None:
        if args.script:
            raise ValueError(f"{args.script}: --target: expected METRIC:VALUE for a script (e.g. loss:0.3), "
                             "got none")
        args.target = "0.85"


def main(argv=None):
    argv = list(argv if argv is not None else sys.argv[1:])
    if any(a == "--hook" or a.startswith("--hook=") for a in argv):  # the hook recorder (hook_record.py)
        from . import hook_record
        return hook_record.main(argv)
    try:
        args = parser().parse_args(argv)
    except UsageError as e:
        return error_line(f"{e} ({PROG} --help)")
    except OutputError as e:
        return stdout_failed(e)
    except SystemExit as e:  # --help / --version printed
        return e.code if isinstance(e.code, int) else 0
    logf = None

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        if logf:
            logf.write(line + "\n")
            logf.flush()

    kernels.BACKEND = args.backend
    if args.backend == "cuda" and not getattr(kernels.import_binding(), "cuda_available", lambda: False)():
        print("arcsim record: error: backend cuda: no CUDA device on this machine (use --backend cpu or auto)",
              file=sys.stderr)
        return 3
    try:
        check_args(args)
        if args.log:
            logf = open(args.log, "a")
        task = task_of(args)
        if args.costs_only:
            add_costs(task, args.out, args.micro_batch, log=log)
            return 0
        o = options(workers=[args.ddp] if args.ddp else args.workers, compressors=args.compressors, ef=args.ef, rank=args.rank,
                    warmup=args.warmup, ramp=args.ramp, compressor_options=compressor_options(args),
                    micro_batch=args.micro_batch, lr=args.lr, seed=args.seed,
                    seeds=args.seeds, target=args.target, target_mode=args.target_mode, max_steps=args.max_steps,
                    budget_factor=args.budget_factor, eval_every=args.eval_every, sample_steps=args.sample_steps,
                    sample_workers=args.sample_workers, sample_dtype=args.sample_dtype,
                    sample_aggregate=args.sample_aggregate, per_worker=args.per_worker,
                    profile_steps=args.profile_steps, threads=args.threads, first_bucket_cap=args.first_bucket_cap,
                    bucket_cap=args.bucket_cap, resume=args.resume, name=args.name,
                    command="arcsim record " + " ".join(shlex.quote(a) for a in argv),
                    dataset=None if args.script else
                    f"fashion-mnist ({args.data or dataset.DEFAULT_DIR}): training images sharded over the workers, "
                    f"fixed {args.eval_size}-image test subset (seed {trace_seed(args)})")
        if args.ddp:
            if args.ddp < 1:
                raise ValueError(f"--ddp: expected a number of processes >= 1, got {args.ddp}")
            if not 0 < args.timeout <= 86400:
                raise ValueError(f"--timeout: expected seconds in (0, 86400], got {args.timeout:g}")
            check_options(o)
            parse_target(o.target, o.target_mode)
            specs = [parse_compressor(c, o.ef, o.rank, 1, o.warmup, o.ramp, options=o.compressor_options)
                     for c in o.compressors]
            check_out(args.out, args.resume)
            if args.resume and (pathlib.Path(args.out) / "trace.json").is_file():
                check_resume_options(read_trace(args.out, check_data=False), specs, args.out)
            args.argv = argv
            args.compressor_options_dict = o.compressor_options
            run_ddp(args, task)
            log(f"trace written to {args.out} (DDP, {args.ddp} processes)")
            return 0
        record_task(task, o, args.out, log=log)
        return 0
    except (ScriptError, ValueError, RuntimeError, TraceError, OSError) as e:
        return error_line(e)
    except ScriptInterrupted as e:  # at the script's import: says what the script did
        return error_line(e, 130)
    except KeyboardInterrupt:
        trace = pathlib.Path(args.out) / "trace.json"
        if trace.is_file():
            return error_line(f"interrupted (the finished runs are in {trace}; --resume continues)", 130)
        return error_line(f"interrupted before any run finished; nothing was recorded in {args.out}", 130)
    except SystemExit as e:  # sys.exit() in the user's code outside a checked call (e.g. a DDP worker)
        return error_line(f"{args.script or 'the model'}: called sys.exit({'' if e.code is None else repr(e.code)}) "
                          "while recording; expected it to return", 2)
