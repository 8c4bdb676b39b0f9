""" "More like this": the candidates of a survey nearest to one of them in the detector's own
feature space.

A candidate's embedding is what the detector's U-Net bottleneck (``base·2^depth`` channels at
1/2^depth of the grid) holds over the candidate's region — the mean and the maximum of each
channel inside a disc of the region's size around its peak — so two relics look alike to it when
the network that told them apart from halos saw them alike.  Channels are standardised over the
survey before the cosine similarity, so no one loud channel decides.

Embeddings are computed once per survey and detector (one network pass per field, ~0.1–0.5 s on
a CPU) and kept beside the survey (``similar-<checkpoint>.npz``; in the cache folder when the
survey's folder is read-only), so asking again is a lookup.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from .queue import QueueCandidate, SurveyQueue


@dataclass
class Embeddings:
    """One vector per candidate id (rows of ``vectors``, standardised and unit length)."""

    ids: list[str]
    vectors: np.ndarray  # (N, D) float32
    checkpoint: str
    skipped: dict[str, str]  # candidate id -> why it has no embedding (its field unreadable, ...)

    def index(self, cid: str) -> int:
        try:
            return self.ids.index(cid)
        except ValueError:
            why = self.skipped.get(cid, "not in this survey")
            raise InputError(None, f"candidate {cid} has no embedding: {why}") from None


def bottleneck(net, scaled: np.ndarray) -> np.ndarray:
    """(C, H/2^depth, W/2^depth) bottleneck features of one (4, H, W) scaled field (padded to the
    pooling grid like the detector's own pass)."""
    from ..models.device import model_device
    from ..models.segmenter import pad_to

    x, _ = pad_to(np.asarray(scaled, np.float32), 2**net.depth)
    with torch.no_grad():
        f = net.features(torch.from_numpy(x)[None].to(model_device(net)))
    return f[0].float().cpu().numpy()


def region_embedding(features: np.ndarray, x: float, y: float, radius_px: float, cell: int) -> np.ndarray:
    """Mean ⊕ max of each feature channel over the bottleneck cells within ``radius_px`` (grid
    pixels) of grid pixel (x, y); the one cell under the peak at least."""
    c, h, w = features.shape
    cy, cx = (y + 0.5) / cell - 0.5, (x + 0.5) / cell - 0.5
    r = max(radius_px / cell, 0.75)
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    if not inside.any():
        inside[int(np.clip(round(cy), 0, h - 1)), int(np.clip(round(cx), 0, w - 1))] = True
    sel = features[:, inside]
    return np.concatenate([sel.mean(axis=1), sel.max(axis=1)]).astype(np.float32)


def _region_radius_deg(c: QueueCandidate, ref_pixel_deg: float) -> float:
    """Radius of a disc with the candidate's region area (its score-map pixels × stride²)."""
    area = max(c.n_map_pixels, 1) * (max(c.stride, 1) * ref_pixel_deg) ** 2
    return math.sqrt(area / math.pi)


def field_embeddings(detector, stack, cands: list[QueueCandidate]) -> list[np.ndarray]:
    """Embeddings of the candidates of one field (its 4-band :class:`SourceStack`)."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    field = detector.grid(stack)
    feats = bottleneck(detector.net, field.scaled(detector.net.inputs))
    ref_deg = float(np.mean(np.abs(proj_plane_pixel_scales(stack.images[-1].wcs.celestial))))
    out = []
    for c in cands:
        gx, gy = field.wcs.celestial.world_to_pixel_values(c.ra, c.dec)
        radius = _region_radius_deg(c, ref_deg) / field.pixel_deg
        out.append(region_embedding(feats, float(gx), float(gy), radius, 2**detector.net.depth))
    return out


def standardise(raw: np.ndarray) -> np.ndarray:
    """Each column to zero mean and unit spread over the survey, then each row to unit length."""
    z = (raw - raw.mean(axis=0)) / np.where(raw.std(axis=0) > 1e-8, raw.std(axis=0), 1.0)
    n = np.linalg.norm(z, axis=1, keepdims=True)
    return (z / np.where(n > 0, n, 1.0)).astype(np.float32)


def detector_for(queue: SurveyQueue, checkpoint: str | Path | None = None, device: str = "cpu"):
    """The survey's own detector (its survey.json names it), or ``checkpoint``, on ``device``."""
    import json

    from ..models.card import BUNDLED
    from ..models.checkpoint import CheckpointError, load_checkpoint
    from ..models.segmenter import SEGMENTERS, Detector

    if checkpoint is None:
        config = json.loads((queue.path / "survey.json").read_text())["config"]
        checkpoint = Path(str(config.get("checkpoint") or ""))
        if not checkpoint.is_file():  # a survey made elsewhere: the bundled one of that name
            checkpoint = BUNDLED / checkpoint.name
    path = Path(checkpoint)
    if not path.is_file():
        raise InputError(path, "checkpoint file does not exist")
    try:
        net, card = load_checkpoint(path, SEGMENTERS)
    except CheckpointError as exc:
        raise InputError(path, f"cannot give similar candidates: {exc}") from None
    from ..models.device import place

    return place(Detector(net, card), device), path


def _cache_path(queue: SurveyQueue, ckpt: Path) -> Path:
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()[:12]
    name = f"similar-{ckpt.stem}-{digest}.npz"
    here = queue.path / name
    if here.exists() or _writable(queue.path):
        return here
    from ..data.dataset import default_cache_dir

    key = hashlib.sha256(str(queue.path.resolve()).encode()).hexdigest()[:12]
    return default_cache_dir() / "similar" / f"{key}-{name}"


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK)


