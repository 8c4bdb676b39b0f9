"""Training the diffuse-emission segmenter on real GLEAM fields with injected diffuse sources.

What it learns from (each ingredient can be switched off for the ablation):

* **injections** — simulated halos, mini-halos and relics (:mod:`radioviz.simulate.diffuse`)
  added at random positions of random crops of the training fields, with their truth masks;
  fluxes reach far below detectability (those too faint to see are *ignored*, not negatives);
* **real halos** — the halo fields' clusters as weak labels: emission within ``pos_radius`` of
  the field centre is positive, the rest within ``ignore_radius`` is left out of the loss (its
  truth is unknown), and crops are drawn around the cluster part of the time;
* **negatives** — every other pixel of every field (radio galaxies, ORCs, artefacts, noise);
* **hard negatives** — at fixed points of training the current model is run over every training
  field and crops are then drawn around its false maxima.

With ``classes`` the network has one output per class of
:data:`radioviz.models.segmenter.CLASSES` and learns them apart: injections carry their own class
(halo, mini-halo, relic, extended radio galaxy), and the real fields' pixels carry what is known of
them as a *set* of allowed classes (:data:`LABEL_SETS`): an extended real source away from the
cluster is "background, relic or radio galaxy", the emission at a halo-free cluster is "anything
but a halo", compact sources and empty sky are background.  The loss is the negative log of the
probability the network gives to the allowed set (a partial-label cross-entropy), so a real radio
galaxy is never taught to be background, nor a real relic a halo.

One fit is a fixed number of steps (no early stopping: nothing held out is looked at), Adam,
per-pixel class-weighted BCE.  The bookkeeping is :class:`~radioviz.training.run.Run`'s: the state
(weights and batch-norm statistics, Adam moments, mined negatives, history) is saved every
``save_every`` steps so ``--resume`` continues exactly (each step draws its batch from
``default_rng([seed, step])``, so nothing depends on where a run was interrupted), and the card
gets the run's wall and CPU time.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage
from torch.nn import functional as F

from ..data.dataset import hash_files, source_paths
from ..data.fieldgrid import (
    GriddedField,
    GridSpec,
    field_scale,
    grid_field,
    input_channel_count,
    input_channel_names,
)
from ..data.splits import sky_groups
from ..io.layout import read_stack, split_sources
from ..models.device import device_name, resolve_device
from ..models.segmenter import CLASSES, SegmenterUNet, halo_probability
from ..simulate.diffuse import ALL_KINDS, draw_source, inject, inject_classes
from .run import Run

#: Label codes of a class detector's pixels → the classes allowed there (−1: left out of the loss).
#: 0–4 are the classes themselves; 5 and 6 are what a real field tells of its extended emission.
LABEL_SETS = {
    0: ("background",),
    1: ("halo",),
    2: ("minihalo",),
    3: ("relic",),
    4: ("radio_galaxy",),
    5: ("background", "relic", "radio_galaxy"),  # extended real source, away from the cluster
    6: ("background", "minihalo", "relic", "radio_galaxy"),  # emission at a halo-free cluster
}
ALLOWED = torch.tensor([[c in LABEL_SETS[k] for c in CLASSES] for k in sorted(LABEL_SETS)])


@dataclass
class SegTrainConfig:
    steps: int = 400
    batch_size: int = 16
    crop: int = 48
    lr: float = 2e-3
    base: int = 8
    depth: int = 3
    norm: str = "batch"  # tile-local at inference (fixed running statistics); "group" was the first
    seed: int = 0
    pos_weight: float = 3.0
    inject_prob: float = 0.6  # share of crops that get an injected diffuse source
    real_halo_prob: float = 0.25  # share of crops (of halo fields) drawn around the cluster
    hard_negative_prob: float = 0.25  # share of crops around mined false maxima, once mined
    mine_at: tuple[float, ...] = (0.4, 0.7)  # fractions of the steps at which to mine
    pos_radius_arcmin: float = 4.0
    ignore_radius_arcmin: float = 12.0
    use_injections: bool = True
    use_real_halos: bool = True
    use_hard_negatives: bool = True
    save_every: int = 50
    classes: bool = False  # one output per class (CLASSES) instead of one "diffuse" output
    kind_p: tuple[float, ...] = (0.3, 0.15, 0.25, 0.3)  # injected halo, mini-halo, relic, radio galaxy
    extended_beams: float = 3.0  # a real source larger than this many beams is "extended"
    device: str = "auto"  # where the network trains: auto (CUDA when present), cpu or cuda
    class_weight: float = 1.0  # loss weight of mini-halo, relic and radio-galaxy pixels (halo: pos_weight)
    spot_prob: float = 0.0  # share of crops around labelled candidates (a fine-tune on vetting labels)
    spectral_index: bool = False  # also read the spectral index channel (fieldgrid.INPUT_GROUPS)
    residual: bool = False  # also read the bands with their compact sources subtracted


@dataclass
class FieldSet:
    """The gridded training fields with their static label maps (1 / 0 / −1 = ignore)."""

    fields: list[GriddedField]
    centres: list[tuple[float, float]]  # grid pixel (x, y) of each field's centre
    groups: np.ndarray
    data_hash: str
    spec: GridSpec
    meta: dict = field(default_factory=dict)

    @property
    def source_labels(self) -> np.ndarray:
        return np.array([f.label for f in self.fields], int)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


def field_centre_px(f: GriddedField, position=None) -> tuple[float, float]:
    """Grid pixel of ``position`` (default: the grid's centre = the reference band's centre)."""
    if position is None:
        ny, nx = f.data.shape[1:]
        return (nx - 1) / 2, (ny - 1) / 2
    x, y = f.wcs.world_to_pixel(position)
    return float(x), float(y)


def static_labels(f: GriddedField, cfg: SegTrainConfig, use_real_halos: bool = True) -> np.ndarray:
    """Per-pixel labels of a real field: negatives everywhere, the cluster's weak label on halo fields."""
    lab = np.zeros(f.data.shape[1:], np.int8)
    if f.label != 1:
        return lab
    cx, cy = field_centre_px(f)
    yy, xx = np.mgrid[0 : lab.shape[0], 0 : lab.shape[1]]
    r_arcmin = np.hypot(xx - cx, yy - cy) * f.pixel_deg * 60
    lab[r_arcmin <= cfg.ignore_radius_arcmin] = -1
    if use_real_halos:
        emission = (f.data != 0).any(0)
        lab[(r_arcmin <= cfg.pos_radius_arcmin) & emission] = 1
    return lab


