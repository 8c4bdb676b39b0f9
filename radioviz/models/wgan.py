"""Conditional WGAN-GP after Mishra et al. Tables A1 (critic) and A2 (generator), for
4-band 64×64 images and the four labels (non-halo, H, cH, mH).

Kept from the tables: the label embedding (64-d) in both networks, the generator's noise
(128) → dense 4096 = 256×4×4 map with the label as one extra 4×4 channel (257 inputs to the
first transposed conv), kernels 8 and strides 2, widths 256/128/64 (generator) and 32/64/128/256
(critic), LeakyReLU in the critic, the critic's dense 4096 → 1024 joined with the label
embedding's 512 (1536 → 1024 → 1).
Changed, and why: the tables' 1×1 stride-2 (transposed) convolutions leave every other pixel
unseen/empty, and their 8×8 ones cost 2× the whole critic step on this CPU, so all use 4×4
kernels (stride 2, padding 1); the generator's widths default to half the table's (128/64/32:
its transposed convolutions were 90 % of an iteration's cost; ``width=256`` restores them); the
final dense 4096 → 4096 layer would need 268 M weights for four bands, so a 3×3 convolution +
tanh replaces it; the critic's sigmoid is dropped (a Wasserstein critic is unbounded).

``head``: channels of the last transposed convolution, before that 3×3 convolution.  ``0`` (the
shipped 4-band model's layout) makes it ``channels``; with one channel that is a single ReLU map,
which died within 50 iterations on the single-frequency set (every sample the same constant
image), so new models use ``head=16``.
"""

from __future__ import annotations

import torch
from torch import nn


class WGANGenerator(nn.Module):
    def __init__(
        self,
        channels: int = 4,
        num_classes: int = 4,
        latent_dim: int = 128,
        size: int = 64,
        width: int = 128,
        head: int = 0,
    ):
        super().__init__()
        if size != 64:
            raise ValueError("the WGAN generator is built for 64×64 images")
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.label_emb = nn.Embedding(max(num_classes, 1), 64)
        self.label_map = nn.Linear(64, 16)  # → one 4×4 channel
        self.dense = nn.Linear(latent_dim, 4096)  # → 256 × 4 × 4
        w = width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(257, w, 4, 2, 1),
            nn.ReLU(),  # 4 → 8
            nn.ConvTranspose2d(w, w // 2, 4, 2, 1),
            nn.ReLU(),  # 8 → 16
            nn.ConvTranspose2d(w // 2, w // 4, 4, 2, 1),
            nn.ReLU(),  # 16 → 32
            nn.ConvTranspose2d(w // 4, head or channels, 4, 2, 1),
            nn.ReLU(),  # 32 → 64
            nn.Conv2d(head or channels, channels, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        n = z.shape[0]
        if label is None or self.num_classes == 0:
            label = torch.zeros(n, dtype=torch.long, device=z.device)
        lab = self.label_map(self.label_emb(label.clamp(max=self.label_emb.num_embeddings - 1))).reshape(
            n, 1, 4, 4
        )
        h = self.dense(z).reshape(n, 256, 4, 4)
        return self.net(torch.cat([h, lab], dim=1))


class WGANCritic(nn.Module):
    def __init__(self, channels: int = 4, num_classes: int = 4):
        super().__init__()
        self.label_emb = nn.Embedding(max(num_classes, 1), 64)
        self.label_dense = nn.Linear(64, 512)
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1),
            act(),  # 64 → 32
            nn.Conv2d(32, 64, 4, 2, 1),
            act(),  # 32 → 16
            nn.Conv2d(64, 128, 4, 2, 1),
            act(),  # 16 → 8
            nn.Conv2d(128, 256, 4, 2, 1),
            act(),  # 8 → 4
        )
        self.dense = nn.Linear(4096, 1024)
        self.head = nn.Sequential(nn.Linear(1536, 1024), act(), nn.Linear(1024, 1))

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        n = x.shape[0]
        if label is None:
            label = torch.zeros(n, dtype=torch.long, device=x.device)
        h = nn.functional.leaky_relu(self.dense(self.conv(x).reshape(n, -1)), 0.2)
        e = self.label_dense(self.label_emb(label.clamp(max=self.label_emb.num_embeddings - 1)))
        return self.head(torch.cat([h, e], dim=1)).squeeze(1)


def build_wgan_generator(**kw) -> WGANGenerator:
    return WGANGenerator(**kw)


def gradient_penalty(
    critic: WGANCritic, real: torch.Tensor, fake: torch.Tensor, label: torch.Tensor
) -> torch.Tensor:
    """Gulrajani et al.: (‖∇ critic(x̂)‖ − 1)² at random points between real and fake."""
    a = torch.rand(len(real), 1, 1, 1).to(real.device)  # drawn on the CPU: the same on every device
    xh = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(xh, label).sum(), xh, create_graph=True)
    return (g.flatten(1).norm(dim=1) - 1).pow(2).mean()
