#!/usr/bin/python3
"""torch.topk on the GPU with the methodology of arcsim_gpu_bench (bench/gpu/): cudaEvent timing,
3 warm-up calls, the L2 cache flushed (256 MiB written) before each of >= 20 samples, median.
Times torch.topk(a, k, sorted=False) on a = |x| precomputed (the abs pass is not counted, which
favours torch). Prints one JSON line: {"median_s": ..., "p10_s": ..., "p90_s": ..., "torch": ...}.
Exit status 2 with a JSON error when torch or CUDA is missing, so the driver reports "n/a".
usage: torch_topk.py N K [RUNS]"""
import json
import sys


def main():
    n, k = int(sys.argv[1]), int(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    try:
        import torch
    except ImportError:
        print(json.dumps({"error": "torch not installed"}))
        return 2
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device"}))
        return 2
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(1)
    a = torch.randn(n, device=dev, generator=gen).abs_()
    flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)
    for _ in range(3):
        torch.topk(a, k, sorted=False)
    torch.cuda.synchronize()
    samples = []
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for i in range(runs):
        flush.fill_(i & 0xFF)
        start.record()
        torch.topk(a, k, sorted=False)
        stop.record()
        stop.synchronize()
        samples.append(start.elapsed_time(stop) * 1e-3)
    samples.sort()

    def pct(q):
        pos = q * (len(samples) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(samples) - 1)
        return samples[lo] + (pos - lo) * (samples[hi] - samples[lo])

    print(json.dumps({"median_s": pct(0.5), "p10_s": pct(0.1), "p90_s": pct(0.9), "runs": runs,
                      "torch": torch.__version__, "device": torch.cuda.get_device_name(0)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
