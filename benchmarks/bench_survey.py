"""Survey throughput on Dask with 1 and 2 workers, in one run, and the ratio.

Two workloads, each surveyed from scratch with a fresh ``LocalCluster`` of 1 and then 2 worker
processes (one thread each; workers warmed first: torch imported, checkpoint loaded):

- a simulated 4-band SIDE×SIDE mosaic (default 8000, all bands on the 28″ grid), tiles of
  ``--chunk`` pixels read lazily from the FITS files, windows every ``--stride`` pixels;
- ``--fields`` small 300×300 4-band simulated fields (the GLEAM cut-out size), same stride.

Reports seconds, reference-grid pixels/s, windows/s and fields/s per case, the 2-vs-1-worker
ratio, and the load average before and after (the machine is shared: read the ratio with it).

Run:  python benchmarks/bench_survey.py [--arch L D] [--size 8000] [--stride 32] [--fields 16]
      [--json out.json]
      python benchmarks/bench_survey.py --project docs/benchmarks/survey.json   # the projection only
      python benchmarks/bench_survey.py --arch segmenter --cases mosaic --workers 1   # the detector
      (checkpoints/segmenter.safetensors: one U-Net pass per pixel whatever the stride, so its
      projection uses pixels per worker-CPU-second and does not depend on the stride)

Worker CPU seconds are measured too (``time.process_time`` in every worker): on a shared machine
wall time depends on the other jobs, CPU time much less.  The projection (docs/survey.md) turns the
1-worker mosaic windows per worker-CPU-second (windows/s when absent) into worker-hours for all of
GLEAM and GLEAM-X at several strides, and the workers a one-hour search needs at the measured
2-vs-1 scaling efficiency.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def _warm(checkpoint: str) -> bool:
    import torch

    from radioviz.scan.scorer import load_scorer

    torch.set_num_threads(1)
    load_scorer(checkpoint)
    return True


def survey_once(target, checkpoint, workers: int, stride: int, chunk: int) -> dict:
    from dask.distributed import Client, LocalCluster

    from radioviz.survey import run_survey

    out = Path(tempfile.mkdtemp(prefix="rv_bench_survey_"))
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm, str(checkpoint))
        cpu0 = client.run(time.process_time)
        drv0, t = time.process_time(), time.perf_counter()
        s = run_survey(target, checkpoint, out, stride=stride, chunk=chunk, client=client)
        sec = time.perf_counter() - t
        drv = time.process_time() - drv0
        cpu1 = client.run(time.process_time)
    # CPU seconds the workers spent (a worker restarted mid-run would be missed: none is, here);
    # unlike wall time this does not depend on what else the shared machine runs
    worker_cpu = sum(cpu1[w] - cpu0.get(w, 0.0) for w in cpu1)
    shutil.rmtree(out, ignore_errors=True)
    if s.errors or s.failed:
        raise RuntimeError(f"benchmark survey had {s.errors} errors, {s.failed} failures")
    return {
        "seconds": round(sec, 2),
        "tasks": s.total,
        "worker_cpu_s": round(worker_cpu, 2),
        "driver_cpu_s": round(drv, 2),
    }


GLEAM_DEG2 = 24_800.0
GLEAM_PIXEL_DEG = 0.007778  # 170-231 MHz, 28 arcsec
GLEAMX_PIXEL_DEG = GLEAM_PIXEL_DEG * 45 / 120  # assumption: pixels scale with the beam, 45" vs ~2'
A_OVER_L_PER_WINDOW = 0.0097 / 0.00188  # batched cost per window, docs/benchmarks/scan.json


def project(result: dict, strides=(32, 16, 4, 1)) -> list[dict]:
    """Worker-hours and workers-for-one-hour for GLEAM and GLEAM-X from the measured rates."""
    rows = []
    by = {(r["arch"], r["case"], r["workers"]): r for r in result["rows"]}
    key = (
        "windows_per_worker_cpu_s"
        if all("windows_per_worker_cpu_s" in r for r in result["rows"])
        else "windows_per_s"
    )
    rates = {arch: by[(arch, "mosaic", 1)][key] for arch, c, w in by if c == "mosaic" and w == 1}
    if "L" in rates and "A" not in rates:
        rates["A (est.)"] = rates["L"] / A_OVER_L_PER_WINDOW
    for arch, rate in rates.items():
        dense = arch == "segmenter"  # one U-Net pass per pixel whatever the stride: pixels/CPU-s
        if dense:
            rate = (
                by[(arch, "mosaic", 1)].get("pixels_per_worker_cpu_s")
                or by[(arch, "mosaic", 1)]["pixels_per_s"]
            )
        two = by.get((arch, "mosaic", 2)) or by.get(("L", "mosaic", 2))
        if two and "worker_cpu_s" in two:  # extra CPU work two workers need (moving overlaps)
            eff = min(1.0, by[(two["arch"], "mosaic", 1)]["worker_cpu_s"] / two["worker_cpu_s"])
        elif two and "speedup_vs_1_worker" in two:  # wall clock: also counts the shared machine
            eff = min(1.0, two["speedup_vs_1_worker"] / 2)
        else:
            eff = 1.0
        for survey, pix in (("GLEAM", GLEAM_PIXEL_DEG), ("GLEAM-X", GLEAMX_PIXEL_DEG)):
            n_px = GLEAM_DEG2 / pix**2
            for st in strides:
                hours = n_px / (1 if dense else st**2) / rate / 3600
                rows.append(
                    {
                        "arch": arch,
                        "survey": survey,
                        "pixels_per_band": float(f"{n_px:.3g}"),
                        "stride": st,
                        "worker_hours": round(hours, 1),
                        "workers_for_1h_ideal": int(-(-hours // 1)),  # independent tasks, dedicated cores
                        "workers_for_1h_at_measured_efficiency": int(-(-hours // eff)),
                        "efficiency": round(eff, 2),
                    }
                )
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", type=Path, help="print the projection from an earlier --json result")
    ap.add_argument("--arch", nargs="+", default=["L", "D"])
    ap.add_argument("--size", type=int, default=8000)
    ap.add_argument("--stride", type=int, default=32)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--fields", type=int, default=16)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cases", nargs="+", default=["mosaic", "fields"], choices=["mosaic", "fields"])
    ap.add_argument("--keep", type=Path, help="keep the simulated data here (reused if present)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.project:
        for r in project(json.loads(args.project.read_text())):
            print(json.dumps(r))
        return

    from radioviz.simulate import SimConfig, simulate_field, write_field
    from radioviz.survey.simulate import simulate_mosaic

    base = args.keep or Path(tempfile.mkdtemp(prefix="rv_bench_survey_data_"))
    mosaic_dir, fields_dir = base / f"mosaic_{args.size}", base / f"fields_{args.fields}"
    t = time.perf_counter()
    if not mosaic_dir.exists():
        simulate_mosaic(mosaic_dir, args.size, seed=0)
    t_sim_mosaic = time.perf_counter() - t
    if not fields_dir.exists():
        for k in range(args.fields):
            write_field(simulate_field(SimConfig(seed=1000 + k, size=300)), fields_dir)
    load_before = os.getloadavg()
    rows = []
    for arch in args.arch:
        ck = Path("checkpoints") / (
            "segmenter.safetensors" if arch == "segmenter" else f"classifier_{arch}.safetensors"
        )
        for case, target, pixels, n_fields in (
            ("mosaic", mosaic_dir, args.size**2, 0),
            ("fields", fields_dir, args.fields * 300**2, args.fields),
        ):
            if case not in args.cases:
                continue
            per = {}
            for w in args.workers:
                r = survey_once(target, ck, w, args.stride, args.chunk)
                windows = pixels / args.stride**2
                r.update(
                    arch=arch,
                    case=case,
                    workers=w,
                    pixels=pixels,
                    windows=int(windows),
                    pixels_per_s=round(pixels / r["seconds"]),
                    windows_per_s=round(windows / r["seconds"], 1),
                    fields_per_s=round(n_fields / r["seconds"], 3) if n_fields else None,
                    windows_per_worker_cpu_s=round(windows / max(r["worker_cpu_s"], 1e-9), 1),
                    pixels_per_worker_cpu_s=round(pixels / max(r["worker_cpu_s"], 1e-9)),
                    fields_per_worker_cpu_s=round(n_fields / max(r["worker_cpu_s"], 1e-9), 3)
                    if n_fields
                    else None,
                    load_avg_1min=round(os.getloadavg()[0], 2),
                )
                per[w] = r
                rows.append(r)
                print(json.dumps(r), flush=True)
            if 1 in per and 2 in per:
                ratio = round(per[1]["seconds"] / per[2]["seconds"], 2)
                per[2]["speedup_vs_1_worker"] = ratio
                print(f"{arch} {case}: 2 workers / 1 worker throughput = {ratio}", flush=True)
    result = {
        "cpu_count": os.cpu_count(),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "mosaic": f"{args.size}x{args.size}x4 simulated, one 28 arcsec grid, chunk {args.chunk}",
        "mosaic_simulation_s": round(t_sim_mosaic, 1),
        "stride": args.stride,
        "rows": rows,
    }
    result["projection"] = project(result)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
