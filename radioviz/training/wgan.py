"""Training the conditional WGAN-GP (Mishra et al. Tables A1/A2, A6), resumably.

Gulrajani et al.'s recipe: n_critic = 5 critic steps per generator step, gradient penalty
λ = 10, Adam lr 2e-4, β = (0.5, 0.999), batch 32.  Same data, labels and generator
normalisation as the diffusion models, so the two are compared on equal terms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..data.dataset import Dataset
from ..models.card import ModelCard
from ..models.classifiers import count_parameters
from ..models.device import resolve_device
from ..models.wgan import WGANCritic, WGANGenerator, gradient_penalty
from .generator_data import LABEL_NAMES, generator_data
from .run import Run
from .state import load_state, save_state


@dataclass
class WGANConfig:
    iterations: int = 2000  # generator steps
    batch_size: int = 32
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 5
    gp_lambda: float = 10.0
    latent_dim: int = 128
    width: int = 128
    head: int = 16  # channels before the final 3×3 conv (see models.wgan; 0 = the shipped 4-band layout)
    save_every: int = 100
    seed: int = 0
    device: str = "auto"  # where both networks train: auto (CUDA when present), cpu or cuda


def train_wgan(
    ds: Dataset, cfg: WGANConfig, out: Path, resume: bool = False, progress: bool = True
) -> ModelCard:
    """Train (or continue, on any device) and write ``out`` (.safetensors: the generator) and its
    card.  The networks train on ``cfg.device``; batches, latents and the penalty's mixing weights
    are drawn on the CPU and moved, so one seed gives the same draws on every device."""
    run = Run(out, cfg.seed, resume=resume, progress=progress)
    device = run.device = resolve_device(cfg.device)
    if resume and run.out.exists():  # keep the layout the run started with (older cards have no head)
        cfg = replace(cfg, head=int(run.card().kwargs.get("head", 0)))
    gd = generator_data(ds)
    x_all, y_all = gd.x, gd.labels
    gkw = {
        "channels": int(x_all.shape[1]),
        "num_classes": len(LABEL_NAMES),
        "latent_dim": cfg.latent_dim,
        "size": int(x_all.shape[-1]),
        "width": cfg.width,
        **({"head": cfg.head} if cfg.head else {}),
    }
    gen = WGANGenerator(**gkw).to(device)  # initialised on the CPU: the same weights on every device
    critic = WGANCritic(int(x_all.shape[1]), len(LABEL_NAMES)).to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=cfg.betas)
    history = []
    parts = run.restore(opt_g, counter="iteration")
    if parts is not None:
        load_state(run.side_path("-critic.safetensors"), opt_c)
        gen.load_state_dict(parts["gen"])
        critic.load_state_dict(parts["critic"])
        history = run.meta["history"]

    def output_spread() -> float:
        """Std over 16 samples, averaged over pixels: ~0 means the generator collapsed to a constant."""
        with torch.no_grad():
            y = y_all[torch.from_numpy(np.random.default_rng(0).integers(0, len(x_all), 16))].to(device)
            z = torch.randn(16, cfg.latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
            return float(gen(z, y).std(0).mean())

    def make_card() -> dict:
        return {
            "kind": "wgan",
            "arch": "wgan-generator",
            "kwargs": gkw,
            "parameter_count": count_parameters(gen),
            "critic_parameter_count": count_parameters(critic),
            "labels": list(LABEL_NAMES),
            "conditions": ["label"],
            **gd.card,
            "output_std_over_samples": output_spread(),
            "training": run.training_record(
                cfg,
                iterations=run.step,
                wasserstein_estimate_last_50=float(np.mean([h[0] for h in history[-50:]]))
                if history
                else None,
            ),
        }

    def save():
        run.save_state(
            {"gen": gen.state_dict(), "critic": critic.state_dict()},
            opt_g,
            iteration=run.step,
            history=history,
        )
        save_state(run.side_path("-critic.safetensors"), {}, opt_c, {})
        run.write(gen, make_card())

    run.start_clock(save, cfg.save_every, cfg.iterations)
    bar = run.bar(cfg.iterations, "wgan")
    it, rng = run.step, run.rng
    while it < cfg.iterations:
        for _ in range(cfg.n_critic):
            idx = torch.from_numpy(rng.integers(0, len(x_all), cfg.batch_size))
            real, y = x_all[idx].to(device), y_all[idx].to(device)
            with torch.no_grad():
                fake = gen(torch.randn(len(y), cfg.latent_dim).to(device), y)
            w_dist = critic(real, y).mean() - critic(fake, y).mean()
            loss_c = -w_dist + cfg.gp_lambda * gradient_penalty(critic, real, fake, y)
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
        y = y_all[torch.from_numpy(rng.integers(0, len(x_all), cfg.batch_size))].to(device)
        loss_g = -critic(gen(torch.randn(len(y), cfg.latent_dim).to(device), y), y).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        it += 1
        history.append([round(w_dist.item(), 4), round(loss_g.item(), 4)])
        bar.update(1)
        bar.set_postfix(W=f"{w_dist.item():.3f}")
        run.tick(it)
    bar.close()
    run.finish()
    return run.card()
