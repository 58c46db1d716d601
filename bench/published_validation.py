#!/usr/bin/python3
"""Predicted against published end-to-end iteration times (docs/validation-published.md).

For each system of bench/published/measurements.csv: `arcsim calibrate --step-time` fits the compute
model's fixed host cost on the one row marked `calibrate` (a system without one borrows the
calibration named in BORROW and says so); every other row is predicted by a sweep on that
calibration, with the compressors costed as the hooks that ran (`implementation: "hook"`, the shipped
reference hooks). Writes OUT/validation.csv and prints the table.

    /usr/bin/python3 bench/published_validation.py [--out bench/results/published] [--arcsim build/arcsim]
"""
import argparse
import csv
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MEASURED = ROOT / "bench" / "published" / "measurements.csv"
# Per system: the topology preset, the compute settings it calibrates, and the kernel timing.
SYSTEMS = {
    "4x RTX 4090 SHM": ("host-4x4090-shm", {"model": "RTX4090", "matmul_precision": "fp32"}, "model:RTX4090"),
    "8x RTX 4090 SHM": ("host-8x4090-shm", {"model": "RTX4090", "matmul_precision": "fp32"}, "model:RTX4090"),
    "4x A100 40GB SHM": ("host-4xa100-shm", {"model": "A100-40GB", "matmul_precision": "fp32"}, "model:A100-40GB"),
}
# A system without a measured dense iteration borrows another's calibration (same GPU and software).
BORROW = {"8x RTX 4090 SHM": "4x RTX 4090 SHM"}
# The reproduction's ARC-Top-K: ratio 0.2, r = 4, EF14 (docs/nccl-intra-host.md section 6).
COMPRESSED = {"arctopk": {"name": "arctopk", "ratio": 0.2, "rank": 4, "ef": "ef14", "preset": "reference", "warmup": 0}}


def run(cmd, log):
    r = subprocess.run(cmd, capture_output=True, text=True)
    log.write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        sys.exit(f"published_validation: {' '.join(map(str, cmd))} failed: {(r.stderr.strip().splitlines() or [''])[-1]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "published"))
    ap.add_argument("--arcsim", default=str(ROOT / "build" / "arcsim"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(MEASURED.open()))

    compute_file = {}
    for r in rows:
        if r["role"] != "calibrate":
            continue
        topo, compute, _ = SYSTEMS[r["system"]]
        f = out / (topo + "-compute.json")
        print(f"calibrating {r['system']} on {r['case']} {r['compressor']} = {r['measured']} s", flush=True)
        run([args.arcsim, "calibrate", "--step-time", r["measured"], "--trace", str(ROOT / "traces/layouts" / r["trace"]),
             "--compute", json.dumps(compute), "--topology", topo, "--nodes", "1", "--output", str(f)],
            out / (topo + "-calibrate.log"))
        compute_file[r["system"]] = f

    results = []
    cases = {}
    for r in rows:
        cases.setdefault((r["system"], r["case"]), []).append(r)
    for (system, case), rs in cases.items():
        topo, _, timing = SYSTEMS[system]
        calibrated_on = system if system in compute_file else BORROW[system]
        first = rs[0]
        compressors = [{"name": "dense"}]
        for r in rs:
            if r["compressor"] != "dense":
                compressors.append(dict(COMPRESSED[r["compressor"]], label=r["compressor"] + "-hook",
                                        implementation="hook"))
        spec = {"name": f"{system} {case}", "trace": str(ROOT / "traces/layouts" / first["trace"]),
                "compressors": compressors, "nodes": [1], "topologies": [topo], "profiles": ["nccl"],
                "kernel_timing": timing, "compute": str(compute_file[calibrated_on]),
                "bucket_cap": first["bucket_cap"], "replay": {"workers": int(first["gpus"]), "samples": 1}}
        if int(first["channels"]) > 0:
            spec["nccl"] = {"channels": int(first["channels"])}
        name = (system + " " + case).replace(" ", "-").lower()
        spec_file = out / (name + ".json")
        spec_file.write_text(json.dumps(spec, indent=1) + "\n")
        print(f"predicting {system} {case}", flush=True)
        run([args.arcsim, "sweep", str(spec_file), "--out", str(out / name), "--quiet"], out / (name + ".log"))
        got = {row["label"]: row for row in csv.DictReader((out / name / "results.csv").open())}
        dense_s = float(got["dense"]["iteration_s"])
        for r in rs:
            comp = r["compressor"]
            it = dense_s if comp == "dense" else float(got[comp + "-hook"]["iteration_s"])
            measured = float(r["measured"])
            predicted = it if r["unit"] == "s/iter" else dense_s / it
            dense_measured = next((float(x["measured"]) for x in rs if x["compressor"] == "dense"), None)
            if comp == "dense":
                measured_dir = predicted_dir = ""
            elif r["unit"] == "dense/compressed":
                measured_dir = "faster" if measured > 1 else "slower"
                predicted_dir = "faster" if predicted > 1 else "slower"
            else:
                measured_dir = "faster" if dense_measured and measured < dense_measured else "slower"
                predicted_dir = "faster" if it < dense_s else "slower"
            results.append({
                "system": system, "case": case, "compressor": comp,
                "implementation": "fused" if comp == "dense" else "hook", "unit": r["unit"],
                "measured": measured, "predicted": round(predicted, 6),
                "error_pct": round(100 * (predicted / measured - 1), 1), "role": r["role"],
                "measured_direction": measured_dir, "predicted_direction": predicted_dir,
                "calibrated_on": f"{calibrated_on}: dense fixed_step_s",
                "inputs": f"trace {first['trace']}, topology {topo}, compute {timing[6:]} fp32, "
                          f"channels {first['channels'] or 'default'}, bucket {first['bucket_cap']}",
                "source": r["source"]})
    cols = list(results[0])
    with (out / "validation.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(results)
    for x in results:
        print(f"{x['system']:18} {x['case']:30} {x['compressor']:8} {x['role']:9} measured {x['measured']:>9} "
              f"predicted {x['predicted']:>9} ({x['error_pct']:+.1f} %) {x['measured_direction']}/{x['predicted_direction']}")


if __name__ == "__main__":
    main()
