"""Training a class-conditional ε-DDPM (Ho et al.; Mishra et al. §4) on 4-band cut-outs, resumably.

Labels are the halo subtypes of Mishra et al. Table 1 — ``non-halo``, ``H``, ``cH``, ``mH``
(mini-halos and candidate mini-halos) — found by matching each source's position to the
built-in cluster table; 10 % of labels are dropped to the null class so the model also learns
the unconditional score (classifier-free guidance).  EMA weights are what the checkpoint holds.
"""
from __future__ import annotations

import copy
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.dataset import Dataset
from ..data.preprocess import Preprocessing, generator_normalization
from ..models.checkpoint import save_checkpoint
from ..models.classifiers import count_parameters
from ..models.unet import UNet
from ..sampling.schedules import DiscreteSchedule
from .state import load_state, save_state
from ..io.catalogs import builtin_clusters, crossmatch

LABEL_NAMES = ("non-halo", "H", "cH", "mH")
_SUBTYPE = {"H": "H", "cH": "cH", "cmH": "mH", "mH": "mH"}


def source_subtypes(ds: Dataset, radius_arcmin: float = 10.0) -> np.ndarray:
    """Label index (into LABEL_NAMES) per source: non-halo for class 0, else the Table 1 subtype
    of the nearest listed cluster (a halo source with no listed match counts as ``H``)."""
    clusters = builtin_clusters()
    t1 = clusters[clusters["table"] == "T1"]
    m = crossmatch(ds.source_ra, ds.source_dec, t1, radius_arcmin)
    types = {str(n): str(k) for n, k in zip(t1["name"], t1["type"])}
    out = np.zeros(len(ds.source_names), dtype=np.int64)
    for i, (lab, near, ok) in enumerate(zip(ds.source_labels, m["nearest"], m["matched"])):
        if lab == 1:
            out[i] = LABEL_NAMES.index(_SUBTYPE.get(types.get(str(near), "H"), "H")) if ok else 1
    return out


@dataclass
class DDPMConfig:
    steps: int = 20000
    batch_size: int = 32
    lr: float = 2e-4
    ema_decay: float = 0.999
    base: int = 16
    mults: tuple[int, ...] = (1, 2, 2, 2)
    attn_resolutions: tuple[int, ...] = (16, 8)
    cond_drop: float = 0.1
    conditional: bool = True
    save_every: int = 500
    seed: int = 0


def _unet_kwargs(cfg: DDPMConfig, channels: int, size: int) -> dict:
    return {"in_channels": channels, "base": cfg.base, "mults": list(cfg.mults), "num_res": 1, "attn_resolutions": list(cfg.attn_resolutions), "num_classes": len(LABEL_NAMES) if cfg.conditional else 0, "size": size}


def train_ddpm(ds: Dataset, cfg: DDPMConfig, out: Path, resume: bool = False, progress: bool = True) -> dict:
    """Train (or continue) and write ``out`` (.safetensors, EMA weights) and its card."""
    out = Path(out).with_suffix(".safetensors")
    state_path = out.with_name(out.stem + ".train-state.safetensors")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train = ds.is_centre  # a generator learns from every central cut-out (no validation hold-out)
    norm = generator_normalization(ds.images[train])
    x_all = torch.from_numpy(norm.to_model(ds.images[train]))
    y_all = torch.from_numpy(source_subtypes(ds)[ds.source[train]])
    kwargs = _unet_kwargs(cfg, x_all.shape[1], x_all.shape[-1])
    model = UNet(**{**kwargs, "mults": tuple(kwargs["mults"]), "attn_resolutions": tuple(kwargs["attn_resolutions"])})
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = DiscreteSchedule()
    acp = sched.alphas_cumprod.float()
    step, losses, wall = 0, [], 0.0
    if resume and state_path.exists():
        parts, meta = load_state(state_path, opt)
        model.load_state_dict(parts["model"])
        ema.load_state_dict(parts["ema"])
        step, losses, wall = meta["step"], meta["losses"], meta["wall_seconds"]
        rng = np.random.default_rng(cfg.seed + step)
        torch.manual_seed(cfg.seed + step)

    def save():
        save_state(state_path, {"model": model.state_dict(), "ema": ema.state_dict()}, opt, {"step": step, "losses": losses, "wall_seconds": wall})

    t0 = time.time()
    bar = tqdm(total=cfg.steps, initial=step, desc="ddpm", disable=not progress)
    while step < cfg.steps:
        idx = torch.from_numpy(rng.integers(0, len(x_all), cfg.batch_size))
        x0, y = x_all[idx], y_all[idx].clone()
        if cfg.conditional:
            y[torch.rand(len(y)) < cfg.cond_drop] = len(LABEL_NAMES)  # null class
        t = torch.randint(0, sched.T, (len(x0),))
        noise = torch.randn_like(x0)
        a = acp[t].reshape(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = (model(xt, t, y if cfg.conditional else None) - noise).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(cfg.ema_decay).add_(pm, alpha=1 - cfg.ema_decay)
        step += 1
        losses.append(round(loss.item(), 5))
        bar.update(1)
        if step % cfg.save_every == 0 or step == cfg.steps:
            wall, t0 = wall + time.time() - t0, time.time()
            save()
    bar.close()
    pre = Preprocessing(cutout_size=x_all.shape[-1], band_convention=ds.meta["config"]["band_convention"], nsigma=ds.meta["config"]["nsigma"], bands=ds.meta["bands"], normalization=norm)
    card = {
        "kind": "ddpm",
        "arch": "unet",
        "kwargs": kwargs,
        "parameter_count": count_parameters(model),
        "labels": list(LABEL_NAMES) if cfg.conditional else [],
        "schedule": asdict(sched),
        "prediction": "epsilon",
        "preprocessing": pre.to_dict(),
        "training": {**asdict(cfg), "iterations": step, "wall_seconds": round(wall, 1), "final_loss_mean_last_100": float(np.mean(losses[-100:])) if losses else None, "command": " ".join(["radioviz", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("radioviz") else None, "torch_threads": torch.get_num_threads()},
        "data": {"hash": ds.meta["data_hash"], "config": ds.meta["config"], "n_train_images": int(train.sum())},
    }
    save_checkpoint(ema, out, card)
    return card
