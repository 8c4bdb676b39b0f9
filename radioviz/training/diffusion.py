"""Training diffusion generators on 4-band cut-outs, resumably: the discrete ε-DDPM (Ho et al.;
Mishra et al. §4) and the continuous-time EDM model (Karras et al. 2022; Martinez et al.).

Both share one loop; they differ only in the loss (:func:`ddpm_loss`, :func:`edm_loss`).
Conditions: the class label — ``non-halo``, ``H``, ``cH``, ``mH`` (mini-halos and candidate
mini-halos, Mishra et al. Table 1), found by matching each source's position to the built-in
cluster table — and, optionally, the Box-Cox-standardised peak flux.  Each is dropped 10 % of
the time (null class / absent flux) so the model also learns the unconditional score that
classifier-free guidance needs.  EMA weights (with warm-up) are what the checkpoint holds.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.conditions import MASK_CLASSES, derive_mask
from ..data.dataset import Dataset
from ..data.flux import FluxTransform, peak_flux
from ..data.preprocess import Preprocessing
from ..io.bands import GLEAM_BANDS
from ..models.beam import BeamLayer, BeamLimitedDDPM, gleam_beam_fwhm_px
from ..models.card import ModelCard
from ..models.checkpoint import save_checkpoint
from ..models.classifiers import count_parameters
from ..models.device import resolve_device  # noqa: F401  (also imported from here)
from ..models.precond import EDMPrecond
from ..models.prediction import check as check_prediction
from ..models.prediction import training_target
from ..models.unet import build_unet
from ..sampling.schedules import DiscreteSchedule
from .generator_data import (  # noqa: F401 (re-exported)
    LABEL_NAMES,
    generator_crops,
    generator_data,
    source_subtypes,
    training_command,
)
from .run import Run

T_SAMPLINGS = ("uniform", "lognormal")


@dataclass
class DiffusionConfig:
    kind: str = "ddpm"  # "ddpm" (discrete ε) or "edm" (continuous σ, preconditioned)
    steps: int = 20000
    batch_size: int = 32
    lr: float = 3e-4
    ema_decay: float = 0.999
    base: int = 16
    mults: tuple[int, ...] = (1, 2, 2, 2)
    attn_resolutions: tuple[int, ...] = (16, 8)
    cond_drop: float = 0.1
    conditional: bool = True  # class label
    flux: bool = False  # peak-flux condition
    mask: bool = False  # segmentation mask (RADiff): one-hot channels, derived with photutils
    background: bool = False  # background reference (RADiff): the image with its sources blanked
    background_drop: float = 0.5
    save_every: int = 500
    seed: int = 0
    # EDM: ln σ ~ N(p_mean, p_std²) in training; Martinez et al.'s P_mean for the asinh scale,
    # whose σ_data (~0.07) is 7× below Karras's 0.5: σ ~ 0.08 is where dead-band edges are learnt
    p_mean: float = -2.5
    p_std: float = 1.5
    sigma_data: float | None = None  # EDM: None = the training data's standard deviation
    crops: bool = True  # distinct crops of whole fields, augmented on the fly (generator_crops)
    per_field: int = 20  # crops per non-halo field (half that far from a halo field's centre)
    halo_share: float | None = 0.5  # share of each batch drawn from the halo classes
    stretch: str = "asinh"  # "asinh" (empty sky = 0) or "log" (the paper's log10(1+x) min-max)
    eval_every: int = 0  # steps between quick evaluations (learning curve); 0 = none
    eval_real: str | None = None  # real data root for them (default: the training root)
    eval_n: int = 16  # samples per quick evaluation
    # EDM: pass the clean-image estimate through each band's beam (models/beam.py, issue #30)
    beam: bool = False
    init: str | None = None  # start from this checkpoint's (EMA) weights: a fine-tune
    # keep the EMA weights of every quick evaluation (``<out>.evals/step<N>.safetensors`` + card), so
    # a step chosen from the learning curve can be shipped (#30: a run that went on overfitted)
    keep_evals: bool = False
    # DDPM: how training timesteps are drawn.  "uniform" is Ho et al.'s; "lognormal" draws t so
    # that the noise level σ_t = √((1−ᾱ_t)/ᾱ_t) of the (unit-variance) data follows EDM's
    # ln σ ~ N(p_mean + ln(1/σ_data), p_std²): uniform t spends ~55 % of the steps at σ > 3, where
    # the sparse GLEAM sky is already invisible, and ~10 % below σ ≈ 0.35, where the dead-band
    # edges and faint emission are decided (issue #28: DDPM samples left noisy backgrounds)
    t_sampling: str = "uniform"
    # DDPM: what the network outputs, "epsilon" (Ho et al.) or "v" (models/prediction.py, issue #28)
    prediction: str = "epsilon"
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"


def unet_kwargs(cfg: DiffusionConfig, channels: int, size: int) -> dict:
    return {
        "in_channels": channels,
        "base": cfg.base,
        "mults": list(cfg.mults),
        "num_res": 1,
        "attn_resolutions": list(cfg.attn_resolutions),
        "num_classes": len(LABEL_NAMES) if cfg.conditional else 0,
        "size": size,
        "flux_cond": cfg.flux,
        "mask_classes": len(MASK_CLASSES) if cfg.mask else 0,
        "background": cfg.background,
    }


def drop_conditions(cond: dict, p: float, num_classes: int, p_background: float = 0.5) -> dict:
    """Replace each condition by its null (class ``num_classes`` / NaN flux / NaN background)
    with probability p (``p_background`` for the background); the mask is never dropped."""
    out = dict(cond)
    if "background" in out:
        b = out["background"].clone()
        b[torch.rand(len(b)) < p_background] = float("nan")
        out["background"] = b
    if "label" in out:
        y = out["label"].clone()
        y[torch.rand(len(y)) < p] = num_classes
        out["label"] = y
    if "flux" in out:
        f = out["flux"].clone()
        f[torch.rand(len(f)) < p] = float("nan")
        out["flux"] = f
    return out


def init_weights(path: str, kwargs: dict) -> dict:
    """The weights of checkpoint ``path`` for a fine-tune, refused unless its network matches."""
    from ..errors import InputError
    from ..models.checkpoint import load_checkpoint

    model, card = load_checkpoint(path, {"unet": build_unet})
    if dict(card.kwargs) != kwargs:
        raise InputError(path, f"--init: its network {card.kwargs} differs from this run's {kwargs}")
    return model.state_dict()


def beam_layer(cfg: DiffusionConfig, gd) -> BeamLayer:
    """GLEAM's nominal beam per band in the training images' own pixels (native grids only)."""
    norm = gd.norm
    if norm is None or norm.asinh_soft is None:
        raise ValueError("--beam needs a model on the asinh stretch")
    native = gd.card["preprocessing"].get("band_convention") == "native"
    if len(norm.asinh_soft) != len(GLEAM_BANDS) or not native:
        raise ValueError("--beam needs the four GLEAM bands on their native grids")
    return BeamLayer(gleam_beam_fwhm_px(), list(norm.asinh_soft), float(norm.hi))


def lognormal_timesteps(n: int, acp: torch.Tensor, mean: float, std: float, generator=None) -> torch.Tensor:
    """``n`` timesteps whose σ_t = √((1−ᾱ_t)/ᾱ_t) is nearest (in ln σ) to a draw of ln σ ~ N(mean, std²)."""
    log_sigma_t = 0.5 * ((1 - acp) / acp).log()
    draws = torch.randn(n, generator=generator, device=acp.device) * std + mean
    return (draws[:, None] - log_sigma_t[None, :]).abs().argmin(dim=1)


def ddpm_loss(
    model, x0, cond, acp: torch.Tensor, t: torch.Tensor | None = None, prediction: str = "epsilon"
) -> torch.Tensor:
    """Ho et al.'s simple loss ‖ε − ε̂(√ᾱ_t x0 + √(1−ᾱ_t) ε, t)‖², or the same on v
    (``prediction="v"``, :mod:`radioviz.models.prediction`); t uniform unless given."""
    if t is None:
        t = torch.randint(0, len(acp), (len(x0),), device=x0.device)
    noise = torch.randn_like(x0)
    a = acp[t].reshape(-1, 1, 1, 1)
    target = training_target(prediction, x0, noise, a)
    return (model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, **cond) - target).pow(2).mean()


def edm_loss(precond: EDMPrecond, x0, cond, p_mean: float, p_std: float) -> torch.Tensor:
    """Karras et al.'s loss: λ(σ)‖D(x0 + σn; σ) − x0‖² with ln σ ~ N(p_mean, p_std²).

    With a beam layer the target is x0's beam-limited part (what D can reach; the rest is the
    dead band's edges and noise, which the sampler's caller re-applies as the survey does)."""
    if precond.beam is not None:
        with torch.no_grad():
            x0 = precond.beam(x0)
    sigma = (torch.randn(len(x0), device=x0.device) * p_std + p_mean).exp()
    noisy = x0 + sigma.reshape(-1, 1, 1, 1) * torch.randn_like(x0)
    w = precond.loss_weight(sigma).reshape(-1, 1, 1, 1)
    return (w * (precond(noisy, sigma, **cond) - x0).pow(2)).mean()


def train_diffusion(
    ds: Dataset, cfg: DiffusionConfig, out: Path, resume: bool = False, progress: bool = True
) -> ModelCard:
    """Train (or continue) and write ``out`` (.safetensors, EMA weights) and its card."""
    if cfg.kind not in ("ddpm", "edm"):
        raise ValueError(f"unknown diffusion kind {cfg.kind!r}")
    if cfg.t_sampling not in T_SAMPLINGS:
        raise ValueError(f"t_sampling must be one of {', '.join(T_SAMPLINGS)}, not {cfg.t_sampling!r}")
    check_prediction(cfg.prediction)
    run = Run(out, cfg.seed, resume=resume, progress=progress)
    crops = cfg.crops and not (cfg.mask or cfg.background)  # masks are derived per stored image
    gd = (
        generator_crops(ds, cfg.per_field, seed=cfg.seed, progress=progress)
        if crops
        else generator_data(ds, cfg.stretch)
    )
    x_all = gd.x
    sigma_data = float(cfg.sigma_data or round(float(x_all.std()), 4))
    # DDPM diffuses x0 / σ_data (unit variance, as EDM's c_in does): on the asinh scale the data's
    # std is ≈ 0.07, so under Ho et al.'s schedule the signal drowns in ε within the first few
    # percent of the steps and any ε error of the network is left in the sample as noise
    ddpm_scale = round(1.0 / sigma_data, 4) if cfg.kind == "ddpm" and cfg.stretch == "asinh" else 1.0
    conds = {}
    if cfg.conditional:
        conds["label"] = gd.labels
    flux_card = flux_tf = None
    if cfg.flux:
        peaks = peak_flux(gd.images)
        flux_tf = FluxTransform.fit(peaks * (np.mean([0.9, 1.4]) if gd.online_augment else 1.0))
        conds["flux"] = torch.from_numpy(flux_tf.to_model(peaks))
        flux_card = {
            **flux_tf.to_dict(),
            "definition": "brightest pixel over all bands, Jy/beam",
            "train_range": [float(peaks.min()), float(peaks.max())],
        }
    if cfg.mask or cfg.background:
        masks = np.stack(
            [
                derive_mask(im)
                for im in tqdm(gd.images, desc="deriving masks (photutils)", disable=not progress)
            ]
        )
        if cfg.mask:
            conds["mask"] = (
                torch.nn.functional.one_hot(torch.from_numpy(masks).long(), len(MASK_CLASSES))
                .permute(0, 3, 1, 2)
                .to(torch.uint8)
            )
        if cfg.background:
            conds["background"] = torch.where(torch.from_numpy(masks > 0)[:, None], torch.tensor(-1.0), x_all)
    kwargs = unet_kwargs(cfg, x_all.shape[1], x_all.shape[-1])
    device = run.device = resolve_device(cfg.device)
    net = build_unet(**kwargs)
    if cfg.init:
        net.load_state_dict(init_weights(cfg.init, kwargs))
    net = net.to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = DiscreteSchedule()
    acp = sched.alphas_cumprod.float().to(device)
    beam = beam_layer(cfg, gd) if cfg.beam else None
    precond = EDMPrecond(net, sigma_data, beam=beam if cfg.kind == "edm" else None).to(device)
    # the DDPM's loss is taken on the beam-limited output (models/beam.py), its weights are net's
    ddpm_net = (
        BeamLimitedDDPM(net, beam, cfg.prediction, acp, ddpm_scale).to(device)
        if cfg.kind == "ddpm" and beam is not None
        else net
    )
    losses, curve = [], []
    parts = run.restore(opt)
    if parts is not None:
        net.load_state_dict(parts["model"])
        ema.load_state_dict(parts["ema"])
        losses = run.meta["losses"]
        curve = run.meta.get("learning_curve", [])

    quick = None
    if cfg.eval_every:
        from .gen_eval import QuickEval

        quick = QuickEval(
            cfg.eval_real or ds.meta["config"]["root"],
            "TRAIN",
            Preprocessing.from_dict(gd.card["preprocessing"]),
            n=cfg.eval_n,
        )

    def make_card() -> dict:
        card = {
            "kind": cfg.kind,
            "arch": "unet",
            "kwargs": kwargs,
            "parameter_count": count_parameters(net),
            "labels": list(LABEL_NAMES) if cfg.conditional else [],
            "conditions": [k for k in ("label", "flux", "mask", "background") if k in conds],
            "mask_classes": list(MASK_CLASSES) if cfg.mask else [],
            **gd.card,
            "training": run.training_record(
                cfg,
                iterations=run.step,
                learning_curve=curve,
                sigma_data_used=sigma_data,
                final_loss_mean_last_100=float(np.mean(losses[-100:])) if losses else None,
                loss_curve=[float(np.mean(losses[i : i + 100])) for i in range(0, len(losses), 100)],
            ),
        }
        if cfg.kind == "ddpm":
            card.update(schedule=asdict(sched), prediction=cfg.prediction)
            if ddpm_scale != 1.0 or beam is not None:
                card["precond"] = {"type": "ddpm", "data_scale": ddpm_scale}
            if beam is not None:
                card["precond"]["beam"] = beam.to_card()
        else:
            pc = {"type": "edm", "sigma_data": sigma_data, "time_scale": precond.time_scale}
            if beam is not None:
                pc["beam"] = beam.to_card()
            card.update(precond=pc, sigma_range=[0.002, 80.0])
        if flux_card is not None:
            card["flux"] = flux_card
        return card

    def save():
        """Resumable state and a usable checkpoint (EMA weights + card) at every save; a quick
        evaluation point on the learning curve every ``eval_every`` steps."""
        step = run.step
        if quick is not None and step % cfg.eval_every == 0 and not any(p["step"] == step for p in curve):
            t0 = time.time()
            try:
                point = quick(copy.deepcopy(ema).cpu(), make_card())
            except Exception as exc:  # an evaluation failure must not end a long run
                point = {"error": f"{type(exc).__name__}: {exc}"}
            kept = run.out.with_suffix(".evals") / f"step{step}.safetensors"
            keep = cfg.keep_evals and "error" not in point
            weights = {"weights": f"{kept.parent.name}/{kept.name}"} if keep else {}
            curve.append(
                {
                    "step": step,
                    "cpu_hours": round(run.cpu_seconds / 3600, 3),
                    "wall_hours": round(run.wall_seconds / 3600, 3),
                    "loss_last_100": round(float(np.mean(losses[-100:])), 5),
                    "eval_seconds": round(time.time() - t0, 1),
                    **point,
                    **weights,
                }
            )
            if keep:
                kept.parent.mkdir(parents=True, exist_ok=True)
                save_checkpoint(copy.deepcopy(ema).cpu(), kept, make_card())
            if run.progress:
                tqdm.write(f"step {step}: {curve[-1]}")
        run.save_state(
            {"model": net.state_dict(), "ema": ema.state_dict()},
            opt,
            step=run.step,
            losses=losses,
            learning_curve=curve,
        )
        run.write(copy.deepcopy(ema).cpu(), make_card())

    run.start_clock(save, cfg.save_every, cfg.steps)
    bar = run.bar(cfg.steps, cfg.kind)
    step = run.step
    while step < cfg.steps:
        rng = run.rng
        idx_np = gd.draw(cfg.batch_size, rng, cfg.halo_share if crops else None)
        idx = torch.from_numpy(idx_np)
        xb, peaks_b = gd.batch(idx_np, rng)
        batch_conds = {k: v[idx] for k, v in conds.items()}
        if flux_tf is not None:  # the augmented image's own peak
            batch_conds["flux"] = torch.from_numpy(flux_tf.to_model(peaks_b))
        cond = drop_conditions(batch_conds, cfg.cond_drop, len(LABEL_NAMES), cfg.background_drop)
        xb, cond = xb.to(device), {k: v.to(device) for k, v in cond.items()}
        if cfg.kind == "ddpm":
            t = None
            if cfg.t_sampling == "lognormal":
                t = lognormal_timesteps(len(xb), acp, cfg.p_mean + math.log(ddpm_scale), cfg.p_std)
            if beam is not None:  # the target is x0's beam-limited part, as for the EDM
                with torch.no_grad():
                    xb = beam(xb)
            loss = ddpm_loss(ddpm_net, xb * ddpm_scale, cond, acp, t, cfg.prediction)
        else:
            loss = edm_loss(precond, xb, cond, cfg.p_mean, cfg.p_std)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), net.parameters(), strict=True):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        step += 1
        losses.append(round(loss.item(), 5))
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
        run.tick(step)
    bar.close()
    run.finish()
    return run.card()
