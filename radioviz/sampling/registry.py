"""The sampler registry: name → run function, default steps and network-evaluation rule.

Every entry is called the same way — ``run(target, shape, steps, *, eta, generator, callback,
record_stride) -> Trajectory`` (Heun also takes ``churn``, a
:class:`~radioviz.sampling.samplers.Churn`) — over a :class:`Target`, the model seen as whatever the sampler
needs (ε-model and schedule, σ-space denoiser, or a one-shot generator).  The entries are thin
adapters over the pure samplers in :mod:`radioviz.sampling.samplers`.

The CLI, the Generate and the Trajectory views read sampler names and default steps from here
only.  To add a sampler, write its pure function in ``samplers.py``, an adapter here, and one
:class:`Sampler` line in :data:`SAMPLERS` (with the model kinds it runs on).

DDPM ancestral sampling is defined on the schedule's T steps (Ho et al. Algorithm 2 draws the
posterior at every t); it runs exactly T steps, and any other step count is refused — DDIM with
η = 1 is the ancestral sampler on a shorter subsequence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .samplers import (
    Churn,
    Denoiser,
    EpsModel,
    ddim_timesteps,
    default_karras,
    sample_ddim,
    sample_ddpm,
    sample_euler,
    sample_heun,
)
from .schedules import DiscreteSchedule, karras_sigmas
from .trajectory import Recorder, Trajectory


@dataclass
class Target:
    """A generator as a sampler sees it (conditions and guidance already closed over).

    Discrete (DDPM-kind) models give ``eps`` and ``schedule`` and, for the σ-space samplers,
    ``denoiser`` (an :class:`~radioviz.sampling.samplers.EpsDenoiser`); continuous (EDM) models
    give ``denoiser`` and ``sigma_range``; one-shot (WGAN) models give ``oneshot(shape, generator)``.
    ``device`` is the model's: the samplers make their tensors there.
    """

    eps: EpsModel | None = None
    schedule: DiscreteSchedule | None = None
    denoiser: Denoiser | None = None
    sigma_range: tuple[float, float] | None = None
    clip_x0: float | None = None
    data_scale: float = 1.0  # the sampler's variable is data × data_scale (DDPM on unit variance)
    oneshot: Callable[[tuple, torch.Generator], torch.Tensor] | None = None
    device: torch.device | str = "cpu"

    @property
    def T(self) -> int:
        return self.schedule.T if self.schedule is not None else DiscreteSchedule().T

    def karras(self, steps: int) -> torch.Tensor:
        """Karras σs: over ``sigma_range`` if given, else over the denoiser's own range."""
        if self.sigma_range is not None:
            return karras_sigmas(steps, *self.sigma_range)
        return default_karras(self.denoiser, steps)


# The adapters: (target, shape, steps, *, eta, generator, callback, record_stride) -> Trajectory;
# ``rec`` carries generator, callback and record_stride through unchanged.


def _ddpm(target: Target, shape, steps: int, *, eta: float, **rec) -> Trajectory:
    return sample_ddpm(
        target.eps, shape, target.schedule, clip_x0=target.clip_x0, device=target.device, **rec
    )


def _ddim(target: Target, shape, steps: int, *, eta: float, **rec) -> Trajectory:
    return sample_ddim(
        target.eps,
        shape,
        target.schedule,
        steps=steps,
        eta=eta,
        clip_x0=target.clip_x0,
        device=target.device,
        **rec,
    )


def _heun(target: Target, shape, steps: int, *, eta: float, churn: Churn | None = None, **rec) -> Trajectory:
    return sample_heun(target.denoiser, shape, target.karras(steps), churn=churn, device=target.device, **rec)


def _euler(target: Target, shape, steps: int, *, eta: float, **rec) -> Trajectory:
    return sample_euler(target.denoiser, shape, target.karras(steps), device=target.device, **rec)


def _oneshot(
    target: Target, shape, steps: int, *, eta: float, generator, callback, record_stride
) -> Trajectory:
    rec = Recorder(1, 1, callback, "oneshot")
    x = target.oneshot(shape, generator)
    rec.step(0, x, x, 0.0)
    return rec.finish(x, 1)


@dataclass(frozen=True)
class Sampler:
    """One registry entry."""

    name: str
    run: Callable[..., Trajectory]
    default_steps: int
    nfe: Callable[[int, int], int]  # (steps, T) -> network evaluations
    kinds: tuple[str, ...]  # model kinds it runs on
    fixed_steps: bool = False  # runs exactly its default (T for DDPM); other counts are refused
    label: str = ""  # for display: "DDPM", "Heun" …

    def tag(self, steps: int | None = None) -> str:
        """'DDIM-50': the label with a step count (the default unless given)."""
        return f"{self.label}-{steps or self.default_steps}"


SAMPLERS: dict[str, Sampler] = {
    s.name: s
    for s in (
        Sampler("ddim", _ddim, 50, lambda n, T: len(ddim_timesteps(T, n)), ("ddpm",), label="DDIM"),
        Sampler("ddpm", _ddpm, 1000, lambda n, T: T, ("ddpm",), fixed_steps=True, label="DDPM"),
        Sampler("heun", _heun, 25, lambda n, T: 2 * n - 1, ("ddpm", "edm"), label="Heun"),
        Sampler("euler", _euler, 25, lambda n, T: n, ("ddpm", "edm"), label="Euler"),
        Sampler("oneshot", _oneshot, 1, lambda n, T: 1, ("wgan",), fixed_steps=True, label="one-shot"),
    )
}

#: Each kind's own sampler (the default): first in :func:`samplers_for`.
DEFAULT_SAMPLER = {"ddpm": "ddim", "edm": "heun", "wgan": "oneshot"}


def samplers_for(kind: str) -> tuple[str, ...]:
    """The samplers a model kind accepts, its default first."""
    first = DEFAULT_SAMPLER.get(kind)
    names = [n for n, s in SAMPLERS.items() if kind in s.kinds]
    return tuple(sorted(names, key=lambda n: n != first))


def default_steps(sampler: str, T: int | None = None) -> int:
    """The registry's step count for ``sampler`` (DDPM ancestral: the schedule's T when given)."""
    s = SAMPLERS[sampler]
    return T if sampler == "ddpm" and T else s.default_steps


def resolve_steps(sampler: str, steps: int | None, T: int) -> int:
    """``steps`` checked for ``sampler`` (None → the default); ``ValueError`` says why not."""
    s = SAMPLERS[sampler]
    want = default_steps(sampler, T)
    if steps is None:
        return want
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    if s.fixed_steps and steps != want:
        hint = "; use ddim for fewer steps (η = 1 is ancestral sampling)" if sampler == "ddpm" else ""
        raise ValueError(
            f"sampler {sampler!r} runs exactly {want} step{'s' * (want != 1)}, not {steps}{hint}"
        )
    return steps


def nfe(sampler: str, steps: int, T: int = 1000) -> int:
    """Network evaluations of ``steps`` steps of ``sampler`` (without guidance's doubling)."""
    return SAMPLERS[sampler].nfe(steps, T)


def steps_help() -> str:
    """'ddim 50, ddpm 1000 (T), …' for help texts."""
    return ", ".join(
        f"{n} {s.default_steps}{' (T)' if n == 'ddpm' else ''}" for n, s in SAMPLERS.items() if n != "oneshot"
    )
