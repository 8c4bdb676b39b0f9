"""A small fully convolutional U-Net for per-pixel diffuse-emission probability (Radio U-Net in
spirit: Stuardi et al. 2024).  Convolutions are 'same' padded and the input only needs sides
divisible by 2**depth (:func:`pad_to`), so one forward pass scores a whole field or a mosaic tile
and the output has the input's resolution.

Tile-exactness: with ``norm="batch"`` (eval mode: fixed running statistics) or ``"none"`` every
layer is local, so an output pixel depends only on the input within :func:`reach` of it; tiles
cut on the ``2**depth`` pooling grid with that much overlap reproduce the one-piece map exactly
(:func:`predict_logits`).  ``norm="group"`` (the first shipped detector; its cards carry no
``norm``) normalises over the whole tile, so its tiled maps differ slightly from one piece.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .device import model_device
from .segmenter_spec import (  # noqa: F401  (re-exported: the segmenter's public names)
    CLASS_NAMES,
    CLASSES,
    NORMS,
    input_span,
    reach,
    receptive_field,
    tile_overlap,
)


def inputs_of(kwargs: dict) -> tuple[str, ...]:
    """Which groups of ``data.fieldgrid.INPUT_GROUPS`` a network with these card kwargs reads.  Cards
    from before the groups were named carry none: the bands (4 channels), or the bands and their
    spectral index (5)."""
    if kwargs.get("inputs"):
        return tuple(kwargs["inputs"])
    return ("bands",) if int(kwargs.get("in_channels", 4)) <= 4 else ("bands", "spectral index")


def _norm(kind: str, ch: int) -> nn.Module:
    if kind == "group":
        return nn.GroupNorm(min(4, ch), ch)
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, not {kind!r}")


def _block(cin: int, cout: int, norm: str = "group") -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        _norm(norm, cout),
        nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1),
        _norm(norm, cout),
        nn.SiLU(),
    )


class SegmenterUNet(nn.Module):
    """Encoder ``base·2^i`` channels for i < depth, bottleneck, decoder with skips; ``out_channels``
    logits per pixel (1: diffuse or not; one per class of :data:`CLASSES` for a class detector).

    ``norm`` defaults to "group" so that cards written before it existed (no ``norm`` in their
    kwargs) rebuild the network they were trained as; new trainings write it explicitly."""

    def __init__(
        self,
        in_channels: int = 4,
        base: int = 8,
        depth: int = 3,
        norm: str = "group",
        out_channels: int = 1,
        inputs: list[str] | None = None,
    ):
        super().__init__()
        self.depth, self.norm, self.out_channels = depth, norm, out_channels
        self.in_channels = in_channels
        self.inputs = inputs_of({"in_channels": in_channels, "inputs": inputs})
        chans = [base * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList(
            [_block(in_channels if i == 0 else chans[i - 1], chans[i], norm) for i in range(depth)]
        )
        self.mid = _block(chans[depth - 1], chans[depth], norm)
        self.up = nn.ModuleList(
            [nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in range(depth)]
        )
        self.dec = nn.ModuleList([_block(2 * chans[i], chans[i], norm) for i in range(depth)])
        self.head = nn.Conv2d(chans[0], out_channels, 1)

    @property
    def tile_local(self) -> bool:
        """True when an output pixel depends only on input pixels within :func:`reach` (eval mode)."""
        return self.norm != "group"

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck: (N, base·2^depth, H/2^depth, W/2^depth), what the network knows of a
        region before it is drawn back to pixels ("More like this" compares candidates here)."""
        self._check(x)
        for blk in self.down:
            x = F.max_pool2d(blk(x), 2)
        return self.mid(x)

    def _check(self, x: torch.Tensor) -> None:
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"this detector reads {self.in_channels} input channels ({' + '.join(self.inputs)}), "
                f"not {x.shape[1]}: build its input with detector_input() or field.scaled(net.inputs)"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``x``, the detector's input (``field_scale`` of the groups ``self.inputs``)."""
        self._check(x)
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.mid(x)
        for i in reversed(range(self.depth)):
            x = self.dec[i](torch.cat([self.up[i](x), skips[i]], 1))
        return self.head(x)  # (N, out_channels, H, W) logits


SEGMENTERS = {"segmenter": SegmenterUNet}


def detector_input(net: SegmenterUNet, data: np.ndarray, sigmas, pixel_deg: float) -> np.ndarray:
    """What ``net`` reads of ``data`` (C, H, W) or (N, C, H, W) Jy/beam on a grid of ``pixel_deg``:
    the groups it was trained on, scaled (``data.fieldgrid.field_scale``)."""
    from ..data.fieldgrid import field_scale

    return field_scale(data, sigmas, net.inputs, pixel_deg)


def pad_to(x: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Zero-pad (…, H, W) at the bottom/right to multiples of ``multiple``; returns the original (H, W)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    pad = [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)]
    return np.pad(x, pad), (h, w)


