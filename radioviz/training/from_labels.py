"""Learning from the labels people give: the detector fine-tuned on vetted candidates.

Astronomaly and Protege (Etsebeth et al.) rank candidates, let an expert label the top of the list
and retrain on those labels.  Here a label from the label store becomes a labelled disc on the
field it was given on: a confirmed halo makes the emission within ``radius_arcmin`` of the
candidate a halo; a rejection makes it "anything but a halo" (a class detector) or background (a
one-class detector); "unsure" changes nothing.  The fine-tune starts from the detector's own
weights, draws part of its crops around the labelled candidates and keeps the rest of its recipe
(injections, the real fields) so that it does not forget what it knew.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..models.segmenter import CLASSES, inputs_of
from .segmenter import FieldSet, SegTrainConfig, static_class_labels, static_labels

#: Label-store words → what they say of the candidate's emission.
HALO, NOT_HALO = "halo", "not halo"
#: Code written over a labelled disc (see :data:`radioviz.training.segmenter.LABEL_SETS`).
CLASS_CODE = {HALO: CLASSES.index("halo"), NOT_HALO: 6}
ONE_CLASS_CODE = {HALO: 1, NOT_HALO: 0}


@dataclass(frozen=True)
class Spot:
    """A labelled candidate on the detector's grid of one training field."""

    field: int  # index in the FieldSet
    x: float
    y: float
    label: str  # HALO or NOT_HALO


def spots_from_labels(fs: FieldSet, labels) -> tuple[list[Spot], list[str]]:
    """The labelled candidates on fields of ``fs`` (matched by name), and one line per label left
    out (another field, "unsure", off the grid).  ``labels``: :class:`radioviz.scan.vetting.Label`
    rows, or dicts with field, ra, dec and label."""
    from astropy.coordinates import SkyCoord

    names = {n: i for i, n in enumerate(fs.names)}
    spots, skipped = [], []
    for lab in labels:
        get = lab.get if isinstance(lab, dict) else lambda k, _lab=lab: getattr(_lab, k)
        field, word = get("field"), get("label")
        if word not in (HALO, NOT_HALO):
            skipped.append(f"{field}: '{word}' says nothing to learn")
            continue
        if field not in names:
            skipped.append(f"{field}: not among the training fields")
            continue
        i = names[field]
        f = fs.fields[i]
        x, y = (float(v) for v in f.wcs.world_to_pixel(SkyCoord(get("ra"), get("dec"), unit="deg")))
        h, w = f.data.shape[1:]
        if not (0 <= x < w and 0 <= y < h):
            skipped.append(f"{field}: the candidate lies off the field")
            continue
        spots.append(Spot(i, x, y, word))
    return spots, skipped


def labelled_maps(
    fs: FieldSet, cfg: SegTrainConfig, spots: list[Spot], radius_arcmin: float
) -> list[np.ndarray]:
    """Each field's label codes with the labelled discs written over them (emission pixels only:
    a label is about the source, not the empty sky around it)."""
    base = [static_class_labels(f, cfg) if cfg.classes else static_labels(f, cfg) for f in fs.fields]
    codes = CLASS_CODE if cfg.classes else ONE_CLASS_CODE
    out = [b.copy() for b in base]
    for s in spots:
        f = fs.fields[s.field]
        yy, xx = np.mgrid[0 : f.data.shape[1], 0 : f.data.shape[2]]
        r_px = radius_arcmin / 60 / f.pixel_deg
        disc = (np.hypot(xx - s.x, yy - s.y) <= r_px) & (f.data != 0).any(0)
        out[s.field][disc] = codes[s.label]
    return out


def labels_digest(spots: list[Spot], fs: FieldSet) -> str:
    """A short hash of the labels a fine-tune learnt from (recorded in its card)."""
    rows = sorted((fs.names[s.field], round(s.x, 1), round(s.y, 1), s.label) for s in spots)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def finetune_config(
    cfg: SegTrainConfig, steps: int = 300, lr: float = 5e-4, spot_prob: float = 0.5
) -> SegTrainConfig:
    """The fine-tune's recipe: the detector's own, shorter, gentler, half its crops at the labels,
    and no new hard-negative mining (the labels are the hard cases now)."""
    return replace(cfg, steps=steps, lr=lr, spot_prob=spot_prob, use_hard_negatives=False)


def card_record(
    spots: list[Spot], skipped: list[str], fs: FieldSet, store: str | Path | None, init: str
) -> dict:
    """What the new card says of the labels it learnt from (never a server path: the store's name)."""
    return {
        "store": Path(store).name if store else "",
        "init": Path(init).name,
        "n_used": len(spots),
        "halo": sum(s.label == HALO for s in spots),
        "not_halo": sum(s.label == NOT_HALO for s in spots),
        "fields": sorted({fs.names[s.field] for s in spots}),
        "n_skipped": len(skipped),
        "digest": labels_digest(spots, fs),
    }


