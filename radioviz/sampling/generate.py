"""Generating images from a generator checkpoint with chosen conditions, sampler and seed.

One entry point for every generator kind:

- ``ddpm``: a discrete ε-model; samplers ``ddpm`` (ancestral), ``ddim`` and, through
  :class:`EpsDenoiser`, ``heun``/``euler`` on the Karras schedule;
- ``edm``: a preconditioned σ-space denoiser; ``heun`` (default, 25 steps = 49 NFE), ``euler``;
- ``wgan``: one-shot (``oneshot``); the trajectory then holds the single generated frame.

Conditions a model does not accept are refused with one line naming what it accepts.  Returns
images in the model's [0, 1] space, in Jy/beam (inverse normalisation), the trajectory record,
and the metadata ``radioviz sample`` writes.  The same arguments and seed give the same images.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.conditions import derive_mask
from ..data.flux import FluxTransform
from ..data.preprocess import Preprocessing, apply_dead_band
from ..errors import InputError
from ..models import registry
from ..models.beam import BeamLayer, BeamLimitedDDPM
from ..models.card import GENERATOR_KINDS, CheckpointError
from ..models.checkpoint import ModelCard, load_checkpoint
from ..models.device import model_device, place
from ..models.precond import EDMPrecond
from ..models.prediction import PREDICTIONS, as_eps_model
from .registry import SAMPLERS, Target, resolve_steps, samplers_for
from .samplers import Churn, EpsDenoiser
from .schedules import DiscreteSchedule
from .trajectory import Trajectory

CLIP_X0 = 1.0  # the generators' data range is [−1, 1]


@dataclass
class Generated:
    images: np.ndarray  # (N, C, H, W) in [0, 1]
    physical: np.ndarray  # Jy/beam
    trajectory: Trajectory
    meta: dict


def load_generator(path: str | Path, device: str = "cpu") -> tuple[torch.nn.Module, ModelCard]:
    """(model, card) of a generator checkpoint, read on the CPU and placed on ``device``."""
    model, card = load_checkpoint(path, registry.generator_builders())
    if card.kind not in GENERATOR_KINDS:
        raise InputError(
            path, f"is a {card.kind} checkpoint; generating needs a generator ({', '.join(GENERATOR_KINDS)})"
        )
    return place(model, device).eval(), card


def accepted(card: ModelCard) -> dict:
    """What a generator accepts: samplers, labels, and which of flux/guidance/mask/background."""
    return {
        "samplers": samplers_for(card.kind),
        "labels": list(card.labels),
        "flux": card.takes_flux,
        "mask_classes": list(card.mask_classes),
        "background": card.takes_background,
        "guidance": card.kind in ("ddpm", "edm")
        and bool(card.labels or card.takes_flux or card.takes_background),
    }


def _check(card: ModelCard, path, sampler, label, flux, guidance, mask, background) -> None:
    acc = accepted(card)

    def yes(v) -> str:
        return "yes" if v else "no"

    def refuse(what: str):
        raise InputError(
            path,
            f"{what}; this {card.kind} model accepts: samplers {', '.join(acc['samplers'])}; "
            f"labels {', '.join(acc['labels']) or 'none'}; flux {yes(acc['flux'])}; "
            f"guidance {yes(acc['guidance'])}; mask {yes(acc['mask_classes'])}; "
            f"background {yes(acc['background'])}",
        )

    if sampler not in acc["samplers"]:
        refuse(f"sampler {sampler!r} not supported")
    if label is not None and label not in acc["labels"]:
        refuse(f"label {label!r} not accepted")
    if flux is not None and not acc["flux"]:
        refuse("--flux not supported")
    if guidance and not acc["guidance"]:
        refuse("guidance not supported")
    if mask is not None and not acc["mask_classes"]:
        refuse("--mask not supported")
    if background is not None and not acc["background"]:
        refuse("--background not supported")


def _conditions(
    card: ModelCard, n: int, label, flux, mask, background, pre: Preprocessing
) -> tuple[dict, dict]:
    """(conditional, unconditional) keyword arguments for the network."""
    acc = accepted(card)
    cond, uncond = {}, {}
    if acc["labels"]:
        null = len(acc["labels"])
        cond["label"] = torch.full(
            (n,), acc["labels"].index(label) if label is not None else null, dtype=torch.long
        )
        uncond["label"] = torch.full((n,), null, dtype=torch.long)
    if acc["flux"]:
        v = (
            np.full(n, np.nan, np.float32)
            if flux is None
            else FluxTransform.from_dict(card.flux).to_model(
                np.broadcast_to(np.asarray(flux, np.float64), (n,))
            )
        )
        cond["flux"] = torch.from_numpy(np.ascontiguousarray(v, np.float32))
        # guidance sharpens the class only: a requested flux stays in the unconditional branch
        # too, else ω extrapolated the brightness (ω = 2: 12–76 Jy/beam asked, 106 given, the
        # top of the model's range; the model learnt D(x; no class, flux) from its 10 % label drop)
        uncond["flux"] = cond["flux"].clone()
    if acc["mask_classes"]:
        m = (
            torch.from_numpy(np.asarray(mask)).long()
            if mask is not None
            else torch.zeros(card.size, card.size, dtype=torch.long)
        )
        onehot = torch.nn.functional.one_hot(m, len(acc["mask_classes"])).permute(2, 0, 1).float()
        cond["mask"] = uncond["mask"] = onehot.expand(n, *onehot.shape)
    if acc["background"] and background is not None:
        bg = np.nan_to_num(np.asarray(background, dtype=np.float32))
        b = pre.normalization.to_model(bg[None])[0]
        b[
            :, derive_mask(bg) > 0
        ] = -1.0  # sources blanked, as in training: only the background is the condition
        b = torch.from_numpy(b).float()[None]
        cond["background"] = b.expand(n, *b.shape[1:])
    return cond, uncond


def _dead_band(card: dict, n: int, seed: int, label: str | None = None):
    """Per-band clip levels for the samples: with ``dead_band_sources`` in the card, each sample
    gets the levels of one training source drawn at random (seeded), as every real image has its
    own 3σ level — one median level for all removed the faint pixels of the low-noise images
    (histogram error 0.96 → 0.49 on the same samples, issue #13); else the card's median levels.
    With a class ``label`` and ``dead_band_source_halo`` in the card, only sources of that class
    (halo or not) are drawn from: halo fields are clipped lower than the rest.
    The draw is balanced (each source in turn, in seeded random order): with iid draws, how often
    the one low-noise source came up moved a 64-sample histogram error by ±0.10 on the same
    network output; balanced draws, ±0.03 (issue #13, docs/generators.md)."""
    d = card.to_dict() if hasattr(card, "to_dict") else card  # a ModelCard or a plain card dict
    src = clip_level_sources(d, label)
    if src is not None:
        return src[balanced_draw(len(src), n, np.random.default_rng(seed))]
    return d.get("dead_band_jy")


def clip_level_sources(card: dict, label: str | None = None) -> np.ndarray | None:
    """(sources, bands) clip levels a sample of class ``label`` may be given (all sources without
    a label or without the card's halo flags); None for a card without per-source levels."""
    src = card.get("dead_band_sources")
    if not src:
        return None
    src = np.asarray(src, dtype=np.float32)
    halo = card.get("dead_band_source_halo")
    if label is not None and halo is not None and len(halo) == len(src):
        same = np.asarray(halo, bool) == (label != "non-halo")
        src = src[same] if same.any() else src
    return src


def balanced_draw(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices into ``k`` items, each used ⌊n/k⌋ or ⌈n/k⌉ times, in random order."""
    rounds = -(-n // k)
    return np.concatenate([rng.permutation(k) for _ in range(rounds)])[:n]


def _guided(fn, cond: dict, uncond: dict, guidance: float):
    """D = (1 + ω)·D_cond − ω·D_uncond (classifier-free guidance; ω = 0 is plain conditional)."""
    if not guidance:
        return lambda x, s: fn(x, s, **cond)
    return lambda x, s: (1 + guidance) * fn(x, s, **cond) - guidance * fn(x, s, **uncond)


def _prediction(card: ModelCard) -> str:
    """What a DDPM card's network outputs (ε unless it says v), or a clear error naming the card."""
    prediction = card.extra.get("prediction", "epsilon")
    if prediction not in PREDICTIONS:
        raise CheckpointError(card.path, f"prediction {prediction!r} is not one of {', '.join(PREDICTIONS)}")
    return prediction


def _beam(card: ModelCard, beam: dict | None) -> BeamLayer | None:
    """The card's beam layer (issue #30), or a clear error naming the card when it is malformed."""
    if not beam:
        return None
    try:
        return BeamLayer.from_card(beam)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(card.path, f"precond.beam is malformed ({exc})") from None


def _target(model, card: ModelCard, cond: dict, uncond: dict, guidance: float) -> Target:
    """The model as the registry's samplers see it, conditions and guidance closed over, on the
    model's device (conditions moved there; the latents drawn on the CPU and moved)."""
    device = model_device(model)
    cond = {k: v.to(device) for k, v in cond.items()}
    uncond = {k: v.to(device) for k, v in uncond.items()}
    if card.kind == "wgan":
        return Target(
            oneshot=lambda shape, g: model(
                torch.randn((shape[0], model.latent_dim), generator=g).to(device), cond.get("label")
            ),
            device=device,
        )
    if card.kind == "ddpm":
        sched = DiscreteSchedule(**(card.schedule or {}))
        pc = card.precond or {}
        scale = float(pc.get("data_scale", 1.0))
        beam = _beam(card, pc.get("beam"))
        if beam is not None:  # every x̂0 beam-limited (issue #30)
            model = BeamLimitedDDPM(model, beam, _prediction(card), sched.alphas_cumprod, scale).to(device)
        eps = _guided(as_eps_model(model, _prediction(card), sched.alphas_cumprod), cond, uncond, guidance)
        # x̂0 clipped to the data range at every step, as in Ho et al.'s sampler: an ε error at
        # large t is amplified by 1/√ᾱ_t (≈ 156 at t = 999) and otherwise derails the path
        clip = CLIP_X0 * scale
        den = EpsDenoiser(eps, sched, clip_x0=clip)
        return Target(eps=eps, schedule=sched, denoiser=den, clip_x0=clip, data_scale=scale, device=device)
    pc = card.precond or {}
    beam = _beam(card, pc.get("beam"))
    den = EDMPrecond(model, pc.get("sigma_data", 0.5), pc.get("time_scale", 250.0), beam=beam).to(device)
    lo, hi = card.sigma_range or (0.002, 80.0)
    return Target(denoiser=_guided(den, cond, uncond, guidance), sigma_range=(lo, hi), device=device)


def generate(
    checkpoint: str | Path,
    n: int = 1,
    *,
    label: str | None = None,
    sampler: str | None = None,
    steps: int | None = None,
    eta: float = 0.0,
    seed: int = 0,
    guidance: float = 0.0,
    flux: float | None = None,
    mask=None,
    background=None,
    churn: Churn | None = None,
    callback=None,
    record_stride: int = 1,
    model_and_card=None,
    dead_band: bool = True,
    device: str = "cpu",
) -> Generated:
    """Sample ``n`` images from ``checkpoint``.

    ``sampler`` and ``steps`` default to the model's own from the registry (DDPM ancestral runs
    exactly the schedule's T steps); ``flux`` is a peak flux in Jy/beam (one, or one per image),
    ``mask`` a (size, size) class-index array, ``background`` a (C, size, size) Jy/beam reference,
    ``churn`` Karras et al.'s stochastic churn (Heun only).
    ``callback(info)`` is called at every step and cancels by returning True;
    ``model_and_card`` reuses an already loaded (model, card), which runs where it is; else the
    checkpoint is loaded onto ``device`` (auto, cpu or cuda).  The same seed gives the same images
    on every device (up to the device's arithmetic: the noise is drawn on the CPU).
    ``dead_band=False`` leaves out the survey's clip levels (to study them apart from the network,
    scripts/histogram_floor.py).
    """
    model, card = model_and_card or load_generator(checkpoint, device)
    card = ModelCard.coerce(card, checkpoint)
    kind = card.kind
    sampler = sampler or samplers_for(kind)[0]
    _check(card, checkpoint, sampler, label, flux, guidance, mask, background)
    if churn is not None and churn.s_churn > 0 and sampler != "heun":
        raise InputError(checkpoint, f"churn is a Heun option; sampler {sampler!r} does not take it")
    opts = {"churn": churn} if churn is not None and churn.s_churn > 0 else {}
    target = _target(
        model, card, *_conditions(card, n, label, flux, mask, background, card.preprocessing), guidance
    )
    try:
        steps = resolve_steps(sampler, steps, target.T)
    except ValueError as exc:
        raise InputError(checkpoint, str(exc)) from None
    shape = (n, card.channels, card.size, card.size)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.time()
    with torch.no_grad():
        traj = SAMPLERS[sampler].run(
            target,
            shape,
            steps,
            eta=eta,
            generator=gen,
            callback=callback,
            record_stride=record_stride,
            **opts,
        )
    wall = time.time() - t0
    traj = traj.rescaled(1.0 / target.data_scale)
    pre = card.preprocessing
    physical = apply_dead_band(
        pre.normalization.from_model(np.clip(traj.samples, -1.0, 1.0)).astype(np.float32),
        _dead_band(card, n, seed, label) if dead_band else None,
    )
    images = np.clip(pre.normalization.forward(physical), 0, 1).astype(np.float32)
    meta = {
        "checkpoint": str(checkpoint),
        "kind": kind,
        "label": label,
        "flux": flux if flux is None or np.ndim(flux) == 0 else "per image",
        "sampler": sampler,
        "steps": steps,
        "eta": eta,
        "guidance": guidance,
        **(
            {"churn": {k: (None if v == float("inf") else v) for k, v in asdict(churn).items()}}
            if opts
            else {}
        ),  # strict JSON: ∞ → null
        # network evaluations: a guided step runs the network twice (conditional and not)
        "nfe": traj.nfe * (2 if guidance and kind != "wgan" else 1),
        "seed": seed,
        "wall_seconds": round(wall, 3),
        "n": n,
        "mask": mask is not None,
        "mask_pixels": None if mask is None else int(np.count_nonzero(np.asarray(mask))),  # 0: empty
        "background": background is not None,
        "takes_flux": card.takes_flux,  # so a caption says "not conditioned" only where it could be
    }
    return Generated(images, physical.astype(np.float32), traj, meta)


def save_samples(g: Generated, target) -> None:
    """The ``radioviz sample`` file: ``images``, ``physical`` and a ``meta`` JSON string, to a
    path or a binary file object (read back by :func:`radioviz.metrics.compare.load_samples`)."""
    import json

    np.savez(target, images=g.images, physical=g.physical, meta=json.dumps(g.meta))
