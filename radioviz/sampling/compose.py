"""Large-map composition (RADiff §5.3): generate sources from a list of masks and place them on
a real or simulated field without overlap, at the field's noise level.

Each mask (64×64 class indices on the 72–103 MHz band's pixel grid) gets one sample from a
mask-conditioned generator, with the field's own cut-out at that position as the background
reference.  Only the source pixels (mask > 0, grown by two pixels) are pasted; they are scaled
by σ_field/σ_train per band, so each source keeps the signal-to-noise it was generated with.
Each band's cut-out is pasted on that band's own grid at the same sky position (the native
convention the generator was trained in).  Output: a multi-extension FITS (one image per band
with its WCS, plus the composed mask) and an ECSV truth catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from scipy import ndimage

from ..data.conditions import MASK_CLASSES
from ..data.preprocess import ClippedStack, stack_cutout
from ..errors import InputError
from .generate import generate, load_generator

CUT = 64


@dataclass
class Composition:
    bands: list[np.ndarray]  # one composed image per band (Jy/beam)
    mask: np.ndarray  # composed class mask on band 0's grid
    catalog: Table


def place_without_overlap(
    n: int, shape: tuple[int, int], size: int = CUT, rng=None, tries: int = 2000
) -> list[tuple[int, int]]:
    """``n`` lower-left corners of size×size boxes inside ``shape`` that do not overlap."""
    rng = rng or np.random.default_rng(0)
    ny, nx = shape
    if ny < size or nx < size:
        raise ValueError(f"field {shape} is smaller than one {size}×{size} source box")
    placed: list[tuple[int, int]] = []
    for _ in range(tries):
        if len(placed) == n:
            break
        x, y = int(rng.integers(0, nx - size + 1)), int(rng.integers(0, ny - size + 1))
        if all(abs(x - px) >= size or abs(y - py) >= size for px, py in placed):
            placed.append((x, y))
    if len(placed) < n:
        raise ValueError(f"only {len(placed)} of {n} sources fit on a {nx}×{ny} field without overlap")
    return placed


def compose(
    field: ClippedStack,
    masks: list[np.ndarray],
    checkpoint: str | Path,
    seed: int = 0,
    label: str | None = None,
    progress=None,
    device: str = "cpu",
) -> Composition:
    """Generate one source per mask (the generator on ``device``) and add them to ``field``."""
    model, card = load_generator(checkpoint, device)
    if not card.mask_classes:
        raise InputError(
            checkpoint,
            f"is not mask-conditioned (conditions: {', '.join(card.conditions) or 'none'}); "
            "composition needs a model trained with --mask",
        )
    size = card.size
    for i, m in enumerate(masks):
        if np.shape(m) != (size, size):
            raise InputError(
                checkpoint, f"mask {i} has shape {np.shape(m)}; this model takes {size}×{size} masks"
            )
    rng = np.random.default_rng(seed)
    images = [im.data.astype(np.float32).copy() for im in field.stack.images]
    ref = field.stack.images[0]
    corners = place_without_overlap(len(masks), ref.shape, size, rng)
    sigma_train = np.asarray(card.dead_band_jy or [s * 3 for s in field.sigmas]) / 3.0
    scale = np.asarray(field.sigmas) / np.where(sigma_train > 0, sigma_train, 1.0)
    out_mask = np.zeros(ref.shape, np.uint8)
    rows = []
    for k, ((x0, y0), m) in enumerate(zip(corners, masks, strict=True)):
        cx, cy = x0 + (size - 1) / 2, y0 + (size - 1) / 2
        sky = ref.wcs.pixel_to_world(cx, cy)
        background = stack_cutout(field, size, (cx, cy), "native") if card.takes_background else None
        g = generate(
            checkpoint,
            1,
            label=label,
            seed=seed + k,
            mask=m,
            background=background,
            model_and_card=(model, card),
        )
        src = g.physical[0]
        keep = ndimage.binary_dilation(m > 0, iterations=2)
        for b, im in enumerate(field.stack.images):
            bx, by = (float(v) for v in im.wcs.world_to_pixel(sky))
            bx0, by0 = int(round(bx - (size - 1) / 2)), int(round(by - (size - 1) / 2))
            ys, xs = np.nonzero(keep)
            ty, tx = ys + by0, xs + bx0
            ok = (ty >= 0) & (ty < im.shape[0]) & (tx >= 0) & (tx < im.shape[1])
            images[b][ty[ok], tx[ok]] += src[b][ys[ok], xs[ok]] * scale[b]
        region = out_mask[y0 : y0 + size, x0 : x0 + size]
        region[m > 0] = m[m > 0]
        counts = np.bincount(np.asarray(m).ravel(), minlength=len(MASK_CLASSES))
        rows.append(
            {
                "id": k,
                "ra": sky.ra.deg,
                "dec": sky.dec.deg,
                "x": cx,
                "y": cy,
                "label": label or "",
                "n_compact": int(counts[1]),
                "n_extended": int(counts[2]),
                "n_diffuse": int(counts[3]),
                **{f"peak_b{b}": float((src[b] * keep).max() * scale[b]) for b in range(len(images))},
            }
        )
        if progress:
            progress(k + 1, len(masks))
    cat = Table(rows=rows) if rows else Table()
    if rows:
        cat["ra"].unit = cat["dec"].unit = u.deg
    return Composition(images, out_mask, cat)


def write_composition(
    comp: Composition, field: ClippedStack, out: str | Path, meta: dict
) -> tuple[Path, Path]:
    """A multi-extension FITS (primary: provenance; one image per band with its own WCS; MASK on
    band 0's grid) and ``<out>.ecsv`` with the truth catalogue."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    prim = fits.PrimaryHDU()
    prim.header["ORIGIN"] = "RadioViz compose: GENERATED sources on a field"
    for k, v in meta.items():
        # FITS headers hold printable ASCII only: a non-UTF-8 or accented field name is escaped
        text = str(v).encode("ascii", "backslashreplace").decode("ascii")
        prim.header[f"HIERARCH RV {k.upper()}"] = "".join(c if " " <= c <= "~" else "?" for c in text)
    hdus = [prim]
    for im, data in zip(field.stack.images, comp.bands, strict=True):
        h = fits.ImageHDU(
            data.astype(np.float32), im.wcs.to_header(), name=im.band.name if im.band else "BAND"
        )
        h.header["BUNIT"] = "Jy/beam"
        hdus.append(h)
    mh = fits.ImageHDU(comp.mask, field.stack.images[0].wcs.to_header(), name="MASK")
    mh.header["MASKCLS"] = ",".join(MASK_CLASSES)
    hdus.append(mh)
    fits.HDUList(hdus).writeto(out, overwrite=True)
    cat_path = out.with_name(out.name.split(".")[0] + "_truth.ecsv")
    comp.catalog.write(cat_path, overwrite=True)
    return out, cat_path
