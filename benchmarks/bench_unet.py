"""U-Net training throughput at several widths on this machine (one optimiser step = forward +
backward + Adam at the given batch on 64×64×4), to choose a width CPU training can afford.

Run:  python benchmarks/bench_unet.py [--bases 8 16 24] [--batch 16] [--steps 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from radioviz.models.classifiers import count_parameters
from radioviz.models.unet import build_unet
from radioviz.training.diffusion import DiffusionConfig, unet_kwargs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bases", type=int, nargs="+", default=[8, 16, 24])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for base in a.bases:
        net = build_unet(**unet_kwargs(DiffusionConfig(base=base), 4, 64))
        opt = torch.optim.Adam(net.parameters(), 1e-4)
        x = torch.randn(a.batch, 4, 64, 64)
        t = torch.randint(0, 1000, (a.batch,))
        y = torch.randint(0, 5, (a.batch,))
        times = []
        for i in range(a.steps + 1):
            t0 = time.perf_counter()
            loss = net(x, t, y).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i:  # first step warms up
                times.append(time.perf_counter() - t0)
        times.sort()
        with torch.no_grad():
            t0 = time.perf_counter()
            net(x, t, y)
            fwd = time.perf_counter() - t0
        rows.append(
            {
                "base": base,
                "parameters": count_parameters(net),
                "batch": a.batch,
                "threads": a.threads,
                "s_per_step": round(times[len(times) // 2], 3),
                "images_per_s": round(a.batch / times[len(times) // 2], 1),
                "forward_ms_per_image": round(1000 * fwd / a.batch, 1),
            }
        )
        print(rows[-1], flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