@torch.no_grad()
def predict_logits(
    model: SegmenterUNet, x: np.ndarray, tile: int = 512, overlap: int | None = None
) -> np.ndarray:
    """Per-pixel logits of a (C, H, W) scaled field, in one pass or tile by tile: (H, W) for a
    one-channel network, (K, H, W) for a K-class one.

    Tiles start on the ``2**depth`` pooling grid and overlap their neighbours by ``overlap``
    pixels per side (default :func:`tile_overlap`, which makes the stitched map equal the
    one-pass map for a tile-local network); only each tile's interior is kept.
    """
    model.eval()
    device = model_device(model)

    def run(a: np.ndarray) -> np.ndarray:
        return model(torch.from_numpy(np.ascontiguousarray(a, np.float32))[None].to(device))[0].cpu().numpy()

    m = 2**model.depth
    overlap = tile_overlap(model.depth) if overlap is None else -(-int(overlap) // m) * m
    _, h, w = x.shape
    k = getattr(model, "out_channels", 1)
    if h <= tile and w <= tile:
        xp, _ = pad_to(x, m)
        out = run(xp)[:, :h, :w]
        return out[0] if k == 1 else out
    step = (tile - 2 * overlap) // m * m
    if step < m:
        raise ValueError(f"tile {tile} leaves no interior with {overlap} px of overlap per side")
    out = np.zeros((k, h, w), np.float32)
    for y0 in range(0, h, step):
        for x0 in range(0, w, step):
            ya, xa = max(0, y0 - overlap), max(0, x0 - overlap)
            yb, xb = min(h, y0 + step + overlap), min(w, x0 + step + overlap)
            xp, _ = pad_to(x[:, ya:yb, xa:xb], m)
            logit = run(xp)
            y1, x1 = min(h, y0 + step), min(w, x0 + step)
            out[:, y0:y1, x0:x1] = logit[:, y0 - ya : y1 - ya, x0 - xa : x1 - xa]
    return out[0] if k == 1 else out


def class_probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax over the class axis of (K, H, W) logits."""
    z = logits - logits.max(0, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(0, keepdims=True)).astype(np.float32)


def halo_probability(model: SegmenterUNet, scaled: np.ndarray, tile: int = 512) -> np.ndarray:
    """The cluster-score map of either kind of network: the halo class's probability, or the one
    channel's "diffuse" probability of a one-class detector."""
    logits = predict_logits(model, scaled, tile)
    if logits.ndim == 2:
        return (1 / (1 + np.exp(-logits))).astype(np.float32)
    return class_probabilities(logits)[CLASSES.index("halo")]


# -- the shipped detector: network + grid + calibration ------------------------------------------


def _logit(p):
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class Calibration:
    """Platt scaling of a score: p' = sigmoid(a·logit(p) + b), monotone increasing for a > 0."""

    def __init__(self, a: float = 1.0, b: float = 0.0):
        if not a > 0:
            raise ValueError("calibration slope must be positive (a monotone map)")
        self.a, self.b = float(a), float(b)

    @classmethod
    def fit(cls, scores, labels) -> Calibration:
        """Platt's maximum-likelihood (a, b) on raw scores and 0/1 labels, with his smoothed targets
        ((n₁+1)/(n₁+2) for a positive, 1/(n₀+2) for a negative), by scikit-learn's unpenalised
        logistic regression (each score weighted once as each class).  A score that does not rank
        the classes (a ≤ 0) keeps a slope of 10⁻³ and gets the best intercept for it."""
        from scipy.optimize import brentq
        from scipy.special import expit
        from sklearn.linear_model import LogisticRegression

        x, y = _logit(scores), np.asarray(labels, np.float64)
        n1, n0 = y.sum(), len(y) - y.sum()
        t = np.where(y > 0, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))  # Platt's smoothed targets
        lr = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        lr.fit(
            np.concatenate([x, x])[:, None],
            np.concatenate([np.ones_like(x), np.zeros_like(x)]),
            sample_weight=np.concatenate([t, 1 - t]),
        )
        a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        if a < 1e-3:
            a = 1e-3
            b = brentq(lambda c: float(np.sum(expit(a * x + c) - t)), -50.0, 50.0, xtol=1e-12)
        return cls(a, b)

    def __call__(self, p):
        from scipy.special import expit  # no overflow warning where a·logit(p) + b is very negative

        return expit(self.a * _logit(p) + self.b).astype(np.float32)

    def to_dict(self) -> dict:
        return {"method": "platt", "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, d: dict | None) -> Calibration:
        return cls() if not d else cls(d["a"], d["b"])


class Detector:
    """What a segmenter checkpoint loads as: the network, the grid/scaling rule and the calibration.

    ``probability`` grids a field (:func:`radioviz.data.fieldgrid.grid_field`), runs one pass (tiled
    past ``tile`` pixels) and returns the calibrated per-pixel map; ``cluster_score`` is that map's
    peak within ``cluster_radius_arcmin`` of a position.  A class detector's map is the halo
    probability (``mode="halo"``) or the probability of any extended emission (``"diffuse"``:
    1 − background); a one-class detector has only the latter, and gives it for either mode.
    """

    is_detector = True

    def __init__(self, net: SegmenterUNet, card):
        from ..data.fieldgrid import GridSpec

        self.net = net.eval()
        self.card = card
        card = card.to_dict() if hasattr(card, "to_dict") else dict(card)  # a ModelCard or its JSON
        self.spec = GridSpec.from_dict(card.get("grid", {}))
        self.calibration = Calibration.from_dict(card.get("calibration"))
        self.cluster_radius_arcmin = float(card.get("cluster_radius_arcmin", 5.0))
        self.threshold = float(card.get("default_threshold", 0.5))
        self.tile = int(card.get("tile", 512))
        self.classes = tuple(card.get("classes") or ())  # empty: a one-class ("diffuse") detector

    def eval(self):
        return self

    def to(self, device) -> Detector:
        """The detector with its network on ``device`` (:func:`radioviz.models.device.place`)."""
        self.net.to(device)
        return self

    @property
    def has_classes(self) -> bool:
        return len(self.classes) > 1

    def _one_pass(self, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(uncalibrated halo map, (K, H, W) per-class probabilities or None for a one-class
        detector) of one network pass over a scaled input."""
        logits = predict_logits(self.net, scaled, self.tile)
        if logits.ndim == 2:
            return (1 / (1 + np.exp(-logits))).astype(np.float32), None
        p = class_probabilities(logits)
        return p[self.classes.index("halo")], p

    def raw_class_probabilities(self, scaled: np.ndarray) -> np.ndarray | None:
        """(K, H, W) per-class probabilities (None for a one-class detector)."""
        return self._one_pass(scaled)[1] if self.has_classes else None

    def raw_probability(self, scaled: np.ndarray, mode: str = "halo") -> np.ndarray:
        """The uncalibrated map: halo probability, or any extended emission (``mode="diffuse"``)."""
        halo, p = self._one_pass(scaled)
        return halo if mode == "halo" or p is None else 1 - p[self.classes.index("background")]

    def maps(self, field):
        """(calibrated halo map, per-class probabilities (K, H, W) or None for a one-class
        detector, gridded field) of one network pass: a scan needs both, and the input (with any
        residual group) and the pass are the costly part."""
        field = self.grid(field)
        halo, p = self._one_pass(field.scaled(self.net.inputs))
        return self.calibration(halo), p, field

    def probability(self, field, mode: str = "halo"):
        """(calibrated map, gridded field) of a SourceStack / ClippedStack / GriddedField.  The
        calibration is fitted to the halo map; the "diffuse" map is shown as it comes."""
        field = self.grid(field)
        raw = self.raw_probability(field.scaled(self.net.inputs), mode)
        return (self.calibration(raw) if mode == "halo" or not self.has_classes else raw), field

    def grid(self, field):
        """The field on the detector's grid (a GriddedField is returned as it is)."""
        from ..data.fieldgrid import GriddedField, grid_field

        if isinstance(field, GriddedField):
            return field
        stack = getattr(field, "stack", field)  # a ClippedStack carries its SourceStack
        return grid_field(stack, self.spec)

    def cluster_score(self, prob: np.ndarray, wcs, position, radius_arcmin: float | None = None) -> float:
        """Peak of ``prob`` within the radius of a SkyCoord (or grid pixel (x, y)) position."""
        if hasattr(position, "ra"):
            x, y = wcs.world_to_pixel(position)
        else:
            x, y = position
        return disc_max(
            prob, float(x), float(y), (radius_arcmin or self.cluster_radius_arcmin) / 60 / _pix_deg(wcs)
        )


def _pix_deg(wcs) -> float:
    from astropy.wcs.utils import proj_plane_pixel_scales

    return float(np.mean(np.abs(proj_plane_pixel_scales(wcs.celestial))))


def disc_max(a: np.ndarray, x: float, y: float, radius_px: float) -> float:
    """Maximum of ``a`` over pixels within ``radius_px`` of (x, y) (NaN when the disc is off the map)."""
    h, w = a.shape
    r = max(radius_px, 0.5)
    y0, y1 = max(int(np.floor(y - r)), 0), min(int(np.ceil(y + r)) + 1, h)
    x0, x1 = max(int(np.floor(x - r)), 0), min(int(np.ceil(x + r)) + 1, w)
    if y0 >= y1 or x0 >= x1:
        return float("nan")
    yy, xx = np.mgrid[y0:y1, x0:x1]
    sel = np.hypot(xx - x, yy - y) <= r
    if not sel.any():
        return float(a[min(max(int(round(y)), 0), h - 1), min(max(int(round(x)), 0), w - 1)])
    return float(np.nanmax(a[y0:y1, x0:x1][sel]))
