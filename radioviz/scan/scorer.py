"""One "score a field" interface over every kind of model: the one place that knows which it holds.

The rest of the library (``radioviz scan``, ``inject``, ``survey``, the Fields tab) never asks
what model it runs: it gets a :class:`Scorer` (:func:`scorer_for` a loaded model,
:func:`load_scorer` a checkpoint) and calls

* ``field_map(stack, stride)`` — a :class:`~radioviz.scan.maps.ScoreMap` over a whole small field
  (the 4 bands on their native grids, exactly what ``radioviz scan`` computes);
* ``candidates(stack, stride, threshold, …)`` — that map, the field's ranked candidate table and
  any map the model makes on its own grid (what ``radioviz scan`` writes);
* ``injection_recovery(fields, grid)`` — completeness of halos injected into real fields;
* ``block_scores(block, stride)`` — the scores of one mosaic tile given with ``halo`` pixels of
  overlap on every side (bands on one common grid, already clipped), for ``dask.array.map_overlap``.

Window classifiers (L/A/D) score a window centred on every ``stride``-th pixel; a fully
convolutional detector (arch ``segmenter``) predicts a per-pixel map that is sampled every
``stride`` pixels.  Which one a checkpoint is comes from :mod:`radioviz.models.registry`.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from astropy.table import Table

from ..data.preprocess import ClippedStack, Preprocessing, clip_stack
from ..errors import InputError
from ..io.catalogs import MATCH_RADIUS_ARCMIN
from ..io.layout import SourceStack
from ..models import registry
from ..models.checkpoint import read_card
from .detector import candidates as detector_candidates
from .detector import detector_injection_recovery, detector_score_map, to_scoremap
from .injection import InjectionGrid, injection_recovery
from .maps import ScoreMap, candidates_table, map_wcs
from .windows import coregistered_field, predict_windows, window_score_map, windows_from_common


@dataclass
class FieldScan:
    """What ``radioviz scan`` writes for one field."""

    smap: ScoreMap  # on the reference band's strided grid
    table: Table  # the ranked candidates
    #: maps on the model's own grid: name -> (array, celestial WCS), e.g. a detector's "probmap"
    maps: dict[str, tuple[np.ndarray, object]] = field(default_factory=dict)


class Scorer:
    """What scans, surveys and injections need from a model: its overlap, its clipping level, its
    candidate threshold and the scoring calls below."""

    kind = "?"
    threshold: float = 0.95  # candidate threshold: the card's default_threshold (load_scorer sets it)
    halo: int  # pixels of context a tile needs on each side
    align: int = 1  # tiles must start on multiples of this (a U-Net's pooling grid)
    nsigma: float

    def field_map(
        self, stack: SourceStack | ClippedStack, stride: int, callback: Callable | None = None
    ) -> ScoreMap:
        """The score map on the reference band's grid every ``stride`` pixels; ``callback(done,
        total)`` reports progress and cancels by returning True."""
        raise NotImplementedError

    def candidates(
        self,
        stack: SourceStack,
        stride: int,
        threshold: float,
        catalog: Table | None = None,
        radius_arcmin: float = MATCH_RADIUS_ARCMIN,
        callback: Callable | None = None,
    ) -> FieldScan:
        """The field's map, its candidates above ``threshold`` (cross-matched with ``catalog``)."""
        smap = self.field_map(stack, stride, callback)
        return FieldScan(smap, candidates_table(smap, threshold, catalog, radius_arcmin))

    def injection_recovery(self, fields: list[SourceStack], grid: InjectionGrid) -> tuple[Table, Table]:
        """(per-injection scores, completeness summary) of halos injected into ``fields``."""
        raise NotImplementedError

    def at_pixel(self, pixel_deg: float | None) -> Scorer:
        """The scorer for tiles on a grid of ``pixel_deg`` pixels (most models: itself, unchanged)."""
        return self

    def block_scores(self, block: np.ndarray, stride: int, thresholds: list[float]) -> np.ndarray:
        raise NotImplementedError


