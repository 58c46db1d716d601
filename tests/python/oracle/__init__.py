"""An independent oracle for arcsim's ARC-Top-K, Top-K and Rand-K: a small PyTorch
re-implementation of the ARC-Top-K authors' DDP communication hooks, written from the algorithm
description (docs/compressors/oracle-and-synthetic.md), emulating N workers in one process.

It shares nothing with arcsim's C++ code except the random numbers: the shared Gaussian sketch
matrix V and the Rand-K indices are *fed in* (arcsim's counter-based RNG, through the binding), so
that the two implementations can be compared bit for bit.

    comm.py   EmulatedWorkers: the collectives (all-reduce, all-gather), summed in worker order
              0..N-1 in float32, with a log of every collective (op, elements, dtype).
    hooks.py  the three compressors of one bucket (arc_topk, topk, randk) and the error feedback
              around them (HookState: none | ef14 | ef21 with a dense or a zero first call).
"""
from .comm import EmulatedWorkers  # noqa: F401
from .hooks import HookState, arc_topk, randk, topk, tensor_id  # noqa: F401
