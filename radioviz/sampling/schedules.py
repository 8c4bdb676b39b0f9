"""Noise schedules: the discrete DDPM β schedule and the Karras (EDM) σ schedule."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DiscreteSchedule:
    """DDPM's linear β schedule (Ho et al.: T = 1000, β from 1e-4 to 0.02)."""

    T: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02

    @property
    def betas(self) -> torch.Tensor:
        return torch.linspace(self.beta_start, self.beta_end, self.T, dtype=torch.float64)

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        return torch.cumprod(1.0 - self.betas, dim=0)

    @property
    def sigmas(self) -> torch.Tensor:
        """σ_t = √((1 − ᾱ_t)/ᾱ_t): the same noise level in the variance-exploding view."""
        a = self.alphas_cumprod
        return ((1 - a) / a).sqrt()


def karras_sigmas(
    n: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0
) -> torch.Tensor:
    """n σ values from σmax down to σmin (Karras et al. 2022, eq. 5), then a final 0."""
    ramp = torch.linspace(0, 1, n, dtype=torch.float64)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    s = (hi + ramp * (lo - hi)) ** rho
    return torch.cat([s, s.new_zeros(1)])
