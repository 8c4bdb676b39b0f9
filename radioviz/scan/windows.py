"""Window-classifier score maps over whole fields.

A window centred on every ``stride``-th pixel of the reference (highest-frequency) band is
classified; its four bands are the cut-outs a classifier was trained on (``native``: each band's
own 64×64 pixels at the window's sky position, exactly as ``Cutout2D`` cuts them; partial
windows at the edges are zero-filled).  :func:`window_score_map` gathers all windows with one
strided view per band and classifies them in large batches; :func:`score_map_naive` is the
one-window-at-a-time loop it is benchmarked and tested against.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from ..data.preprocess import ClippedStack, Preprocessing, clip_stack, require_cutout_size, stack_cutout
from ..io.layout import SourceStack
from ..models.classifiers import predict_halo_scores
from .maps import ScoreMap, map_wcs


def _centres(shape: tuple[int, int], stride: int) -> tuple[np.ndarray, np.ndarray]:
    ny, nx = shape
    return np.arange(0, ny, stride), np.arange(0, nx, stride)


def _as_clipped(field, nsigma: float) -> ClippedStack:
    if isinstance(field, ClippedStack):
        return field
    if isinstance(field, SourceStack):
        return clip_stack(field, nsigma)
    raise TypeError("field must be a SourceStack or ClippedStack")


def window_batch(
    clipped: ClippedStack, xs: np.ndarray, ys: np.ndarray, size: int, convention: str
) -> np.ndarray:
    """(N, C, size, size) windows centred on reference-band pixels (xs, ys), all at once."""
    images = clipped.stack.images
    ref = images[-1]
    if convention == "native":
        world = ref.wcs.pixel_to_world(xs, ys)
        planes = []
        for im in images:
            bx, by = im.wcs.world_to_pixel(world)
            x0 = np.ceil(np.asarray(bx) - size / 2).astype(int)
            y0 = np.ceil(np.asarray(by) - size / 2).astype(int)
            padded = np.pad(im.data, size, constant_values=0.0)
            view = sliding_window_view(padded, (size, size))
            yi, xi = np.clip(y0 + size, 0, view.shape[0] - 1), np.clip(x0 + size, 0, view.shape[1] - 1)
            planes.append(view[yi, xi])
        return np.stack(planes, axis=1).astype(np.float32)
    if convention == "coregistered":
        return windows_from_common(coregistered_field(clipped), xs, ys, size)
    raise ValueError(f"unknown band convention {convention!r}")


def coregistered_field(clipped: ClippedStack) -> np.ndarray:
    """All bands reprojected onto the reference band's full grid (dead band restored)."""
    from reproject import reproject_interp

    from ..data.noise import clip_dead_band

    ref = clipped.stack.images[-1]
    planes = []
    for im, t in zip(clipped.stack.images, clipped.thresholds, strict=True):
        if im is ref:
            planes.append(im.data)
            continue
        out, _ = reproject_interp((im.data, im.wcs), ref.wcs, shape_out=ref.shape, order="bilinear")
        planes.append(clip_dead_band(out, t))
    return np.stack(planes)


def predict_windows(model: torch.nn.Module, pre: Preprocessing, windows: np.ndarray) -> np.ndarray:
    """Halo scores of (N, C, H, W) Jy/beam windows under the classifier's own normalisation."""
    return predict_halo_scores(model, pre.normalization.forward(windows), batch=len(windows) or 1)


def window_score_map(
    field,
    model: torch.nn.Module,
    stride: int = 4,
    preprocessing: Preprocessing | None = None,
    batch: int = 1024,
    callback: Callable[[int, int], bool | None] | None = None,
) -> ScoreMap:
    """Halo score of a window centred on every ``stride``-th reference-band pixel.

    ``callback(done, total)`` is called after each batch; returning True cancels (a partial
    map, NaN where not scored, is returned).
    """
    pre = preprocessing or model.preprocessing  # type: ignore[attr-defined]
    clipped = _as_clipped(field, pre.nsigma)
    for im in clipped.stack.images:
        require_cutout_size(im, pre.cutout_size)
    model.eval()
    ref = clipped.stack.images[-1]
    cy, cx = _centres(ref.shape, stride)
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    xs, ys = xx.ravel(), yy.ravel()
    scores = np.full(xs.size, np.nan, np.float32)
    common = coregistered_field(clipped) if pre.band_convention == "coregistered" else None
    for i in range(0, xs.size, batch):
        sl = slice(i, i + batch)
        if common is not None:
            win = windows_from_common(common, xs[sl], ys[sl], pre.cutout_size)
        else:
            win = window_batch(clipped, xs[sl], ys[sl], pre.cutout_size, pre.band_convention)
        scores[sl] = predict_windows(model, pre, win)
        if callback is not None and callback(min(i + batch, xs.size), xs.size):
            break
    return ScoreMap(scores.reshape(yy.shape), map_wcs(ref.wcs, stride), stride, ref.shape)


def windows_from_common(common: np.ndarray, xs, ys, size: int) -> np.ndarray:
    padded = np.pad(common, ((0, 0), (size, size), (size, size)))
    view = sliding_window_view(padded, (size, size), axis=(1, 2))
    x0 = np.ceil(xs - size / 2).astype(int) + size
    y0 = np.ceil(ys - size / 2).astype(int) + size
    return np.ascontiguousarray(view[:, y0, x0].transpose(1, 0, 2, 3)).astype(np.float32)


def score_map_naive(field, model: torch.nn.Module, stride: int, preprocessing: Preprocessing) -> ScoreMap:
    """One window at a time through the library's own cut-out function: the reference."""
    pre = preprocessing
    clipped = _as_clipped(field, pre.nsigma)
    model.eval()
    ref = clipped.stack.images[-1]
    cy, cx = _centres(ref.shape, stride)
    out = np.zeros((len(cy), len(cx)), np.float32)
    common = coregistered_field(clipped) if pre.band_convention == "coregistered" else None
    for j, y in enumerate(cy):
        for i, x in enumerate(cx):
            if common is None:
                win = stack_cutout(clipped, pre.cutout_size, (float(x), float(y)), "native")[None]
            else:
                win = windows_from_common(common, np.array([x]), np.array([y]), pre.cutout_size)
            out[j, i] = predict_windows(model, pre, win)[0]
    return ScoreMap(out, map_wcs(ref.wcs, stride), stride, ref.shape)
