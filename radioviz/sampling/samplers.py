"""Samplers: ancestral DDPM and DDIM over an ε-model; Euler and Heun over a σ-space denoiser.

An ε-model is ``eps(x_t, t) -> ε̂`` with integer t; a denoiser is ``D(x, σ) -> x̂0`` in the
variance-exploding parametrisation x = x0 + σ·n.  :class:`EpsDenoiser` turns a discrete ε-model
into a denoiser (as k-diffusion's ``external.py`` does), so Euler and Heun run on DDPMs too.
Conditioning is closed over by the caller (e.g. ``lambda x, t: model(x, t, labels)``).

Every sampler has one shape: ``sample_x(model, shape, discretisation, *, generator=None,
callback=None, record_stride=1, device="cpu", **options) -> Trajectory`` — the discretisation is
the discrete schedule (DDPM, DDIM) or the σ sequence (Euler, Heun).  ``device`` is the model's:
every tensor a sampler makes is made there; the noise is drawn on the CPU from ``generator`` (a
CPU generator) and moved, so one seed gives the same starting noise on every device.
:mod:`radioviz.sampling.registry` names them, with their default steps and network-evaluation
counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .schedules import DiscreteSchedule, karras_sigmas
from .trajectory import Recorder, Trajectory

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _randn(shape, generator: torch.Generator | None, device="cpu") -> torch.Tensor:
    return torch.randn(shape, generator=generator, dtype=torch.float32).to(device)


def _x0_from_eps(x: torch.Tensor, eps: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    return (x - (1 - a).sqrt() * eps) / a.sqrt()


@torch.no_grad()
def sample_ddpm(
    eps_model: EpsModel,
    shape,
    schedule: DiscreteSchedule | None = None,
    *,
    generator=None,
    callback=None,
    record_stride: int = 1,
    clip_x0: float | None = None,
    device="cpu",
) -> Trajectory:
    """Ancestral sampling through all T steps (Ho et al. Algorithm 2, σ_t² = β_t)."""
    schedule = schedule or DiscreteSchedule()
    betas, acp = schedule.betas.float().to(device), schedule.alphas_cumprod.float().to(device)
    rec = Recorder(schedule.T, record_stride, callback, "ddpm")
    x = _randn(shape, generator, device)
    for i, t in enumerate(range(schedule.T - 1, -1, -1)):
        tt = torch.full((shape[0],), t, dtype=torch.long, device=device)
        eps = eps_model(x, tt)
        a, b = acp[t], betas[t]
        x0 = _x0_from_eps(x, eps, a)
        if clip_x0 is not None:
            x0 = x0.clamp(-clip_x0, clip_x0)
        rec.step(i, x, x0, float(schedule.sigmas[t]), t)
        a_prev = acp[t - 1] if t > 0 else acp.new_tensor(1.0)
        # posterior mean of q(x_{t-1} | x_t, x0), written with x0 so clipping can apply
        mean = (a_prev.sqrt() * b / (1 - a)) * x0 + ((1 - b).sqrt() * (1 - a_prev) / (1 - a)) * x
        x = mean + (b.sqrt() * _randn(shape, generator, device) if t > 0 else 0.0)
    return rec.finish(x, schedule.T)


def ddim_timesteps(T: int, steps: int) -> list[int]:
    """``steps`` evenly spaced timesteps from T−1 down to 0."""
    return sorted({int(round(v)) for v in torch.linspace(0, T - 1, steps).tolist()}, reverse=True)


@torch.no_grad()
def sample_ddim(
    eps_model: EpsModel,
    shape,
    schedule: DiscreteSchedule | None = None,
    *,
    steps: int = 50,
    eta: float = 0.0,
    generator=None,
    callback=None,
    record_stride: int = 1,
    clip_x0: float | None = None,
    device="cpu",
) -> Trajectory:
    """DDIM (Song et al. 2021) on any subsequence of timesteps; η = 0 deterministic, 1 ≈ DDPM."""
    schedule = schedule or DiscreteSchedule()
    acp = schedule.alphas_cumprod.float().to(device)
    ts = ddim_timesteps(schedule.T, steps)
    rec = Recorder(len(ts), record_stride, callback, "ddim")
    x = _randn(shape, generator, device)
    for i, t in enumerate(ts):
        eps = eps_model(x, torch.full((shape[0],), t, dtype=torch.long, device=device))
        a = acp[t]
        x0 = _x0_from_eps(x, eps, a)
        if clip_x0 is not None:
            x0 = x0.clamp(-clip_x0, clip_x0)
            eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        rec.step(i, x, x0, float(schedule.sigmas[t]), t)
        a_prev = acp[ts[i + 1]] if i + 1 < len(ts) else acp.new_tensor(1.0)
        sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)).clamp(min=0).sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
        if eta > 0 and i + 1 < len(ts):
            x = x + sigma * _randn(shape, generator, device)
    return rec.finish(x, len(ts))


class EpsDenoiser:
    """A discrete ε-model seen as a σ-space denoiser D(x, σ) (k-diffusion's DiscreteEpsDDPMDenoiser).

    x = x0 + σ·n corresponds to x_t = x/√(1+σ²) at the timestep whose σ_t is nearest (log-σ,
    interpolated to a fractional t, rounded for models that take integer t).
    """

    def __init__(
        self,
        eps_model: EpsModel,
        schedule: DiscreteSchedule | None = None,
        clip_x0: float | None = None,
    ):
        schedule = schedule or DiscreteSchedule()
        self.eps_model, self.clip_x0 = eps_model, clip_x0
        self.log_sigmas = schedule.sigmas.float().log()
        self.sigma_min, self.sigma_max = float(schedule.sigmas[0]), float(schedule.sigmas[-1])

    def t_for(self, sigma: torch.Tensor) -> torch.Tensor:
        log_sigmas = self.log_sigmas.to(sigma.device)  # the schedule is kept on the CPU
        ls = sigma.float().log().clamp(float(log_sigmas[0]), float(log_sigmas[-1]))
        idx = torch.searchsorted(log_sigmas, ls.reshape(-1)).clamp(1, len(log_sigmas) - 1)
        lo, hi = log_sigmas[idx - 1], log_sigmas[idx]
        frac = (ls.reshape(-1) - lo) / (hi - lo)
        return (idx - 1 + frac).reshape(sigma.shape)

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        s = sigma.reshape(-1, *([1] * (x.ndim - 1)))
        t = self.t_for(sigma).round().long()
        eps = self.eps_model(x / (1 + s**2).sqrt(), t)
        den = x - s * eps
        return den if self.clip_x0 is None else den.clamp(-self.clip_x0, self.clip_x0)


@torch.no_grad()
def sample_euler(
    denoiser: Denoiser,
    shape,
    sigmas: torch.Tensor,
    *,
    generator=None,
    callback=None,
    record_stride: int = 1,
    device="cpu",
) -> Trajectory:
    """Euler steps of the probability-flow ODE dx/dσ = (x − D(x, σ))/σ (one NFE per step)."""
    sigmas = sigmas.float().to(device)
    n = len(sigmas) - 1
    rec = Recorder(n, record_stride, callback, "euler")
    x = _randn(shape, generator, device) * sigmas[0]
    for i in range(n):
        s = sigmas[i].expand(shape[0])
        d0 = denoiser(x, s)
        rec.step(i, x, d0, float(sigmas[i]))
        x = x + (x - d0) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    return rec.finish(x, n)


@dataclass(frozen=True)
class Churn:
    """Karras et al.'s stochastic churn (Algorithm 2; k-diffusion's ``s_churn`` …): before each
    step with S_tmin ≤ σ_i ≤ S_tmax, noise is added to raise σ_i to σ̂ = σ_i(1 + γ), γ =
    min(S_churn/N, √2 − 1), and the step starts from σ̂.  S_churn = 0 is the deterministic sampler."""

    s_churn: float = 0.0
    s_tmin: float = 0.0
    s_tmax: float = float("inf")
    s_noise: float = 1.0

    def gamma(self, sigma: float, n: int) -> float:
        if self.s_churn <= 0 or not (self.s_tmin <= sigma <= self.s_tmax):
            return 0.0
        return min(self.s_churn / n, 2**0.5 - 1)


@torch.no_grad()
def sample_heun(
    denoiser: Denoiser,
    shape,
    sigmas: torch.Tensor,
    *,
    generator=None,
    callback=None,
    record_stride: int = 1,
    churn: Churn | None = None,
    device="cpu",
) -> Trajectory:
    """Heun's 2nd-order method (Karras et al. Algorithm 1; with ``churn``, Algorithm 2); no
    correction on the last step (to σ = 0), so N steps cost 2N − 1 network evaluations."""
    sigmas = sigmas.float().to(device)
    n = len(sigmas) - 1
    rec = Recorder(n, record_stride, callback, "heun")
    x = _randn(shape, generator, device) * sigmas[0]
    nfe = 0
    for i in range(n):
        s, s_next = sigmas[i], sigmas[i + 1]
        gamma = churn.gamma(float(s), n) if churn is not None else 0.0
        if gamma > 0:
            s_hat = s * (1 + gamma)
            x = x + (s_hat**2 - s**2).sqrt() * churn.s_noise * _randn(shape, generator, device)
            s = s_hat
        den = denoiser(x, s.expand(shape[0]))
        nfe += 1
        rec.step(i, x, den, float(s))
        d = (x - den) / s
        x_next = x + d * (s_next - s)
        if s_next > 0:
            den2 = denoiser(x_next, s_next.expand(shape[0]))
            nfe += 1
            d2 = (x_next - den2) / s_next
            x_next = x + 0.5 * (d + d2) * (s_next - s)
        x = x_next
    return rec.finish(x, nfe)


def default_karras(
    denoiser, n: int = 25, rho: float = 7.0, sigma_min: float | None = None, sigma_max: float | None = None
) -> torch.Tensor:
    """Karras σs for a denoiser, clamped to its range when it has one (e.g. a wrapped DDPM)."""
    lo = sigma_min if sigma_min is not None else getattr(denoiser, "sigma_min", 0.002)
    hi = sigma_max if sigma_max is not None else min(getattr(denoiser, "sigma_max", 80.0), 80.0)
    return karras_sigmas(n, lo, hi, rho)