class ClassifierScorer(Scorer):
    """A window classifier: one 64×64 (``cutout_size``) window per ``stride``-th pixel."""

    kind = "classifier"

    def __init__(self, model: torch.nn.Module, pre: Preprocessing, batch: int = 512):
        self.model, self.pre, self.batch = model.eval(), pre, batch
        self.halo = pre.cutout_size // 2 + 1
        self.nsigma = pre.nsigma

    def field_map(self, stack, stride: int, callback: Callable | None = None) -> ScoreMap:
        return window_score_map(stack, self.model, stride, self.pre, batch=self.batch, callback=callback)

    def injection_recovery(self, fields, grid: InjectionGrid) -> tuple[Table, Table]:
        return injection_recovery(fields, lambda x: predict_windows(self.model, self.pre, x), self.pre, grid)

    def block_scores(self, block: np.ndarray, stride: int, thresholds: list[float]) -> np.ndarray:
        """Scores at core pixels 0, stride, 2·stride, … of a (C, h+2·halo, w+2·halo) block."""
        h, w = block.shape[1] - 2 * self.halo, block.shape[2] - 2 * self.halo
        cy, cx = np.arange(0, h, stride) + self.halo, np.arange(0, w, stride) + self.halo
        yy, xx = np.meshgrid(cy, cx, indexing="ij")
        xs, ys = xx.ravel(), yy.ravel()
        out = np.empty(xs.size, np.float32)
        with torch.inference_mode():
            for i in range(0, xs.size, self.batch):
                sl = slice(i, i + self.batch)
                win = windows_from_common(block, xs[sl], ys[sl], self.pre.cutout_size)
                out[sl] = predict_windows(self.model, self.pre, win)
        return out.reshape(yy.shape)


class DenseScorer(Scorer):
    """A fully convolutional detector: ``predict(x)`` maps (1, C, H, W) normalised bands to an
    (H, W) probability map; ``halo`` is half its receptive field.  The map is sampled every
    ``stride`` pixels, so a stride-1 survey keeps the full-resolution map.

    Chunks must see the same input as one piece, so the normalisation has to be pointwise: a fixed
    min-max, or the noise-unit asinh with each band's σ from the survey-wide clip threshold.
    """

    kind = "segmenter"

    def __init__(self, predict: Callable[[torch.Tensor], torch.Tensor], pre: Preprocessing, halo: int):
        self.predict, self.pre, self.halo, self.nsigma = predict, pre, int(halo), pre.nsigma

    def normalise(self, x: np.ndarray, thresholds: list[float]) -> np.ndarray:
        norm = self.pre.normalization
        if norm.snr:
            sigma = np.asarray([t / self.nsigma if t > 0 else 1.0 for t in thresholds])[:, None, None]
            return (np.arcsinh(x / sigma) / np.arcsinh(1000.0)).astype(np.float32)
        if norm.per_image:
            raise InputError(None, "a per-image normalisation is not defined on mosaic tiles")
        return norm.forward(x)

    def _map(self, x: np.ndarray, thresholds: list[float]) -> np.ndarray:
        with torch.inference_mode():
            t = torch.from_numpy(np.ascontiguousarray(self.normalise(x, thresholds)))[None]
            return self.predict(t).reshape(x.shape[-2:]).float().numpy()

    def field_map(self, stack, stride: int, callback: Callable | None = None) -> ScoreMap:
        clipped = stack if isinstance(stack, ClippedStack) else clip_stack(stack, self.nsigma)
        common = coregistered_field(clipped)
        prob = self._map(common, clipped.thresholds)
        ref = clipped.stack.images[-1]
        if callback is not None:
            callback(1, 1)
        return ScoreMap(prob[::stride, ::stride].copy(), map_wcs(ref.wcs, stride), stride, ref.shape)

    def block_scores(self, block: np.ndarray, stride: int, thresholds: list[float]) -> np.ndarray:
        prob = self._map(block, thresholds)
        core = prob[self.halo : prob.shape[0] - self.halo, self.halo : prob.shape[1] - self.halo]
        return core[::stride, ::stride].copy()


