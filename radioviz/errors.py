"""Typed errors for bad input.

Every problem with a user's file is raised as an :class:`InputError` whose message names the
file and the problem in one line.  The CLI and the app catch this one type and show the message;
anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class RadioVizError(Exception):
    """Base class of every error RadioViz raises on purpose."""


class InputError(RadioVizError):
    """A file or directory the user gave cannot be used; ``str()`` is a one-line message."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")


class NotFITSError(InputError):
    """The file is not a FITS file at all."""


class TruncatedFITSError(InputError):
    """The FITS file ends before its data does."""


class EmptyImageError(InputError):
    """No image data, or data that is all NaN or all zero."""


class AxisError(InputError):
    """The cube has axes RadioViz cannot reduce to images (e.g. two non-degenerate extra axes)."""


class WCSError(InputError):
    """No usable celestial WCS."""


class MissingBandError(InputError):
    """A four-band stack was needed but a band is missing (or present twice)."""


class LayoutError(InputError):
    """A directory does not follow the published ``<SPLIT>_DATA_<class>`` layout."""