def survey_embeddings(
    queue: SurveyQueue,
    checkpoint: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    device: str = "cpu",
) -> Embeddings:
    """Every candidate's embedding (cached beside the survey per detector file); ``progress(done,
    total)`` is called after each field."""
    from ..io.layout import discover, read_stack

    detector, ckpt = detector_for(queue, checkpoint, device)
    cache = _cache_path(queue, ckpt)
    wanted = [c.id for c in queue.candidates]
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            ids = [str(i) for i in z["ids"]]
            if sorted(ids + [str(i) for i in z["skipped_ids"]]) == sorted(wanted):
                skipped = dict(zip(map(str, z["skipped_ids"]), map(str, z["skipped_why"]), strict=True))
                return Embeddings(ids, z["vectors"], ckpt.name, skipped)
    by_field: dict[tuple[str, str], list[QueueCandidate]] = {}
    for c in queue.candidates:
        by_field.setdefault((c.folder, c.field), []).append(c)
    ids, raw, skipped = [], [], {}
    for k, ((folder, name), cands) in enumerate(by_field.items()):
        try:
            if not folder:
                raise InputError(None, "the survey recorded no image folder (a catalogue position)")
            sources = {s.name: s for s in discover(folder)}
            if name not in sources:
                raise InputError(folder, f"no field {name} in this folder")
            vecs = field_embeddings(detector, read_stack(sources[name]), cands)
        except (InputError, OSError) as exc:
            skipped.update({c.id: str(exc).splitlines()[0] for c in cands})
        else:
            ids += [c.id for c in cands]
            raw += vecs
        if progress:
            progress(k + 1, len(by_field))
    vectors = standardise(np.stack(raw)) if raw else np.zeros((0, 1), np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        ids=np.array(ids, dtype=str),
        vectors=vectors,
        skipped_ids=np.array(list(skipped), dtype=str),
        skipped_why=np.array(list(skipped.values()), dtype=str),
    )
    tmp.replace(cache)
    return Embeddings(ids, vectors, ckpt.name, skipped)


def most_similar(emb: Embeddings, cid: str, k: int = 20) -> list[tuple[str, float]]:
    """The ``k`` candidates nearest ``cid`` (cosine similarity, best first; itself left out)."""
    i = emb.index(cid)
    sims = emb.vectors @ emb.vectors[i]
    order = [j for j in np.argsort(-sims, kind="stable") if j != i][:k]
    return [(emb.ids[j], float(sims[j])) for j in order]