def config_of(card) -> SegTrainConfig:
    """The recipe a detector card was trained with (its ``training`` record), as a config."""
    from dataclasses import fields

    d = card.to_dict() if hasattr(card, "to_dict") else dict(card)
    known = {f.name for f in fields(SegTrainConfig)}
    rec = {k: v for k, v in d.get("training", {}).items() if k in known}
    kw = d.get("kwargs", {})
    rec.update(
        {k: kw[k] for k in ("base", "depth", "norm") if k in kw},
        classes=int(kw.get("out_channels", 1)) > 1,
        spectral_index="spectral index" in inputs_of(kw),
        residual="residual" in inputs_of(kw),
    )
    for k in ("mine_at", "kind_p"):
        if k in rec:
            rec[k] = tuple(rec[k])
    return SegTrainConfig(**rec)


def fields_for(path: str | Path, names: set[str] | None = None) -> FieldSet:
    """The fields a fine-tune can use: a published layout's TRAIN split (cached grid), else every
    field under a folder — or only those ``names`` — (no class labels: only the vetting labels
    say anything of them)."""
    from ..data.fieldgrid import GridSpec, grid_field
    from ..errors import InputError
    from ..io.layout import discover, find_splits, read_stack
    from .segmenter import field_centre_px, load_fields

    if "TRAIN" in find_splits(path):
        return load_fields(path)
    sources = [s for s in discover(path) if names is None or s.name in names]
    if not sources:
        raise InputError(path, "no fields to learn from")
    spec = GridSpec()
    grids = [grid_field(read_stack(s), spec) for s in sources]
    return FieldSet(grids, [field_centre_px(g) for g in grids], np.arange(len(grids)), "", spec)


def finetune_on_labels(
    data: str | Path,
    init: str | Path,
    store: str | Path,
    out: str | Path,
    steps: int = 300,
    resume: bool = False,
    device: str = "auto",
    command: str = "",
    log=print,
    progress: bool = False,
    labels=None,
    fs: FieldSet | None = None,
    on_step=None,
):
    """Fine-tune the detector ``init`` on the labels of ``store`` (or the given ``labels`` rows)
    given on the fields under ``data``; write ``out`` and its card.  Returns (path, card, skipped)."""
    import torch

    from ..errors import InputError
    from ..models.checkpoint import load_checkpoint
    from ..models.segmenter import SEGMENTERS
    from ..scan.vetting import LabelStore
    from .run import Run
    from .segmenter import fit_segmenter

    net, card = load_checkpoint(init, SEGMENTERS, kind="classifier")
    cfg = replace(finetune_config(config_of(card), steps), device=device, seed=0)
    fs = fs or fields_for(data)
    if labels is None:
        labels = LabelStore(store).current()
    spots, skipped = spots_from_labels(fs, labels)
    if not spots:
        why = "; ".join(skipped[:3]) or "the store is empty"
        raise InputError(
            store, f"no 'halo' or 'not halo' label on the fields under {Path(data).name}/ ({why})"
        )
    maps = labelled_maps(fs, cfg, spots, radius_arcmin=float(card.extra.get("cluster_radius_arcmin", 5.0)))
    run = Run(out, cfg.seed, resume=resume, progress=progress)
    run.out.parent.mkdir(parents=True, exist_ok=True)
    fit = fit_segmenter(
        fs,
        range(len(fs.fields)),
        cfg,
        run,
        log=log,
        labels=maps,
        spots=[(s.field, s.x, s.y) for s in spots],
        init_state=net.state_dict(),
        on_step=on_step,
    )
    new = card.to_dict()
    training = run.training_record(cfg, learning_curve=fit.history, steps=cfg.steps)
    training["command"] = command or training.get("command", "")
    from ..models.device import device_name, resolve_device

    new.update(
        {
            "training": training,
            "vetting_labels": card_record(spots, skipped, fs, store, str(init)),
            "command": training["command"],
            "cost": {
                "seconds": round(fit.seconds, 1),
                "cpu_hours": round(fit.cpu_seconds / 3600, 5),
                "threads": torch.get_num_threads(),
                "device": device_name(resolve_device(cfg.device)),
            },
            "description": (new.get("description", "") + " — fine-tuned on vetting labels").strip(" —"),
            # the figures of the model it came from are not this model's: never a default by them
            "metrics": {"cv": None, "cv_of_init": (new.get("metrics") or {}).get("cv")},
        }
    )
    new.pop("parameters", None)
    path = run.write(fit.model, new)
    return path, new, skipped
