"""Single-frequency image sets: every FITS file is one 1-channel image, whatever its name.

Mishra et al. compare the WGAN and the DDPM on single-frequency MWA Phase-II images of halo
clusters (``Data_for_Gen_Model_Evaluation``: 88–216 MHz, several Briggs weightings, 200×200,
SIN/ZEA grids) before moving to the four GLEAM bands.  Files of one cluster at different
frequencies or weightings are *different images* here, not bands of one source, so they are not
grouped; sky groups (``splits.sky_groups``) still keep one cluster's images together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError
from ..io.fits import is_fits_name, read_planes
from .noise import clip_image
from .preprocess import cutout

#: The band convention (and band name) recorded for single-frequency data sets and models.
SINGLE_FREQUENCY = "single-frequency"


def single_frequency_files(root: str | Path) -> list[Path]:
    """Every FITS file under ``root`` (recursively), sorted; an empty tree is an error."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "is not a directory")
    files = sorted(p for p in root.rglob("*") if p.is_file() and is_fits_name(p.name))
    if not files:
        raise InputError(root, "holds no FITS files")
    return files


@dataclass
class SingleFrequencyImage:
    name: str
    cutout: np.ndarray  # (1, size, size) clipped Jy/beam
    ra: float
    dec: float


def read_single_frequency(path: Path, size: int, nsigma: float) -> SingleFrequencyImage:
    """Clip (mean + nσ of the fitted noise, as for GLEAM) and cut out the centre of one file."""
    planes = read_planes(path)
    if len(planes) != 1:
        raise InputError(path, f"holds {len(planes)} image planes; a single-frequency set needs one per file")
    im = planes[0]
    data, _, _ = clip_image(im.data, nsigma)
    cut = cutout(im.with_data(np.nan_to_num(data, nan=0.0)), size)
    centre = im.centre()
    return SingleFrequencyImage(
        path.stem, cut.data[None].astype(np.float32), float(centre.ra.deg), float(centre.dec.deg)
    )


def read_single_frequency_set(
    files: list[Path], size: int, nsigma: float, progress: bool = True
) -> list[SingleFrequencyImage]:
    """Every file of ``single_frequency_files(root)`` read as one image."""
    return [
        read_single_frequency(p, size, nsigma)
        for p in tqdm(files, desc="reading single-frequency images", disable=not progress)
    ]
