"""The paper's augmentation: 8 rotations × 2 flips × 10 pixel scalings = 160 images per image.

Rotations are by multiples of 45° (multiples of 90° exactly, odd multiples by bilinear
interpolation with zero fill — the background is the dead band, so zero is the right fill).
Flips are {none, up-down}: with all eight rotations a left-right flip is an up-down flip turned
by 180°, so {none, up-down} already yields every left-right-flipped image once; listing
up-down and left-right as the two flips would make half the images duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

ROTATIONS_DEG = tuple(range(0, 360, 45))
FLIPS = ("none", "ud")
SCALES = tuple(np.round(np.linspace(0.9, 1.4, 10), 6))


@dataclass(frozen=True)
class Augmentation:
    rotation_deg: int
    flip: str
    scale: float


def all_augmentations() -> list[Augmentation]:
    return [Augmentation(r, f, float(s)) for r in ROTATIONS_DEG for f in FLIPS for s in SCALES]


def rotate(images: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate (..., H, W) images counter-clockwise by a multiple of 45°."""
    if degrees % 45:
        raise ValueError("rotations are multiples of 45 degrees")
    k, rest = divmod(degrees % 360, 90)
    out = np.rot90(images, k, axes=(-2, -1))
    if rest:
        out = ndimage.rotate(out, 45, axes=(-1, -2), reshape=False, order=1, mode="constant", cval=0.0)
    return np.ascontiguousarray(out)


def augment(images: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (160, C, H, W), in the order of :func:`all_augmentations`."""
    out = []
    for r in ROTATIONS_DEG:
        rot = rotate(images, r)
        for f in FLIPS:
            flipped = rot[..., ::-1, :] if f == "ud" else rot
            out.extend(flipped * s for s in SCALES)
    return np.stack(out).astype(np.float32)


def augment_batch(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, H, W) -> (N·160, C, H, W) and the index of each output's source image."""
    out = (
        np.concatenate([augment(im) for im in images])
        if len(images)
        else np.zeros((0,) + images.shape[1:], np.float32)
    )
    index = np.repeat(np.arange(len(images)), len(ROTATIONS_DEG) * len(FLIPS) * len(SCALES))
    return out, index
