"""Generating images from a diffusion checkpoint with a chosen label, sampler and seed.

Returns images in the model's [0, 1] normalised space and in Jy/beam (the inverse of the
generator normalisation), the trajectory record, and the metadata ``radioviz sample`` writes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.preprocess import Preprocessing
from ..errors import InputError
from ..models.checkpoint import load_checkpoint
from ..models.unet import UNet
from .samplers import EpsDenoiser, default_karras, sample_ddim, sample_ddpm, sample_euler, sample_heun
from .schedules import DiscreteSchedule
from .trajectory import Trajectory

SAMPLERS = ("ddpm", "ddim", "heun", "euler")


def _build_unet(**kw):
    kw = dict(kw)
    kw["mults"] = tuple(kw.get("mults", (1, 2, 2, 2)))
    kw["attn_resolutions"] = tuple(kw.get("attn_resolutions", (16, 8)))
    return UNet(**kw)


@dataclass
class Generated:
    images: np.ndarray  # (N, C, H, W) in [0, 1]
    physical: np.ndarray  # Jy/beam
    trajectory: Trajectory
    meta: dict


def load_generator(path: str | Path):
    model, card = load_checkpoint(path, {"unet": _build_unet})
    if card["kind"] != "ddpm":
        raise InputError(path, f"is a {card['kind']} checkpoint; sampling needs a diffusion model (ddpm)")
    return model, card


def generate(checkpoint: str | Path, n: int, label: str | None = None, sampler: str = "ddim", steps: int | None = None, eta: float = 0.0, seed: int = 0, guidance: float = 0.0, callback=None, record_stride: int = 1, model_and_card=None) -> Generated:
    """Sample ``n`` images; the same arguments and seed always give the same images."""
    model, card = model_and_card or load_generator(checkpoint)
    labels = card.get("labels") or []
    if sampler not in SAMPLERS:
        raise InputError(checkpoint, f"unknown sampler {sampler!r}; this model accepts {', '.join(SAMPLERS)}")
    if label is not None and label not in labels:
        accepts = ", ".join(labels) if labels else "no labels (unconditional model)"
        raise InputError(checkpoint, f"label {label!r} not accepted; this model accepts {accepts}")
    if guidance and not labels:
        raise InputError(checkpoint, "guidance needs a conditional model; this one is unconditional")
    pre = Preprocessing.from_dict(card["preprocessing"])
    c = card["kwargs"]["in_channels"]
    size = card["kwargs"].get("size", pre.cutout_size)
    shape = (n, c, size, size)
    y = None if label is None else torch.full((n,), labels.index(label), dtype=torch.long)
    null = torch.full((n,), len(labels), dtype=torch.long) if labels else None

    def eps(x, t):
        if y is None or guidance == 0:
            return model(x, t, y if y is not None else null)
        return (1 + guidance) * model(x, t, y) - guidance * model(x, t, null)

    sched = DiscreteSchedule(**card.get("schedule", {}))
    gen = torch.Generator().manual_seed(seed)
    t0 = time.time()
    if sampler == "ddpm":
        traj = sample_ddpm(eps, shape, sched, gen, callback, record_stride)
    elif sampler == "ddim":
        traj = sample_ddim(eps, shape, sched, steps or 50, eta, gen, callback, record_stride)
    else:
        den = EpsDenoiser(eps, sched)
        sig = default_karras(den, steps or 25)
        traj = (sample_heun if sampler == "heun" else sample_euler)(den, shape, sig, gen, callback, record_stride)
    wall = time.time() - t0
    z = np.clip(traj.samples, -1.0, 1.0)
    images = ((z + 1.0) / 2.0).astype(np.float32)
    physical = pre.normalization.from_model(z)
    meta = {"checkpoint": str(checkpoint), "label": label, "sampler": sampler, "steps": steps, "eta": eta, "guidance": guidance, "nfe": traj.nfe, "seed": seed, "wall_seconds": round(wall, 3), "n": n}
    return Generated(images, physical.astype(np.float32), traj, meta)