class DetectorScorer(DenseScorer):
    """The diffuse-emission detector (#12's :class:`radioviz.models.segmenter.Detector`): fields go
    through its own path (its grid, then resampled onto the reference band's strided grid); mosaic
    tiles through its network on the mosaic's grid with the same noise-unit scaling (σ of each
    band from the survey-wide clip level) and its calibration.  The overlap is the network's
    :func:`~radioviz.models.segmenter.tile_overlap` (its reach, on the pooling grid), and tiles
    start on that grid, so a tile-local network (batch norm or none) stitches exactly; the first
    detector's GroupNorm sees a whole tile and does not (its card has no ``norm``)."""

    def __init__(self, detector, overlap: int | None = None):
        from ..data.preprocess import Normalization
        from ..models.segmenter import tile_overlap

        self.detector = detector
        self.threshold = detector.threshold
        pre = Preprocessing(normalization=Normalization(False, 0.0, 1.0, snr=True))
        pre.nsigma = float(getattr(getattr(detector, "spec", None), "nsigma", 3.0))

        def predict(x: torch.Tensor) -> torch.Tensor:
            raw = detector.raw_probability(x[0].numpy())
            return torch.from_numpy(detector.calibration(raw))

        depth = detector.net.depth
        super().__init__(predict, pre, tile_overlap(depth) if overlap is None else overlap)
        self.align = 2**depth
        self.factor = 1  # mosaic pixels per detector pixel along each axis (see at_pixel)

    def at_pixel(self, pixel_deg: float | None) -> DetectorScorer:
        """Score tiles of ``pixel_deg`` pixels at the detector's training pixel (the card's
        ``grid.pixel_deg``, 56″): ``f`` = round(training / mosaic pixel) ≥ 1, each f×f block of the
        mosaic is averaged into one detector pixel and the probability is given back to all its f×f
        pixels.  Halo and tile alignment scale by f, so tiles still pool the same pixels as one piece."""
        spec = getattr(self.detector, "spec", None)
        f = 1 if not pixel_deg or spec is None else max(1, int(round(spec.pixel_deg / pixel_deg)))
        if f == self.factor:
            return self
        out = copy.copy(self)
        out.halo, out.align, out.factor = self.halo // self.factor * f, self.align // self.factor * f, f
        return out

    def _map(self, x: np.ndarray, thresholds: list[float]) -> np.ndarray:
        f = self.factor
        if f == 1:
            return super()._map(x, thresholds)
        c, h, w = x.shape
        ph, pw = -(-h // f) * f, -(-w // f) * f  # zeros to a whole block, as past a mosaic's edge
        padded = np.zeros((c, ph, pw), np.float32)
        padded[:, :h, :w] = x
        coarse = padded.reshape(c, ph // f, f, pw // f, f).mean(axis=(2, 4))
        prob = super()._map(coarse, thresholds)
        return np.repeat(np.repeat(prob, f, axis=0), f, axis=1)[:h, :w]

    def field_map(self, stack, stride: int, callback: Callable | None = None) -> ScoreMap:
        return detector_score_map(stack, self.detector, stride, callback)

    def candidates(
        self,
        stack: SourceStack,
        stride: int,
        threshold: float,
        catalog: Table | None = None,
        radius_arcmin: float = MATCH_RADIUS_ARCMIN,
        callback: Callable | None = None,
    ) -> FieldScan:
        """Candidates found on the detector's own grid (area, flux per band, spectral index, a class
        detector's classes), with its probability map (and any-diffuse map) on that grid."""
        det = self.detector
        stack = getattr(stack, "stack", stack)
        prob, cls, grid = det.maps(stack)  # one pass: the halo map and the class maps
        ref = stack.images[-1]
        smap = to_scoremap(prob, grid, ref.wcs, ref.shape, stride)
        maps = {"probmap": (prob, grid.wcs)}
        if cls is not None:  # the class detector's any-diffuse map beside the halo map
            maps["diffusemap"] = (1 - cls[det.classes.index("background")], grid.wcs)
        table = detector_candidates(
            prob, grid, threshold, catalog, radius_arcmin=radius_arcmin, class_probs=cls, classes=det.classes
        )
        if callback is not None:
            callback(1, 1)
        return FieldScan(smap, table, maps)

    def injection_recovery(self, fields, grid: InjectionGrid) -> tuple[Table, Table]:
        return detector_injection_recovery(fields, self.detector, grid)


def scorer_for(model, preprocessing: Preprocessing | None = None, batch: int = 512) -> Scorer:
    """The scorer of a loaded model (:func:`radioviz.metrics.evaluate.load_classifier`'s): the one
    place the library tells a whole-field detector from a window classifier."""
    if getattr(model, "is_detector", False):
        return DetectorScorer(model)
    return ClassifierScorer(model, preprocessing or model.preprocessing, batch)


def _load(path: Path, device: str = "cpu") -> Scorer:
    from ..metrics.evaluate import load_classifier

    model, pre, _ = load_classifier(path, device)
    return scorer_for(model, pre)


def load_scorer(checkpoint: str | Path, device: str = "cpu") -> Scorer:
    """The scorer for a checkpoint, its model on ``device`` (auto, cpu or cuda); cached per process
    (and file version and device)."""
    path = Path(checkpoint).resolve()
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        raise InputError(path, "checkpoint file does not exist") from None
    return _cached(str(path), mtime, device)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime: int, device: str = "cpu") -> Scorer:
    card = read_card(path)
    if registry.scores_fields(card) is None:
        scoring = ", ".join(sorted({a.kind for a in registry.ARCHITECTURES if a.scores}))
        raise InputError(path, f"a {card.kind} checkpoint cannot score fields (survey runs: {scoring})")
    scorer = _load(Path(path), device)
    scorer.threshold = card.default_threshold  # the model's own (a detector's calibrated one)
    return scorer
