#!/usr/bin/python3
"""Top-k by magnitude at 2^24 floats: arcsim's fastest CPU backend (the Python binding's
topk_magnitude) against a same-size memory copy and torch.topk, in one run, on the same thread
count. Prints a Markdown table (median of --runs timed calls after one warm-up each).

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/topk_vs_torch.py --threads 2 [--log2 24] [--runs 7]

The copy is numpy.copyto of the input into a preallocated array (reads n floats, writes n).
torch.topk runs on x.abs() (|x| is what arcsim ranks) with sorted=False; the time of abs() is
included, since torch has no magnitude top-k. Both return the same set of k positions on inputs
without ties; arcsim's are ascending.
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "python"))
import arcsim_kernels  # noqa: E402
import torch  # noqa: E402


def median_time(fn, runs):
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log2", type=int, default=24)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != str(a.threads):
        sys.exit(f"set OMP_NUM_THREADS={a.threads} (arcsim's OpenMP thread count) to match --threads")
    torch.set_num_threads(a.threads)
    n = 1 << a.log2
    x = np.random.default_rng(1).standard_normal(n, dtype=np.float32)
    xt = torch.from_numpy(x)
    dst = np.empty_like(x)
    t_copy = median_time(lambda: np.copyto(dst, x), a.runs)
    print(f"n = 2^{a.log2} floats, {a.threads} threads, {a.runs} runs (median); machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; torch {torch.__version__}")
    print()
    print("| k | memcpy (ms) | arcsim cpu top-k (ms) | torch.topk (ms) | arcsim vs memcpy | torch / arcsim |")
    print("|---|---|---|---|---|---|")
    for ratio in (0.01, 0.10):
        k = int(ratio * n)
        t_arc = median_time(lambda: arcsim_kernels.topk_magnitude(x, k), a.runs)
        t_torch = median_time(lambda: torch.topk(xt.abs(), k, sorted=False), a.runs)
        mine = np.sort(arcsim_kernels.topk_magnitude(x, k))
        theirs = np.sort(torch.topk(xt.abs(), k, sorted=False).indices.numpy().astype(np.uint32))
        same = "same set" if np.array_equal(mine, theirs) else "sets differ (ties)"
        print(f"| {ratio:.0%} ({k}) | {t_copy * 1e3:.2f} | {t_arc * 1e3:.2f} | {t_torch * 1e3:.2f} | "
              f"{t_copy / t_arc:.0%} | {t_torch / t_arc:.1f}x ({same}) |")


if __name__ == "__main__":
    main()
