"""A U-Net after Ho et al. (2020), sized for CPU training: GroupNorm, SiLU (swish), sinusoidal
time embedding, residual blocks, self-attention at 16×16 and below.

Optional conditions, each through a small GELU MLP added to the time (noise-level) embedding,
which enters every residual block by scale-and-shift after its GroupNorm (FiLM):

- ``num_classes``: a class label with a learned null class (index ``num_classes``) for
  classifier-free guidance;
- ``flux_cond``: a standardised scalar (Box-Cox peak flux, Martinez et al.); absent → zeros
  plus a "present" flag of 0, so dropping it is learned too;
- ``background``: a reference image encoded to one global embedding (RADiff); absent → zeros;
- ``mask_classes``: a segmentation mask as one-hot channels concatenated to the input (RADiff).

The same network serves the ε-DDPM and the EDM model; EDM's preconditioning lives outside it
(:mod:`radioviz.models.precond`).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps, (N,) -> (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(32, ch // 4) if ch >= 8 else 1, ch)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1, self.conv1 = _norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.norm2, self.conv2 = _norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    def __init__(self, ch: int, heads: int = 4):
        super().__init__()
        self.norm = _norm(ch)
        self.attn = nn.MultiheadAttention(ch, heads, batch_first=True)

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.norm(x).flatten(2).transpose(1, 2)
        a, _ = self.attn(t, t, t, need_weights=False)
        return x + a.transpose(1, 2).reshape(n, c, h, w)


class BackgroundEncoder(nn.Module):
    """A reference image -> one global embedding (three strided convs, mean-pooled)."""

    def __init__(self, in_channels: int, base: int, emb_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, base, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(base, 2 * base, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(2 * base, 4 * base, 3, stride=2, padding=1),
            nn.SiLU(),
        )
        self.proj = nn.Sequential(nn.Linear(4 * base, emb_dim), nn.GELU(), nn.Linear(emb_dim, emb_dim))

    def forward(self, x):
        return self.proj(self.net(x).mean(dim=(2, 3)))


def _mlp(cin: int, dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(cin, dim), nn.GELU(), nn.Linear(dim, dim))


class UNet(nn.Module):
    """Output of the same shape as x for (N, C, 64, 64) images at time/noise level ``t``.

    ``label``: None or (N,) ints (``num_classes`` = null); ``flux``: None or (N,) floats, NaN =
    absent; ``mask``: (N, mask_classes, H, W) one-hot; ``background``: None or (N, C, H, W), an
    all-NaN image meaning absent.
    """

    def __init__(
        self,
        in_channels: int = 4,
        base: int = 32,
        mults: tuple[int, ...] = (1, 2, 2, 2),
        num_res: int = 1,
        attn_resolutions: tuple[int, ...] = (16, 8),
        num_classes: int = 0,
        dropout: float = 0.0,
        size: int = 64,
        flux_cond: bool = False,
        mask_classes: int = 0,
        background: bool = False,
    ):
        super().__init__()
        self.num_classes, self.mask_classes = num_classes, mask_classes
        emb_dim = base * 4
        self.time_mlp = nn.Sequential(nn.Linear(base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.base = base
        self.label_emb = (
            nn.Sequential(nn.Embedding(num_classes + 1, emb_dim), nn.GELU(), nn.Linear(emb_dim, emb_dim))
            if num_classes
            else None
        )
        self.flux_mlp = _mlp(2, emb_dim) if flux_cond else None
        self.background_enc = BackgroundEncoder(in_channels, base, emb_dim) if background else None
        self.inp = nn.Conv2d(in_channels + mask_classes, base, 3, padding=1)
        self.down = nn.ModuleList()
        chans, ch, res = [base], base, size
        for level, m in enumerate(mults):
            for _ in range(num_res):
                blocks = [ResBlock(ch, base * m, emb_dim, dropout)]
                ch = base * m
                if res in attn_resolutions:
                    blocks.append(AttnBlock(ch))
                self.down.append(nn.ModuleList(blocks))
                chans.append(ch)
            if level < len(mults) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)]))
                chans.append(ch)
                res //= 2
        self.mid = nn.ModuleList(
            [ResBlock(ch, ch, emb_dim, dropout), AttnBlock(ch), ResBlock(ch, ch, emb_dim, dropout)]
        )
        self.up = nn.ModuleList()
        for level, m in reversed(list(enumerate(mults))):
            for _ in range(num_res + 1):
                blocks = [ResBlock(ch + chans.pop(), base * m, emb_dim, dropout)]
                ch = base * m
                if res in attn_resolutions:
                    blocks.append(AttnBlock(ch))
                self.up.append(nn.ModuleList(blocks))
            if level > 0:
                self.up.append(
                    nn.ModuleList(
                        [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch, ch, 3, padding=1)]
                    )
                )
                res *= 2
        self.out = nn.Sequential(_norm(ch), nn.SiLU(), nn.Conv2d(ch, in_channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def embed(self, t: torch.Tensor, label=None, flux=None, background=None) -> torch.Tensor:
        n = t.shape[0]
        emb = self.time_mlp(timestep_embedding(t, self.base))
        if self.label_emb is not None:
            if label is None:
                label = torch.full((n,), self.num_classes, dtype=torch.long, device=t.device)
            emb = emb + self.label_emb(label)
        if self.flux_mlp is not None:
            f = torch.full((n,), float("nan"), device=t.device) if flux is None else flux.float().reshape(n)
            present = torch.isfinite(f)
            emb = emb + self.flux_mlp(torch.stack([torch.where(present, f, 0.0), present.float()], dim=1))
        if self.background_enc is not None and background is not None:
            present = torch.isfinite(background).flatten(1).all(1, keepdim=True).float()  # all-NaN = dropped
            emb = emb + self.background_enc(torch.nan_to_num(background)) * present
        return emb

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, label=None, flux=None, mask=None, background=None
    ) -> torch.Tensor:
        emb = self.embed(t, label, flux, background)
        if self.mask_classes:
            if mask is None:
                mask = x.new_zeros(x.shape[0], self.mask_classes, *x.shape[2:])
            x = torch.cat([x, mask.to(x.dtype)], dim=1)
        h = self.inp(x)
        skips = [h]
        for blocks in self.down:
            for b in blocks:
                h = b(h, emb) if isinstance(b, ResBlock) else b(h)
            skips.append(h)
        for b in self.mid:
            h = b(h, emb) if isinstance(b, ResBlock) else b(h)
        for blocks in self.up:
            if isinstance(blocks[0], ResBlock):
                h = torch.cat([h, skips.pop()], dim=1)
            for b in blocks:
                h = b(h, emb) if isinstance(b, ResBlock) else b(h)
        return self.out(h)


def build_unet(**kw) -> UNet:
    """A UNet from a model card's kwargs (lists there, tuples here)."""
    kw = dict(kw)
    kw["mults"] = tuple(kw.get("mults", (1, 2, 2, 2)))
    kw["attn_resolutions"] = tuple(kw.get("attn_resolutions", (16, 8)))
    return UNet(**kw)
