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


class UnreadableError(InputError):
    """The path exists but cannot be read: permissions, a directory or FIFO where a file was
    expected, a symbolic-link loop or a broken link."""


class TooLargeError(InputError):
    """The file declares more pixels than the configured budget (checked before reading data)."""


class CorruptFileError(InputError):
    """The file's own integrity check fails (e.g. a gzip stream whose CRC does not match)."""


class DeviceError(InputError, ValueError):
    """``--device`` (or the app's ``RADIOVIZ_DEVICE``) names a device this machine lacks: the
    user's choice, so shown as one line by the CLI and the app, like a bad file (a ValueError too,
    for callers that catch bad values)."""

    def __init__(self, problem: str):
        super().__init__(None, problem)


def printable(text: str) -> str:
    """``text`` safe to print on any terminal: undecodable bytes of non-UTF-8 file names (held as
    surrogates) and unprintable control characters become backslash escapes."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text
    )


def os_problem(exc: OSError) -> str:
    """The one-line problem an OSError describes, without the path (the caller names it)."""
    import errno

    words = {
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EISDIR: "is a directory, not a file",
        errno.ENOTDIR: "a part of the path is not a directory",
        errno.ELOOP: "symbolic link loop",
        errno.ENOENT: "no such file or directory",
        errno.ENOSPC: "no space left on the device",
        errno.ENAMETOOLONG: "file name too long",
        errno.EROFS: "read-only file system",
        errno.EIO: "input/output error",
    }
    if exc.errno in words:
        return words[exc.errno]
    if exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def error_line(exc: BaseException) -> str | None:
    """The ``radioviz: error: <path>: <problem>`` line for an error a user's input can cause
    (our own :class:`RadioVizError`, OS, encoding and memory errors); ``None`` for anything else
    (a bug, which should keep its traceback).  Every command line error goes through here."""
    if isinstance(exc, RadioVizError):
        text = str(exc)
    elif isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else None
        problem = os_problem(exc)
        text = f"{name}: {problem}" if name is not None else problem
    elif isinstance(exc, UnicodeError):
        obj = getattr(exc, "object", None)
        what = obj if isinstance(obj, str) else repr(obj)[:120] if obj is not None else ""
        text = f"{what}: name or text not representable ({exc.reason if hasattr(exc, 'reason') else exc})"
    elif isinstance(exc, MemoryError):
        text = "out of memory (the input is larger than this machine can hold; see RADIOVIZ_MAX_PIXELS)"
    elif isinstance(exc, RecursionError):
        text = "input too deeply nested"
    else:
        return None
    return "radioviz: error: " + printable(" ".join(text.splitlines()) or type(exc).__name__)
