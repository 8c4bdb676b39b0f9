"""Sampling the toy with the project's own samplers (the ones the image models use), so the
player, the schedule and the captions are the same for the plane and for the picture."""

from __future__ import annotations

import numpy as np
import torch

from ..sampling.samplers import sample_euler, sample_heun
from ..sampling.schedules import karras_sigmas
from ..sampling.trajectory import Trajectory
from .model import ToyModel

SAMPLERS = {"heun": sample_heun, "euler": sample_euler}


def sample_toy(
    model: ToyModel, n: int = 1000, steps: int = 25, sampler: str = "heun", seed: int = 0
) -> Trajectory:
    """``n`` particles from pure noise (σ_max = 80) to the cloud; every step recorded."""
    from .model import one_torch_thread

    sigmas = karras_sigmas(steps, 0.002, 80.0)
    g = torch.Generator().manual_seed(seed)
    with one_torch_thread():
        return SAMPLERS[sampler](model, (n, 2), sigmas, generator=g)


def nearest_distance(points: np.ndarray, data: np.ndarray) -> float:
    """Median distance from each point to its nearest data point: how close the samples are to the
    cloud (the toy's "quality"; the data's own spacing is the floor)."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(data).query(points)
    return float(np.median(d))
