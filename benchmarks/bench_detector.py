"""Detector speed against the window classifiers, in one run, on one thread.

Run:  python benchmarks/bench_detector.py [--checkpoint checkpoints/segmenter.safetensors]
          [--mosaic 8000] [--subset-L 4096] [--subset-A 256] [--json docs/benchmarks/detector.json]

* a 300×300×4 field (a simulated GLEAM-like field, the published files' shape): the detector's
  whole path (grid the four bands, scale, one forward pass, calibrate) against the batched window
  scan (``score_map``) of L and A at stride 1 (90 000 windows).  The window scans are timed on
  a random subset of window centres and scaled to 90 000 (stated in the JSON); the detector is
  timed on the whole field;
* a mosaic tile of ``--mosaic``² pixels × 4 bands already on the detector's grid, scored tile by
  tile (``--tile``² tiles overlapping by the network's ``tile_overlap``, 56 px for depth 3, so
  the stitched map equals one pass): pixels per second of the network alone.

Only the architectures matter for the timing; weights come from the checkpoints when present.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from radioviz.data.preprocess import Preprocessing, classifier_normalization, clip_stack
from radioviz.io.layout import SourceStack
from radioviz.models.classifiers import build_classifier
from radioviz.models.segmenter import SegmenterUNet, predict_logits, tile_overlap
from radioviz.scan.scoremap import predict_windows, window_batch
from radioviz.simulate import SimConfig, simulate_field


def _detector(path: Path):
    if path.exists():
        from radioviz.metrics.evaluate import load_classifier

        return load_classifier(path)[0]
    from radioviz.models.segmenter import Detector

    return Detector(SegmenterUNet(4, 8, 3), {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, default=Path("checkpoints/segmenter.safetensors"))
    ap.add_argument("--mosaic", type=int, default=8000)
    ap.add_argument("--subset-L", type=int, default=4096)
    ap.add_argument("--subset-A", type=int, default=256)
    ap.add_argument("--tile", type=int, default=512, help="mosaic tile side (the card's default)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    fld = simulate_field(SimConfig(seed=3, size=300))
    stack = SourceStack(fld.name, fld.images, 1)
    clipped = clip_stack(stack)
    det = _detector(a.checkpoint)
    n_win = 300 * 300
    out = {
        "threads": 1,
        "machine": platform.processor() or platform.machine(),
        "field": "simulated 300x300x4",
    }

    times = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        prob, grid = det.probability(stack)
        times.append(time.perf_counter() - t)
    t_det = min(times)
    t = time.perf_counter()
    det.raw_probability(grid.scaled(det.net.inputs))
    t_net = time.perf_counter() - t
    out["detector"] = {
        "seconds_per_field": t_det,
        "network_seconds": t_net,
        "grid": list(prob.shape),
        "reference_pixels_per_second": n_win / t_det,
        "grid_pixels_per_second_network": prob.size / t_net,
    }
    print(f"detector: {t_det:.3f} s per 300x300x4 field (network {t_net:.3f} s on the {prob.shape} grid)")

    pre = Preprocessing(
        normalization=classifier_normalization(np.zeros((1, 1, 2, 2)) + [[[[0, 1]]]], per_image=True)
    )
    rng = np.random.default_rng(0)
    for arch, n in (("L", a.subset_L), ("A", a.subset_A)):
        ck = Path(f"checkpoints/classifier_{arch}.safetensors")
        if ck.exists():
            from radioviz.metrics.evaluate import load_classifier

            model, pre_c, _ = load_classifier(ck)
        else:
            model, pre_c = build_classifier(arch).eval(), pre
        pick = rng.choice(n_win, n, replace=False)
        ys, xs = np.divmod(pick, 300)
        t = time.perf_counter()
        for i in range(0, n, 1024):
            predict_windows(
                model, pre_c, window_batch(clipped, xs[i : i + 1024], ys[i : i + 1024], 64, "native")
            )
        per = (time.perf_counter() - t) / n
        full = per * n_win
        out[arch] = {
            "windows_timed": int(n),
            "seconds_per_window": per,
            "seconds_stride1_field_extrapolated": full,
            "reference_pixels_per_second": n_win / full,
            "detector_speedup": full / t_det,
        }
        print(
            f"{arch}: {per * 1e3:.3f} ms/window -> {full:.1f} s for the stride-1 map; "
            f"detector {full / t_det:.0f}x faster"
        )

    if a.mosaic:
        x = np.zeros((4, a.mosaic, a.mosaic), np.float32)
        r = np.random.default_rng(1)
        x[:] = np.where(
            r.uniform(size=(1, a.mosaic, a.mosaic)) < 0.05, r.normal(0.3, 0.2, (1, a.mosaic, a.mosaic)), 0
        )
        t = time.perf_counter()
        predict_logits(det.net, x, tile=a.tile)
        tm = time.perf_counter() - t
        out["mosaic"] = {
            "size": a.mosaic,
            "bands": 4,
            "tile": a.tile,
            "overlap": tile_overlap(det.net.depth),
            "norm": det.net.norm,
            "seconds": tm,
            "pixels_per_second": a.mosaic**2 / tm,
        }
        print(f"mosaic {a.mosaic}^2 x 4 tile by tile: {tm:.1f} s, {a.mosaic**2 / tm:,.0f} pixels/s")
    out["load_average_1_5_15min"] = list(__import__("os").getloadavg())  # a shared 2-core machine
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
