"""The record every sampler returns: x_t, the predicted clean image and the noise level per step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch


class SamplingCancelled(Exception):
    """Raised inside a sampler when its callback asks to stop."""


@dataclass
class Trajectory:
    """Samples plus the recorded steps (every ``stride``-th, and always the last).

    ``xs[k]`` and ``denoised[k]`` are (N, C, H, W) float32 arrays at noise level ``sigmas[k]``
    (σ in the variance-exploding parametrisation; DDPM steps also keep their integer ``ts``).
    """

    samples: np.ndarray
    xs: list[np.ndarray] = field(default_factory=list)
    denoised: list[np.ndarray] = field(default_factory=list)
    sigmas: list[float] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    nfe: int = 0
    sampler: str = ""

    def __len__(self) -> int:
        return len(self.xs)

    def rescaled(self, factor: float) -> Trajectory:
        """The images (samples, x_t, x̂0) × ``factor``: back to the data scale for a model that
        diffuses a scaled variable; noise levels stay the model's own."""
        if factor == 1.0:
            return self
        return Trajectory(
            samples=self.samples * factor,
            xs=[x * factor for x in self.xs],
            denoised=[x * factor for x in self.denoised],
            sigmas=list(self.sigmas),
            ts=list(self.ts),
            nfe=self.nfe,
            sampler=self.sampler,
        )


class Recorder:
    """Collects steps into a Trajectory and relays them to the user's callback."""

    def __init__(
        self,
        n_steps: int,
        stride: int = 1,
        callback: Callable[[dict], bool | None] | None = None,
        sampler: str = "",
    ):
        self.n_steps, self.stride, self.callback = n_steps, max(1, stride), callback
        self.traj = Trajectory(samples=np.zeros(0), sampler=sampler)

    def step(
        self, i: int, x: torch.Tensor, denoised: torch.Tensor, sigma: float, t: int | None = None
    ) -> None:
        if i % self.stride == 0 or i == self.n_steps - 1:
            self.traj.xs.append(x.detach().float().cpu().numpy())
            self.traj.denoised.append(denoised.detach().float().cpu().numpy())
            self.traj.sigmas.append(float(sigma))
            if t is not None:
                self.traj.ts.append(int(t))
        if self.callback is not None and self.callback(
            {"i": i, "n": self.n_steps, "x": x, "denoised": denoised, "sigma": float(sigma), "t": t}
        ):
            raise SamplingCancelled(f"cancelled at step {i + 1} of {self.n_steps}")

    def finish(self, x: torch.Tensor, nfe: int) -> Trajectory:
        self.traj.samples = x.detach().float().cpu().numpy()
        self.traj.nfe = nfe
        return self.traj
