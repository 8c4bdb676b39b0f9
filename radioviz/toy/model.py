"""The toy's denoiser: a small MLP behind the same EDM preconditioning as the image model
(:class:`radioviz.models.precond.EDMPrecond`), trained with the same loss in a few seconds."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..models.precond import EDMPrecond
from .clouds import sample_cloud


class ToyNet(nn.Module):
    """F(x, c_noise): 2-D point and a sinusoidal embedding of the noise level → 2-D output."""

    def __init__(self, width: int = 128, emb: int = 16):
        super().__init__()
        self.emb = emb
        self.mlp = nn.Sequential(
            nn.Linear(2 + emb, width),
            nn.SiLU(),
            nn.Linear(width, width),
            nn.SiLU(),
            nn.Linear(width, width),
            nn.SiLU(),
            nn.Linear(width, 2),
        )

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        half = self.emb // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
        a = c_noise.float().reshape(-1, 1) * freqs
        return self.mlp(torch.cat([x, torch.sin(a), torch.cos(a)], 1))


@dataclass
class ToyModel:
    """A trained toy denoiser D(x; σ) and what it was trained on."""

    denoiser: EDMPrecond
    cloud: str
    data: np.ndarray
    losses: list[float]
    seconds: float

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.denoiser(x, sigma)


@contextmanager
def one_torch_thread():
    """A network this small gains nothing from intra-op threads, and on a busy machine their
    spin-waits made training 50× slower (254 s instead of 5 s at load 6 on 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_toy(cloud: str, steps: int = 1500, n: int = 4000, seed: int = 0, batch: int = 512) -> ToyModel:
    """EDM training (log-normal σ, λ-weighted loss) on ``n`` points of ``cloud``: ≈ 5 s on one core."""
    with one_torch_thread():
        return _train(cloud, steps, n, seed, batch)


def _train(cloud: str, steps: int, n: int, seed: int, batch: int) -> ToyModel:
    torch.manual_seed(seed)
    data = sample_cloud(cloud, n, seed)
    x0 = torch.from_numpy(data)
    model = EDMPrecond(ToyNet(), sigma_data=1.0, time_scale=1.0)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(seed)
    losses, t0 = [], time.perf_counter()
    for _ in range(steps):
        xb = x0[torch.randint(0, n, (batch,), generator=g)]
        sigma = (torch.randn(batch, generator=g) * 1.2 - 1.2).exp()
        noisy = xb + torch.randn(xb.shape, generator=g) * sigma[:, None]
        loss = (model.loss_weight(sigma)[:, None] * (model(noisy, sigma) - xb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    return ToyModel(model, cloud, data, losses, time.perf_counter() - t0)


@torch.no_grad()
def direction_field(model: ToyModel, sigma: float, lim: float = 3.0, n: int = 21) -> dict[str, np.ndarray]:
    """The learnt denoising direction at noise level σ on an n × n grid: D(x; σ) − x, the way the
    sampler moves a particle there (scaled by the step it would take)."""
    g = np.linspace(-lim, lim, n, dtype=np.float32)
    xx, yy = np.meshgrid(g, g)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1))
    d = model(pts, torch.full((len(pts),), float(max(sigma, 1e-3)))).numpy() - pts.numpy()
    return {"x": xx.ravel(), "y": yy.ravel(), "dx": d[:, 0], "dy": d[:, 1]}
