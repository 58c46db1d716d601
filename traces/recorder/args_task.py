"""The task and the trace seed that `arcsim record`'s arguments name: shared by the command line
(cli.py) and the DDP processes it starts (ddp.py)."""
import json
import pathlib

from . import data as dataset
from . import models
from .task import load_script


def task_of(args):
    """The Task of record's --script or --model."""
    if args.script and args.model:
        raise ValueError("--script and --model: expected one of them, got both")
    opts = {"data": args.data or dataset.DEFAULT_DIR, "eval_size": args.eval_size,
            "train_subset": args.train_subset, "seed": trace_seed(args)}
    if args.script:
        return load_script(args.script, opts)
    return models.load(args.model or "fmnist-cnn", opts)


def trace_seed(args):
    """The trace's seed: an existing trace's (with --resume), else --seed, else the first of --seeds."""
    trace = pathlib.Path(args.out) / "trace.json"
    if args.resume and trace.is_file():
        try:
            return int(json.loads(trace.read_text())["provenance"]["seed"])
        except (ValueError, KeyError, TypeError):
            pass
    if args.seed is not None:
        return args.seed
    return args.seeds[0] if args.seeds else 1
