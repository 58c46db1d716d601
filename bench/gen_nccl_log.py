#!/usr/bin/env python3
"""Writes an all_reduce_perf log of ROWS result rows (2 servers x 8 GPUs) for timing
`arcsim calibrate --nccl-tests` at scale (docs/limits.md).

  bench/gen_nccl_log.py ROWS OUT [--distinct]

Sizes cycle through 8 B .. 8 GiB by powers of 2 (as repeated runs appended to one file), or with
--distinct every row has its own size (as nccl-tests -i STEP gives)."""
import sys


def header(hosts=2):
    """The lines of an all_reduce_perf log before its rows: `hosts` servers of 8 A100s (also the
    tests' logs: tests/python/test_nccl_cli.py, bad_inputs_table.py)."""
    lines = ["# Collective test starting: all_reduce_perf", "#", "# Using devices"]
    for h in range(hosts):
        for g in range(8):
            lines.append(f"#  Rank {h * 8 + g:2d} Group  0 Pid  1 on node{h} device  {g} [0x07] NVIDIA A100-SXM4-80GB")
    lines.append("#       size         count      type   redop    root     time   algbw   busbw #wrong"
                 "     time   algbw   busbw #wrong")
    return lines


def main():
    rows, out = int(sys.argv[1]), sys.argv[2]
    distinct = "--distinct" in sys.argv[3:]
    lines = header(2)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
        for i in range(rows):
            size = 1024 + 1024 * i if distinct else 8 << (i % 31)
            t = 30 + size / 20e3 * (1 + 0.01 * (i % 7))
            bw = size / t / 1e3
            f.write(f"{size:>12d} {size // 4:>12d}     float     sum      -1 {t:8.2f} {bw:7.2f} {bw * 1.875:7.2f}"
                    f"      0 {t:8.2f} {bw:7.2f} {bw * 1.875:7.2f}      0\n")


if __name__ == "__main__":
    main()