def static_class_labels(f: GriddedField, cfg: SegTrainConfig) -> np.ndarray:
    """Label codes (:data:`LABEL_SETS`) of a real field for a class detector: background, except
    extended sources (code 5), the halo cluster's central emission (halo) with a ring left out, and
    a halo-free cluster's central emission (code 6: anything but a halo)."""
    lab = np.zeros(f.data.shape[1:], np.int8)
    emission = (f.data != 0).any(0)
    comp, n = ndimage.label(emission)
    if n:
        sig = 2.0 / 60 / f.pixel_deg / 2.3548  # the 200 MHz beam (2′) in grid pixels
        beam_px = 2 * np.pi * sig**2
        sizes = ndimage.sum(emission, comp, index=np.arange(1, n + 1))
        big = np.flatnonzero(sizes > cfg.extended_beams * beam_px) + 1
        lab[np.isin(comp, big)] = 5
    cx, cy = field_centre_px(f)
    yy, xx = np.mgrid[0 : lab.shape[0], 0 : lab.shape[1]]
    r_arcmin = np.hypot(xx - cx, yy - cy) * f.pixel_deg * 60
    if f.label == 1:
        lab[r_arcmin <= cfg.ignore_radius_arcmin] = -1
        if cfg.use_real_halos:
            lab[(r_arcmin <= cfg.pos_radius_arcmin) & emission] = 1
    elif f.label == 0:
        lab[(r_arcmin <= cfg.ignore_radius_arcmin) & emission] = 6
    return lab


