#!/usr/bin/python3
"""Achieved k of the threshold estimators on the default trace's real gradients.

For every dense gradient sample of traces/default (each holds 2 workers' gradients of one bucket,
in the bucket's tensor order), runs each method through the arcsim_kernels binding at each ratio
and prints min / mean / max of k_w / k (k = the bucket's Top-K target) and the mean relative error
of the aggregate, as a Markdown table (docs/compressors/threshold.md quotes it). Deterministic.

    /usr/bin/python3 bench/threshold_k.py [--build build] [--ratios 0.01,0.05]
"""
import argparse
import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = [
    ("topk", {}), ("dgc", {}), ("gaussiank", {"max_adjust": 0}), ("gaussiank", {}), ("redsync", {}),
    ("redsync", {"trim": True}), ("sidco", {}), ("sidco", {"stages": 1}), ("sidco", {"stages": 3}),
    ("sidco", {"fit": "gamma"}), ("sidco", {"fit": "pareto"}),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"), help="build directory holding python/arcsim_kernels*.so")
    ap.add_argument("--ratios", default="0.01,0.05", help="comma-separated target densities")
    args = ap.parse_args()
    sys.path.insert(0, str(pathlib.Path(args.build) / "python"))
    import arcsim_kernels as ak

    trace_dir = ROOT / "traces" / "default"
    trace = json.loads((trace_dir / "trace.json").read_text())
    shapes = {p["name"]: tuple(p["shape"]) for p in trace["layout"]["parameters"]}
    samples = [s for s in trace["samples"] if s["config"] == "dense"]
    print("| compressor | options | ratio | min k_w/k | mean | max | relative error |")
    print("|---|---|---|---|---|---|---|")
    for ratio in (float(r) for r in args.ratios.split(",")):
        for name, opts in CONFIGS:
            q, errs = [], []
            for s in samples:
                g = np.load(trace_dir / s["data"]["file"]).astype(np.float32)
                bucket_shapes = [shapes[t] for t in s["tensors"]]
                target = sum(max(1, int(ratio * int(np.prod(sh)))) for sh in bucket_shapes)
                c = ak.Compressor(workers=g.shape[0], compressor=name, ratio=ratio, seed=1, **opts)
                _, rep = c.step(bucket=0, shapes=bucket_shapes, grads=g)
                kw = rep.get("k_by_worker") or [rep["k"]] * g.shape[0]
                q += [k / target for k in kw]
                errs.append(rep["relative_error"])
            print(f"| {name} | {json.dumps(opts) if opts else '-'} | {ratio:g} | {min(q):.2f} | {np.mean(q):.2f} | "
                  f"{max(q):.2f} | {np.mean(errs):.3f} |")


if __name__ == "__main__":
    main()
