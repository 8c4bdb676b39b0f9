"""Reading FITS images and cubes, GLEAM bands, and the published directory layout."""

from .bands import GLEAM_BANDS, Band, detect_band
from .fits import BandImage, read_image, read_planes, write_image
from .layout import SourceFiles, SourceStack, discover, find_splits, read_stack, split_sources

__all__ = [
    "GLEAM_BANDS",
    "Band",
    "detect_band",
    "BandImage",
    "read_image",
    "read_planes",
    "write_image",
    "SourceFiles",
    "SourceStack",
    "discover",
    "find_splits",
    "read_stack",
    "split_sources",
]
