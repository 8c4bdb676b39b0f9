"""EDM preconditioning (Karras et al. 2022, Table 1), kept apart from the network.

D(x; σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x; c_noise(σ)), with σ_data the data's standard
deviation (0.5 for images in [−1, 1]).  The wrapped network is any :class:`~radioviz.models.unet.UNet`;
its "time" input receives c_noise = ln(σ)/4, scaled by ``time_scale`` so the sinusoidal embedding
(built for DDPM's integer steps 0…999) resolves it.  An optional ``beam`` layer
(:class:`~radioviz.models.beam.BeamLayer`) is applied to D, so every clean-image estimate is
beam-limited (issue #30).
"""

from __future__ import annotations

import torch
from torch import nn


class EDMPrecond(nn.Module):
    def __init__(
        self,
        net: nn.Module,
        sigma_data: float = 0.5,
        time_scale: float = 250.0,
        beam: nn.Module | None = None,
    ):
        super().__init__()
        self.net, self.sigma_data, self.time_scale, self.beam = net, sigma_data, time_scale, beam

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, **cond) -> torch.Tensor:
        s = sigma.float().reshape(-1, *([1] * (x.ndim - 1)))
        sd2 = self.sigma_data**2
        c_skip = sd2 / (s**2 + sd2)
        c_out = s * self.sigma_data / (s**2 + sd2).sqrt()
        c_in = 1 / (s**2 + sd2).sqrt()
        c_noise = sigma.float().reshape(-1).log() / 4 * self.time_scale
        d = c_skip * x + c_out * self.net(c_in * x, c_noise, **cond)
        return d if self.beam is None else self.beam(d)

    def loss_weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """λ(σ) = (σ² + σ_data²)/(σ·σ_data)²: equalises the loss across noise levels."""
        return (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2
