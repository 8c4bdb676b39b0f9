"""What a DDPM network is trained to output: the noise ε (Ho et al. 2020) or the velocity
v = √ᾱ_t·ε − √(1−ᾱ_t)·x0 (Salimans & Ho 2022).

Why v: from an ε-output the clean-image estimate is x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, so an error in
ε̂ at large t reaches x̂0 multiplied by √((1−ᾱ_t)/ᾱ_t) (≈ 156 at t = 999): the sparse GLEAM sky's
large-scale layout, decided there, came out as blobs of both signs across empty sky (issue #28:
half the generated non-zero pixels negative, 10 % in real images).  From a v-output x̂0 =
√ᾱ_t·x_t − √(1−ᾱ_t)·v̂: the error is never amplified.  Every sampler, lesson and plot still sees ε
(:func:`eps_from_output`), so the teaching formulas are unchanged.
"""

from __future__ import annotations

import torch

PREDICTIONS = ("epsilon", "v")


def check(prediction: str) -> str:
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {', '.join(PREDICTIONS)}, not {prediction!r}")
    return prediction


def training_target(prediction: str, x0: torch.Tensor, noise: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """What the network should output for x_t = √a·x0 + √(1−a)·noise (``a`` = ᾱ_t, broadcastable)."""
    if check(prediction) == "v":
        return a.sqrt() * noise - (1 - a).sqrt() * x0
    return noise


def eps_from_output(prediction: str, out: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """ε̂ from the network's output at x_t (for v: ε̂ = √a·v̂ + √(1−a)·x_t)."""
    if check(prediction) == "v":
        return a.sqrt() * out + (1 - a).sqrt() * x_t
    return out


def x0_from_output(prediction: str, out: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The clean-image estimate x̂0 the network's output at x_t stands for."""
    if check(prediction) == "v":
        return a.sqrt() * x_t - (1 - a).sqrt() * out
    return (x_t - (1 - a).sqrt() * out) / a.sqrt()


def output_from_x0(prediction: str, x0: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The output that stands for ``x0`` at x_t (the inverse of :func:`x0_from_output`)."""
    if check(prediction) == "v":
        return (a.sqrt() * x_t - x0) / (1 - a).sqrt()
    return (x_t - a.sqrt() * x0) / (1 - a).sqrt()


def as_eps_model(model, prediction: str, alphas_cumprod: torch.Tensor):
    """``model(x_t, t, **cond)`` as an ε-model with the same call (the identity for an ε-network)."""
    if check(prediction) == "epsilon":
        return model
    acp = alphas_cumprod.float()

    def eps(x, t, **cond):
        a = acp.to(x.device)[t.long()].reshape(-1, *([1] * (x.ndim - 1)))
        return eps_from_output(prediction, model(x, t, **cond), x, a)

    return eps
