"""Process-wide, read-only resources shared by every browser session: fields and models.

Everything here is cached by path (and file modification time), never by array, and callers
must not mutate what they get back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data.preprocess import ClippedStack, clip_stack
from ..io.bands import GLEAM_BANDS
from ..io.layout import SourceFiles, discover, read_stack
from ..models.card import CheckpointError, ModelCard

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DATA = REPO / "sample_data"
CHECKPOINTS = REPO / "checkpoints"


@lru_cache(maxsize=16)
def sources(root: str) -> tuple[SourceFiles, ...]:
    return tuple(discover(root))


@lru_cache(maxsize=32)
def clipped_field(root: str, name: str) -> ClippedStack:
    src = next(s for s in sources(root) if s.name == name)
    return clip_stack(read_stack(src))


#: Above this many pixels in a band, a field is shown band by band on its own grid (survey
#: mosaics): co-registering every band of an 8000×8000 mosaic for display is not worth its cost.
BIG_FIELD_PIXELS = 2048 * 2048


def is_big(root: str, name: str) -> bool:
    return any(im.data.size > BIG_FIELD_PIXELS for im in clipped_field(root, name).stack.images)


def display_plane(root: str, name: str, band: int):
    """(plane, WCS) of one band for display: on the reference (170–231 MHz) grid for ordinary
    fields, on the band's own grid for big mosaics."""
    cf = clipped_field(root, name)
    if is_big(root, name):
        im = cf.stack.images[band]
        return im.data, im.wcs
    return display_planes(root, name)[band], cf.stack.images[-1].wcs


@lru_cache(maxsize=32)
def display_planes(root: str, name: str) -> np.ndarray:
    """(4, H, W): every band on the reference (highest-frequency) band's grid, for display."""
    from ..scan.scoremap import _coregistered_field

    return _coregistered_field(clipped_field(root, name))


def checkpoint_cards(directory: Path = CHECKPOINTS) -> dict[str, ModelCard]:
    """``{file name: card}`` of every checkpoint with a valid card (cards are small: read each
    call); a card that does not validate is left out, as its model could not be loaded."""
    out = {}
    for card in sorted(Path(directory).glob("*.json")):
        weights = card.with_suffix(".safetensors")
        if weights.exists() and ".train-state" not in card.name:
            try:
                out[weights.name] = ModelCard.read(weights)
            except CheckpointError:
                continue
    return out


@lru_cache(maxsize=16)
def _load(kind: str, path: str, mtime: float):
    if kind == "classifier":
        from ..metrics.evaluate import load_classifier

        return load_classifier(path)
    from ..sampling.generate import load_generator

    return load_generator(path)


def classifier(path: str | Path):
    """(model, preprocessing, card), loaded once per process and file version."""
    return _load("classifier", str(path), Path(path).stat().st_mtime)


def generator_cards(directory: Path = CHECKPOINTS) -> dict[str, ModelCard]:
    """Cards of the generator checkpoints (DDPM, EDM, WGAN)."""
    return {n: c for n, c in checkpoint_cards(directory).items() if c.is_generator}


def classifier_cards(directory: Path = CHECKPOINTS) -> dict[str, ModelCard]:
    return {n: c for n, c in checkpoint_cards(directory).items() if c.kind == "classifier"}


def model_bands(card: ModelCard | None) -> list[str]:
    """The band names a model's images carry (one name for single-frequency generators)."""
    return card.bands if card else [b.name for b in GLEAM_BANDS]


def generator(path: str | Path):
    """(model, card), loaded once per process and file version; read-only across sessions."""
    return _load("generator", str(path), Path(path).stat().st_mtime)


@lru_cache(maxsize=32)
def central_cutout(root: str, name: str) -> np.ndarray:
    """(4, 64, 64) Jy/beam central cut-out of a bundled field (native convention)."""
    from ..data.preprocess import stack_cutout

    return stack_cutout(clipped_field(root, name), 64)


def truth_mask(root: str, name: str, size: int = 64) -> np.ndarray | None:
    """The simulator's truth mask (72–103 MHz, central size×size) of a simulated field, if the
    folder has one (``<root>/truth/<name>_GLEAM_72-103MHz_mask.fits*``)."""
    from ..io.fits import read_image

    found = sorted((Path(root) / "truth").glob(f"{name}_GLEAM_72-103MHz_mask.fits*"))
    if not found:
        return None
    m = read_image(found[0]).data
    cy, cx = m.shape[0] // 2, m.shape[1] // 2
    return np.rint(m[cy - size // 2 : cy + size // 2, cx - size // 2 : cx + size // 2]).astype(np.int64)