def load_fields(
    root: str | Path, split: str = "TRAIN", spec: GridSpec | None = None, cache_dir=None
) -> FieldSet:
    """Grid every field of a split (cached as npz next to the data-set caches, keyed on the data hash)."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    from ..data.dataset import default_cache_dir

    root = Path(root)
    spec = spec or GridSpec()
    sources = split_sources(root, split)
    data_hash = hash_files(source_paths(sources), root)
    cache = (
        Path(cache_dir or default_cache_dir())
        / f"fieldgrid-{split}-{data_hash[:16]}-{spec.pixel_deg:.6f}.npz"
    )
    fields = []
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        from astropy.wcs import WCS

        meta = json.loads(str(z["meta"]))
        for i, m in enumerate(meta):
            fields.append(
                GriddedField(
                    m["name"],
                    z[f"data{i}"],
                    WCS(m["wcs"]),
                    np.array(m["sigmas"]),
                    np.array(m["thresholds"]),
                    m["bands"],
                    m["label"],
                )
            )
    else:
        for s in sources:
            fields.append(grid_field(read_stack(s), spec))
            fields[-1].label = s.label
        cache.parent.mkdir(parents=True, exist_ok=True)
        meta = [
            {
                "name": f.name,
                "wcs": dict(f.wcs.to_header()),
                "sigmas": f.sigmas.tolist(),
                "thresholds": f.thresholds.tolist(),
                "bands": f.bands,
                "label": f.label,
            }
            for f in fields
        ]
        np.savez_compressed(
            cache, meta=json.dumps(meta), **{f"data{i}": f.data for i, f in enumerate(fields)}
        )
    centres = [f.wcs.pixel_to_world(*field_centre_px(f)) for f in fields]
    pos = SkyCoord([c.ra.deg for c in centres] * u.deg, [c.dec.deg for c in centres] * u.deg)
    return FieldSet(fields, [field_centre_px(f) for f in fields], sky_groups(pos), data_hash, spec)


# -- sampling crops ---------------------------------------------------------------------------------


def _crop(a: np.ndarray, y0: int, x0: int, size: int, fill=0) -> np.ndarray:
    """(…, size, size) window at (y0, x0), padded with ``fill`` where it leaves the array."""
    h, w = a.shape[-2:]
    out = np.full(a.shape[:-2] + (size, size), fill, a.dtype)
    ya, xa, yb, xb = max(y0, 0), max(x0, 0), min(y0 + size, h), min(x0 + size, w)
    if ya < yb and xa < xb:
        out[..., ya - y0 : yb - y0, xa - x0 : xb - x0] = a[..., ya:yb, xa:xb]
    return out


def _dihedral(x: np.ndarray, k: int) -> np.ndarray:
    x = np.rot90(x, k % 4, axes=(-2, -1))
    return np.ascontiguousarray(x[..., ::-1, :] if k >= 4 else x)


def sample_batch(
    fs: FieldSet, labels: list[np.ndarray], train_idx, cfg, rng, hard: list, spots: list | None = None
) -> tuple:
    xs, ys = [], []
    c = cfg.crop
    # crops around the cluster: the halo clusters' (weak positives); a class detector also sees the
    # halo-free clusters' centres, where relics and radio galaxies must not read as halos
    centre_idx = [
        i for i in train_idx if fs.fields[i].label == 1 or (cfg.classes and fs.fields[i].label == 0)
    ]
    for _ in range(cfg.batch_size):
        r = rng.random()
        if spots and rng.random() < cfg.spot_prob:  # around a candidate someone labelled
            i, sx, sy = spots[int(rng.integers(len(spots)))]
            x0 = int(round(sx - c / 2 + rng.uniform(-c / 4, c / 4)))
            y0 = int(round(sy - c / 2 + rng.uniform(-c / 4, c / 4)))
        elif cfg.use_real_halos and centre_idx and r < cfg.real_halo_prob:
            i = int(rng.choice(centre_idx))
            cx, cy = fs.centres[i]
            x0 = int(round(cx - c / 2 + rng.uniform(-c / 4, c / 4)))
            y0 = int(round(cy - c / 2 + rng.uniform(-c / 4, c / 4)))
        elif hard and r < cfg.real_halo_prob + cfg.hard_negative_prob:
            i, hy, hx = hard[int(rng.integers(len(hard)))]
            x0 = int(hx - c / 2 + rng.integers(-c // 4, c // 4 + 1))
            y0 = int(hy - c / 2 + rng.integers(-c // 4, c // 4 + 1))
        else:
            i = int(rng.choice(train_idx))
            h, w = fs.fields[i].data.shape[1:]
            y0, x0 = int(rng.integers(0, max(h - c, 1))), int(rng.integers(0, max(w - c, 1)))
        f = fs.fields[i]
        data = _crop(f.data, y0, x0, c)
        lab = _crop(labels[i], y0, x0, c, fill=-1)
        if cfg.use_injections and rng.random() < cfg.inject_prob:
            lab = lab.copy()
            pix_arcsec = f.pixel_deg * 3600
            if cfg.classes:
                kind = ALL_KINDS[int(rng.choice(len(ALL_KINDS), p=np.asarray(cfg.kind_p) / sum(cfg.kind_p)))]
                src = draw_source(rng, rng.uniform(4, c - 4), rng.uniform(4, c - 4), kind=kind)
                data, truth, ignore = inject_classes(data, [src], f.sigmas, f.thresholds, pix_arcsec, rng)
                lab[ignore & ((lab == 0) | (lab == 5))] = -1
                lab[truth > 0] = truth[truth > 0]  # 1 + the ALL_KINDS index = the CLASSES index
            else:
                src = draw_source(rng, rng.uniform(4, c - 4), rng.uniform(4, c - 4))
                data, truth, ignore = inject(data, [src], f.sigmas, f.thresholds, pix_arcsec, rng)
                lab[ignore & (lab == 0)] = -1
                lab[truth] = 1
        k = int(rng.integers(8))
        xs.append(_dihedral(field_scale(data, f.sigmas, input_groups(cfg), f.pixel_deg), k))
        ys.append(_dihedral(lab, k))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)[:, None].astype(np.float32))


def class_loss_fn(
    logits: torch.Tensor, lab: torch.Tensor, pos_weight: float, class_weight: float = 1.0
) -> torch.Tensor:
    """Partial-label cross-entropy: −log of the probability of the pixel's allowed set of classes
    (:data:`LABEL_SETS`), halo pixels weighted ``pos_weight``, the other named classes (mini-halo,
    relic, radio galaxy: rarer, and thin) ``class_weight``, code −1 left out."""
    code = lab[:, 0].long()
    known = code >= 0
    allowed = ALLOWED.to(logits.device)[code.clamp(min=0)].permute(0, 3, 1, 2)  # (N, K, H, W)
    log_all = torch.logsumexp(logits, 1)
    log_set = torch.logsumexp(logits.masked_fill(~allowed, -1e4), 1)
    w = torch.where(
        code == CLASSES.index("halo"), pos_weight, torch.where((code >= 2) & (code <= 4), class_weight, 1.0)
    )
    w = torch.where(known, w, 0.0)
    return ((log_all - log_set) * w).sum() / w.sum().clamp(min=1)


def loss_fn(
    logits: torch.Tensor, lab: torch.Tensor, pos_weight: float, class_weight: float = 1.0
) -> torch.Tensor:
    if logits.shape[1] > 1:
        return class_loss_fn(logits, lab, pos_weight, class_weight)
    w = torch.where(lab < 0, 0.0, torch.where(lab > 0, pos_weight, 1.0))
    target = (lab > 0).float()
    return (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * w).sum() / w.sum().clamp(
        min=1
    )


def mine_hard_negatives(
    model, fs: FieldSet, labels, train_idx, top: int = 300, min_prob: float = 0.3
) -> list:
    """(field, y, x) of the model's local maxima of the halo (or diffuse) probability ≥ ``min_prob``
    where the truth is known not to be a halo (background, or a real field's non-halo emission)."""
    found = []
    for i in train_idx:
        f = fs.fields[i]
        p = halo_probability(model, f.scaled(model.inputs))
        not_halo = labels[i] == 0 if model.out_channels == 1 else np.isin(labels[i], (0, 5, 6))
        peaks = (p == ndimage.maximum_filter(p, 5)) & (p >= min_prob) & not_halo
        for y, x in zip(*np.nonzero(peaks), strict=False):
            found.append((float(p[y, x]), int(i), int(y), int(x)))
    found.sort(reverse=True)
    return [(i, y, x) for _, i, y, x in found[:top]]


class TrainingCancelled(Exception):
    """Raised out of :func:`fit_segmenter` when its ``on_step`` asks to stop."""


@dataclass
class SegFit:
    model: SegmenterUNet
    history: list
    hard_negatives: list
    seconds: float
    cpu_seconds: float = 0.0


def fit_segmenter(
    fs: FieldSet,
    train_idx,
    cfg: SegTrainConfig,
    run: Run | None = None,
    log=None,
    eval_fn=None,
    labels: list[np.ndarray] | None = None,
    spots: list[tuple[int, float, float]] | None = None,
    init_state: dict | None = None,
    on_step=None,
) -> SegFit:
    """Train on the fields ``train_idx``; ``eval_fn(model) -> dict`` is logged every save (optional).

    A fine-tune on vetting labels (:mod:`radioviz.training.from_labels`) passes the fields' label
    codes with the labelled discs written in (``labels``), the labelled candidates to crop around
    (``spots``: field index, x, y) and the weights to start from (``init_state``).
    ``on_step(done, total)`` is called after every step; returning True stops the fit
    (:class:`TrainingCancelled`).

    With a saving ``run`` (``Run(out, cfg.seed, resume=...)``) the state is written every
    ``cfg.save_every`` steps and at the end, and a resuming run continues from it; without one
    nothing is saved.
    """
    run = run or Run(None, cfg.seed, progress=False)
    run.reseed(0)  # the weights' initialisation depends on the seed only, resumed or not
    train_idx = list(train_idx)
    if labels is None and cfg.classes:
        labels = [static_class_labels(f, cfg) for f in fs.fields]
    elif labels is None:
        labels = [static_labels(f, cfg, cfg.use_real_halos) for f in fs.fields]
    device = run.device = resolve_device(cfg.device)
    model = SegmenterUNet(
        input_channels(fs, cfg),
        cfg.base,
        cfg.depth,
        cfg.norm,
        len(CLASSES) if cfg.classes else 1,
        inputs=list(input_groups(cfg)),
    )
    if init_state is not None:
        model.load_state_dict(init_state)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), cfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.15)
    history, hard = [], []
    parts = run.restore(opt, counter="step", reseed=False)  # batches are drawn per step, not per run
    if parts is not None:
        model.load_state_dict(parts["model"])
        history, hard = run.meta["history"], [tuple(h) for h in run.meta["hard"]]
        with warnings.catch_warnings():  # replaying the schedule before any optimiser step is intended
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(run.step):
                sched.step()
    start = run.step

    def save():
        run.save_state(
            {"model": model.state_dict()}, opt, step=run.step, history=history, hard=hard, config=asdict(cfg)
        )

    run.start_clock(save, cfg.save_every, cfg.steps)
    mine_steps = {int(round(m * cfg.steps)) for m in cfg.mine_at} if cfg.use_hard_negatives else set()
    losses = []
    bar = run.bar(cfg.steps, "segmenter")
    for step in range(start, cfg.steps):
        if step in mine_steps:
            hard = mine_hard_negatives(model, fs, labels, train_idx)
        rng = np.random.default_rng([cfg.seed, step])
        model.train()
        x, y = sample_batch(fs, labels, train_idx, cfg, rng, hard, spots)
        loss = loss_fn(model(x.to(device)), y.to(device), cfg.pos_weight, cfg.class_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        bar.update()
        done = step + 1
        if done % cfg.save_every == 0 or done == cfg.steps:
            entry = {
                "step": done,
                "loss": float(np.mean(losses)),
                "seconds": round(run.wall_seconds, 1),
                "cpu_seconds": round(run.cpu_seconds, 1),
            }
            if eval_fn is not None:
                entry.update(eval_fn(model))
            history.append(entry)
            losses = []
        run.tick(done)  # saves at every save_every-th step (the last one is saved by finish)
        if on_step is not None and on_step(done, cfg.steps):
            bar.close()
            raise TrainingCancelled(f"stopped after {done} of {cfg.steps} steps")
        if log and history and history[-1]["step"] == done:
            log(json.dumps(history[-1]))
    bar.close()
    run.finish()
    model.eval().cpu()
    return SegFit(model, history, hard, run.wall_seconds, run.cpu_seconds)


def train_segmenter(
    root: str | Path,
    out: str | Path,
    cfg: SegTrainConfig,
    resume: bool = False,
    cv: dict | None = None,
    command: str = "",
    log=print,
    progress: bool = False,
) -> tuple[Path, dict]:
    """Train on every field of ``root``'s TRAIN split and write ``out``.safetensors + card.

    ``cv`` (the ``cv_detector.json`` report) supplies the calibration — Platt scaling fitted on
    the held-out centre scores of every CV fold, never on the training fit itself — and the CV
    figures the card carries under ``metrics.cv``.
    """
    from ..models.segmenter import Calibration

    torch.set_num_threads(1)
    fs = load_fields(root)
    run = Run(out, cfg.seed, resume=resume, progress=progress)
    run.out.parent.mkdir(parents=True, exist_ok=True)
    fit = fit_segmenter(fs, range(len(fs.fields)), cfg, run, log=log)
    cal = Calibration()
    if cv is not None and cv.get("raw_centre_scores"):
        cal = Calibration.fit(
            np.concatenate(cv["raw_centre_scores"]), np.concatenate(cv["raw_centre_labels"])
        )
    training = run.training_record(cfg, learning_curve=fit.history, steps=cfg.steps)
    if command:
        training["command"] = command
    kwargs = {
        "in_channels": input_channels(fs, cfg),
        "inputs": list(input_groups(cfg)),
        "base": cfg.base,
        "depth": cfg.depth,
        "norm": cfg.norm,
    }
    if cfg.classes:
        kwargs["out_channels"] = len(CLASSES)
    card = segmenter_card(
        kwargs,
        fs.spec,
        fs.fields[0].bands,
        cal,
        fitted_on="held-out centre scores of every CV fold (cv_detector.json)" if cv else "none (identity)",
        training=training,
        data={
            "root": str(root),
            "split": "TRAIN",
            "n_fields": len(fs.fields),
            "data_hash": fs.data_hash,
            "ingredients": (
                "injected halos/mini-halos/relics/radio galaxies, each labelled with its class "
                "(radioviz.simulate.diffuse) + the 18 halo clusters as weak halo labels + the halo-free "
                "clusters' emission as 'anything but a halo' + real extended sources as 'background, relic "
                "or radio galaxy' + hard-negative mining"
                if cfg.classes
                else "injected halos/mini-halos/relics (radioviz.simulate.diffuse) + weak labels at "
                "the 18 halo clusters + negatives elsewhere + hard-negative mining"
            ),
        },
        **({"classes": list(CLASSES)} if cfg.classes else {}),
    )
    card.update(
        {
            "cost": {
                "seconds": round(fit.seconds, 1),
                "cpu_hours": round(fit.cpu_seconds / 3600, 5),
                "threads": torch.get_num_threads(),
                "device": device_name(resolve_device(cfg.device)),
            },
            "command": training["command"],
            "metrics": {"cv": cv.get("card_summary") if cv else None},
        }
    )
    out = run.write(fit.model, card)
    card["parameters"] = sum(p.numel() for p in fit.model.parameters())
    return out, card


def input_groups(cfg: SegTrainConfig) -> tuple[str, ...]:
    """Which groups of the detector's input (``fieldgrid.INPUT_GROUPS``) the network reads: the
    bands, their spectral index when ``cfg.spectral_index``, their compact-source residual when
    ``cfg.residual``."""
    return ("bands",) + ("spectral index",) * cfg.spectral_index + ("residual",) * cfg.residual


def input_channels(fs: FieldSet, cfg: SegTrainConfig) -> int:
    """How many input channels the network reads (:func:`input_groups` of the field's bands)."""
    return input_channel_count(input_groups(cfg), fs.fields[0].data.shape[0])


def segmenter_card(
    kwargs: dict, spec: GridSpec, bands: list[str], calibration, fitted_on: str = "", **extra
) -> dict:
    """The model card of a segmenter checkpoint: what :class:`radioviz.models.segmenter.Detector`
    and ``load_classifier`` need (kind ``classifier``, arch ``segmenter``, grid, calibration)."""
    from ..data.preprocess import Preprocessing

    return {
        "kind": "classifier",
        "arch": "segmenter",
        "kwargs": dict(kwargs),
        "description": (
            "class detector (Radio U-Net style): per-pixel probabilities of halo, mini-halo, relic, "
            "extended radio galaxy and background on a common grid of the four bands; the cluster score "
            "is the halo probability"
            if int(kwargs.get("out_channels", 1)) > 1
            else "diffuse-emission segmenter (Radio U-Net style): per-pixel probability of "
            "halo / mini-halo / relic emission on a common grid of the four bands"
        ),
        "grid": spec.to_dict()
        | {"reference": "the highest-frequency band's projection and footprint, resampled"},
        "normalization": spec.rule,
        "preprocessing": Preprocessing(64, spec.nsigma, "native").to_dict(),
        "bands": list(bands),
        "inputs": input_channel_names(tuple(kwargs.get("inputs") or ("bands",)), list(bands)),
        "calibration": calibration.to_dict() | {"fitted_on": fitted_on},
        "cluster_radius_arcmin": 5.0,
        "default_threshold": 0.5,
        "tile": 512,
        **extra,
    }
