"""The label store under concurrent writers: N processes each save M labels as fast as they can
into one SQLite (WAL) store; reports labels/s, per-label latency and whether every label arrived.

Run:  python benchmarks/bench_labels.py [--writers 4] [--labels 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path


def _writer(path: str, who: str, n: int, q) -> None:
    from radioviz.scan.vetting import LabelStore

    store = LabelStore(path, labeller=who, session=who)
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        store.set(f"{who}#{i}", "bench", 10.0, -20.0, 0.9, "halo", classifier="x", stride=4, threshold=0.9)
        lat.append(time.perf_counter() - t0)
    q.put(lat)


def bench(writers: int, labels: int) -> dict:
    from radioviz.scan.vetting import LabelStore

    path = str(Path(tempfile.mkdtemp(prefix="rv_labels_")) / "labels.sqlite")
    LabelStore(path)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, f"w{k}", labels, q)) for k in range(writers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    lats = [x for _ in procs for x in q.get()]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    saved = len(LabelStore(path).history())
    return {
        "writers": writers,
        "labels_each": labels,
        "labels_saved": saved,
        "labels_expected": writers * labels,
        "lost": writers * labels - saved,
        "label_latency_ms_median": round(1000 * statistics.median(lats), 2),
        "label_latency_ms_p99": round(1000 * sorted(lats)[int(0.99 * (len(lats) - 1))], 2),
        "wall_s_including_process_start": round(wall, 2),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--labels", type=int, default=200)
    ap.add_argument("--json")
    a = ap.parse_args()
    res = bench(a.writers, a.labels)
    print(res)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
