"""Halo classifiers after Mishra et al. Tables A3–A5, for 4-band 64×64 input.

Each returns logits of shape (N, 2); :func:`halo_score` turns them into the halo probability.
The paper's L and D take one band; here every network takes the four GLEAM bands, so L's first
convolution and D's first dense layer are wider than in the tables (counts in
:data:`PARAMETER_COUNTS_PAPER` vs :func:`count_parameters`).
"""

from __future__ import annotations

import torch
from torch import nn

PARAMETER_COUNTS_PAPER = {"L": 58_898, "A": 939_490, "D": 264_580}


class GaussianNoise(nn.Module):
    """Adds N(0, σ²) to the input while training (Keras' GaussianNoise layer)."""

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        return x + self.sigma * torch.randn_like(x) if self.training and self.sigma > 0 else x


class ClassifierL(nn.Module):
    """conv 8 → pool → conv 16 → pool → dense 16 → 2 ('valid' convolutions, ceil pooling: 15×15×16)."""

    def __init__(self, in_channels: int = 4, size: int = 64):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(8, 16, 3),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        )
        n = self.features(torch.zeros(1, in_channels, size, size)).numel()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(n, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x):
        return self.head(self.features(x))


class ClassifierA(nn.Module):
    """conv 64 → pool → conv 128 → pool → conv 192 → self-attention over the 16×16 grid →
    projection to 32 → LayerNorm → dense 64 → 2, with Gaussian-noise regularisation."""

    def __init__(
        self, in_channels: int = 4, size: int = 64, heads: int = 4, noise: float = 0.01, token_dim: int = 32
    ):
        super().__init__()
        self.noise = GaussianNoise(noise)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(128, 192, 3, padding=1),
            nn.ReLU(),
        )
        self.attention = nn.MultiheadAttention(192, heads, batch_first=True)
        self.project = nn.Linear(192, token_dim)
        self.norm = nn.LayerNorm(token_dim)
        tokens = (size // 4) ** 2
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(tokens * token_dim, 64), nn.ReLU(), nn.Linear(64, 2)
        )

    def embed(self, x):
        """Penultimate features (the 64-d layer): the domain features for FID/KID later."""
        f = self.features(self.noise(x))
        t = f.flatten(2).transpose(1, 2)  # (N, tokens, 192)
        a, _ = self.attention(t, t, t, need_weights=False)
        z = self.norm(self.project(a))
        return self.head[1:3](self.head[0](z))

    def forward(self, x):
        return self.head[3](self.embed(x))


class ClassifierD(nn.Module):
    """dense 64 → 32 → 16 → 2 on the flattened image."""

    def __init__(self, in_channels: int = 4, size: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * size * size, 64),
            nn.ReLU(),
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, 16),
            nn.ReLU(),
            nn.Linear(16, 2),
        )

    def forward(self, x):
        return self.net(x)


def build_classifier(arch: str, **kwargs) -> nn.Module:
    """A window classifier named in :data:`radioviz.models.registry.ARCHITECTURES`."""
    from . import registry

    known = registry.builders("classifier", registry.WINDOW)
    if arch not in known:
        raise ValueError(f"unknown classifier architecture {arch!r}; choose from {sorted(known)}")
    return known[arch](**kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def halo_score(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Probability of the halo class, in [0, 1]."""
    return torch.softmax(model(x), dim=1)[:, 1]


def predict_halo_scores(model: nn.Module, x, batch: int = 512):
    """Halo scores of already-normalised (N, C, H, W) numpy inputs, in eval mode and batches, on
    whichever device the model is (each batch moved there, the scores brought back)."""
    import numpy as np

    from .device import model_device

    model.eval()
    device = model_device(model)

    def batch_at(i: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x[i : i + batch], dtype=np.float32)).to(device)

    out = [halo_score(model, batch_at(i)).cpu().numpy() for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)
