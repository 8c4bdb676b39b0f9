"""Pixel-space vs latent-space diffusion for the mask-conditioned model, on this CPU: why the
shipped one works in pixel space.

Run:  python benchmarks/bench_latent.py [--batch 16] [--steps 5] [--json out.json]

Times, in one process and one thread, a training step of (a) the pixel-space U-Net on 64×64×4
with the 4 mask channels (as shipped), (b) a latent-space U-Net on the 16×16×4 latents of a small
convolutional autoencoder (×4 downsampling, as latent diffusion would use) with the mask
downsampled to 16×16, plus (c) the autoencoder's own training step and its encode+decode cost
per sample — the price of the latent route.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from radioviz.models.classifiers import count_parameters
from radioviz.models.unet import UNet


def autoencoder(ch: int = 4, latent: int = 4, width: int = 32) -> tuple[nn.Module, nn.Module]:
    enc = nn.Sequential(
        nn.Conv2d(ch, width, 3, padding=1),
        nn.SiLU(),
        nn.Conv2d(width, width, 4, 2, 1),
        nn.SiLU(),
        nn.Conv2d(width, 2 * width, 4, 2, 1),
        nn.SiLU(),
        nn.Conv2d(2 * width, latent, 3, padding=1),
    )
    dec = nn.Sequential(
        nn.Conv2d(latent, 2 * width, 3, padding=1),
        nn.SiLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
        nn.SiLU(),
        nn.ConvTranspose2d(width, width, 4, 2, 1),
        nn.SiLU(),
        nn.Conv2d(width, ch, 3, padding=1),
    )
    return enc, dec


def step_time(fn, steps: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    n = a.batch
    pixel = UNet(4, 16, (1, 2, 2, 2), 1, (16, 8), num_classes=4, mask_classes=4, background=True, size=64)
    latent = UNet(4, 16, (1, 2, 2), 1, (8, 4), num_classes=4, mask_classes=4, background=True, size=16)
    enc, dec = autoencoder()
    x, m, y, t = (
        torch.randn(n, 4, 64, 64),
        torch.rand(n, 4, 64, 64),
        torch.randint(0, 4, (n,)),
        torch.randint(0, 1000, (n,)),
    )
    z, mz = torch.randn(n, 4, 16, 16), torch.rand(n, 4, 16, 16)

    def train_step(model, inputs):
        opt = torch.optim.Adam(model.parameters(), 1e-4)

        def f():
            loss = model(*inputs).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        return f

    ae = nn.Sequential(enc, dec)
    opt = torch.optim.Adam(ae.parameters(), 1e-3)

    def ae_step():
        loss = (ae(x) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    with torch.no_grad():
        codec = step_time(lambda: dec(enc(x)), a.steps) / n
    res = {
        "batch": n,
        "pixel_unet_parameters": count_parameters(pixel),
        "pixel_step_s": round(step_time(train_step(pixel, (x, t, y, None, m, x)), a.steps), 3),
        "latent_unet_parameters": count_parameters(latent),
        "latent_step_s": round(step_time(train_step(latent, (z, t, y, None, mz, z)), a.steps), 3),
        "autoencoder_parameters": count_parameters(ae),
        "autoencoder_step_s": round(step_time(ae_step, a.steps), 3),
        "encode_decode_ms_per_sample": round(1000 * codec, 2),
    }
    res["latent_speedup_per_step"] = round(res["pixel_step_s"] / res["latent_step_s"], 2)
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
