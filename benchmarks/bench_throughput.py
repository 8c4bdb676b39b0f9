"""What makes a CPU training hour go further, measured side by side in one run.

Run:  python benchmarks/bench_throughput.py [--rounds 5] [--compile] [--json docs/benchmarks/throughput.json]

Every row times a full EDM training step (forward + backward + Adam, class + flux conditions)
of the U-Net the generators use, varying one thing against the reference (base 16, batch 16,
one thread, float32, contiguous):

- threads (1 vs 2) and batch size (8 / 16 / 32): same model, so images/s compare directly;
- ``channels_last`` memory format and ``torch.compile``: the same arithmetic, only faster or not;
- cheaper networks: base 8, and base 16 with attention only at 8×8;
- a latent model: the same U-Net on the 32×32×8 latents of a ×2 convolutional autoencoder,
  plus that autoencoder's own training step (the latent route's extra cost).

Variants are timed round-robin (2 steps each per round) and each is compared with the reference
of the same round, so the machine's load (shared: absolute times move) cancels in the ratio.
Equal quality holds only for the first two groups; what the cheaper models cost in quality is
not measurable in a few seconds and is argued in docs/generators.md.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from radioviz.models.classifiers import count_parameters
from radioviz.models.precond import EDMPrecond
from radioviz.models.unet import UNet


def _unet(base=16, in_ch=4, size=64, attn=(16, 8)) -> UNet:
    return UNet(in_channels=in_ch, base=base, attn_resolutions=attn, num_classes=4, size=size, flux_cond=True)


def _ae(ch: int = 4, latent: int = 8, width: int = 32) -> nn.Module:
    """A ×2 convolutional autoencoder (encoder + decoder in one module, trained on reconstruction)."""
    return nn.Sequential(
        nn.Conv2d(ch, width, 3, padding=1),
        nn.SiLU(),
        nn.Conv2d(width, width, 4, 2, 1),
        nn.SiLU(),
        nn.Conv2d(width, latent, 3, padding=1),
        nn.Conv2d(latent, width, 3, padding=1),
        nn.SiLU(),
        nn.ConvTranspose2d(width, width, 4, 2, 1),
        nn.SiLU(),
        nn.Conv2d(width, ch, 3, padding=1),
    )


def _edm_step(net, batch, size, in_ch, channels_last=False):
    pre = EDMPrecond(net, 0.5)
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    x = torch.randn(batch, in_ch, size, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 5, (batch,))
    f = torch.randn(batch)

    def step():
        sigma = (torch.randn(batch) * 1.2 - 1.2).exp()
        noisy = x + sigma.reshape(-1, 1, 1, 1) * torch.randn_like(x)
        loss = (
            pre.loss_weight(sigma).reshape(-1, 1, 1, 1) * (pre(noisy, sigma, label=y, flux=f) - x) ** 2
        ).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _ae_step(ae, batch):
    opt = torch.optim.Adam(ae.parameters(), 1e-3)
    x = torch.randn(batch, 4, 64, 64)

    def step():
        loss = (ae(x) - x).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--rounds", type=int, default=5, help="round-robin rounds (2 timed steps per variant each)"
    )
    ap.add_argument(
        "--compile", action="store_true", help="also time torch.compile (compiling takes minutes)"
    )
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.manual_seed(0)
    # name -> (step function, parameters, batch, threads)
    variants = {
        "reference: base 16, batch 16, 1 thread": (_edm_step(_unet(), 16, 64, 4), _unet(), 16, 1),
        "batch 8": (_edm_step(_unet(), 8, 64, 4), _unet(), 8, 1),
        "batch 32": (_edm_step(_unet(), 32, 64, 4), _unet(), 32, 1),
        "2 threads": (_edm_step(_unet(), 16, 64, 4), _unet(), 16, 2),
        "channels_last": (
            _edm_step(_unet().to(memory_format=torch.channels_last), 16, 64, 4, channels_last=True),
            _unet(),
            16,
            1,
        ),
        "base 8": (_edm_step(_unet(base=8), 16, 64, 4), _unet(base=8), 16, 1),
        "base 16, attention at 8x8 only": (_edm_step(_unet(attn=(8,)), 16, 64, 4), _unet(attn=(8,)), 16, 1),
        "x2 autoencoder (its own training step)": (_ae_step(_ae(), 16), _ae(), 16, 1),
        "latent U-Net on x2 latents (32x32x8)": (
            _edm_step(_unet(in_ch=8, size=32, attn=(8, 4)), 16, 32, 8),
            _unet(in_ch=8, size=32, attn=(8, 4)),
            16,
            1,
        ),
    }
    extra = {}
    if a.compile:
        torch.set_num_threads(1)
        t0 = time.perf_counter()
        net = torch.compile(_unet())
        step = _edm_step(net, 16, 64, 4)
        step()
        extra["compile_s"] = round(time.perf_counter() - t0, 1)
        variants["torch.compile"] = (step, _unet(), 16, 1)
    times = {k: [] for k in variants}
    for step, _, _, threads in variants.values():  # warm-up
        torch.set_num_threads(threads)
        step()
    for r in range(a.rounds):
        for name, (step, _, _, threads) in variants.items():
            torch.set_num_threads(threads)
            for _ in range(2):
                t0 = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - t0)
        print(f"round {r + 1}/{a.rounds}", flush=True)
    ref_name = next(iter(variants))
    ref = times[ref_name]
    rows = []
    for name, (_, net, batch, threads) in variants.items():
        t = times[name]
        s = float(np.median(t))
        # per-image speed relative to the reference, pairing the same round's timings
        ratio = float(np.median([(rt / 16) / (vt / batch) for rt, vt in zip(ref, t, strict=True)]))
        rows.append(
            {
                "variant": name,
                "parameters": count_parameters(net),
                "batch": batch,
                "threads": threads,
                "s_per_step": round(s, 3),
                "images_per_s": round(batch / s, 1),
                "speed_vs_reference": round(ratio, 2),
                **(extra if name == "torch.compile" else {}),
            }
        )
        print(rows[-1], flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {
                    "rounds": a.rounds,
                    "load_note": "shared 2-core machine; ratios are paired per round",
                    "rows": rows,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
