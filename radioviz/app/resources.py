"""Process-wide, read-only resources shared by every browser session: fields and models; and
what a browser user may reach: the data root and upload limits (the Dask schedulers allowed
are in :mod:`.schedulers`).

Shared fields and models are cached by path (and file modification time), never by array, and
callers must not mutate what they get back.  A field in a session's upload folder is cached with
that upload instead (:mod:`.session_memory`) and freed with it.
"""

from __future__ import annotations

import errno
import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data.preprocess import ClippedStack, clip_stack
from ..errors import InputError, os_problem
from ..io.bands import GLEAM_BANDS
from ..io.layout import SourceFiles, discover, read_stack
from ..models.card import BUNDLED, ModelCard, cards_in
from .session_memory import Holding, UploadFolder, folder_cached
from .upload_budget import DEFAULT_MAX_UPLOAD_PIXELS, max_upload_pixels, measure  # noqa: F401 (re-exported)

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DATA = REPO / "sample_data"
CHECKPOINTS = BUNDLED
#: Where the app's models run (read once): the CPU unless ``RADIOVIZ_DEVICE`` says auto or cuda —
#: a server shared by a group should not take a GPU someone's training needs without being asked.
DEVICE = os.environ.get("RADIOVIZ_DEVICE", "cpu").strip().lower() or "cpu"


# -- what a browser user may reach -------------------------------------------------------------

_DATA_ROOT: Path | None = None

#: Upload limits (bytes of one upload, pixels of one image), before anything is decoded.
DEFAULT_MAX_UPLOAD_BYTES = (
    64_000_000  # sent in chunks (app/uploads.py), so not bound by Bokeh's message limit
)


class PathPolicyError(InputError):
    """A path a browser user typed that the app will not open (outside the data root)."""


def set_data_root(path: str | Path | None) -> Path | None:
    """Restrict what browser users may open, list and write to ``path`` (``panel serve app.py
    --args --data-root DIR``); ``None`` falls back to ``RADIOVIZ_DATA_ROOT``."""
    global _DATA_ROOT
    _DATA_ROOT = None if path is None else Path(path).expanduser().resolve()
    return data_root()


def data_root() -> Path | None:
    """The data root (set_data_root, else ``RADIOVIZ_DATA_ROOT``); None: unrestricted (local use)."""
    if _DATA_ROOT is not None:
        return _DATA_ROOT
    env = os.environ.get("RADIOVIZ_DATA_ROOT")
    return Path(env).expanduser().resolve() if env else None


#: OS errors a typed path can raise while it is resolved or looked at: a symbolic-link loop, a
#: name or path too long for the system.  Answered like a missing or outside path, never raised.
_PATH_ERRNOS = (errno.ELOOP, errno.ENAMETOOLONG)


def _unresolvable(exc: BaseException) -> bool:
    """A symbolic-link loop (RuntimeError before Python 3.13) or a name the system refuses."""
    return isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno in _PATH_ERRNOS)


def resolve_user_path(text: str | Path, root: Path | None = None) -> Path:
    """The folder or file a browser user typed, as a resolved server path.

    With a data root, a relative path is taken from the root, symbolic links are resolved first
    and anything that lands outside the root is refused with the same message whether it exists
    or not (so the answer reveals nothing about the server): a path that cannot be resolved (a
    symbolic-link loop, a name too long) gets that message too, and one inside the root that
    cannot be looked at (a name too long) is "no such file or directory", like a missing one.
    Without one, ``~`` is expanded and such a path is refused in one line, naming the problem.
    Never raises anything but :class:`PathPolicyError` for what was typed.
    """
    root = root or data_root()
    text = str(text).strip()
    if root is None:
        p = Path(text or ".").expanduser()
        try:
            p.resolve()
            os.stat(p)
        except (RuntimeError, OSError) as exc:
            if _unresolvable(exc):
                problem = "symbolic link loop" if not isinstance(exc, OSError) else os_problem(exc)
                raise PathPolicyError(None, f"{text}: {problem}") from None
        return p
    if "\x00" in text:
        raise PathPolicyError(None, f"{text!r}: not a valid path")
    p = Path(text or ".")
    outside = PathPolicyError(None, f"{text}: outside the data folder this server shares")
    if p.parts[:1] == (SAMPLE_ALIAS,) and not (root / SAMPLE_ALIAS).exists():
        # the bundled simulated fields (the Survey tab's "sample" target), read-only and harmless
        resolved = (SAMPLE_DATA / Path(*p.parts[1:])).resolve() if len(p.parts) > 1 else SAMPLE_DATA.resolve()
        if not resolved.is_relative_to(SAMPLE_DATA.resolve()):
            raise outside
        if not resolved.exists():
            raise PathPolicyError(None, f"{text}: no such file or directory")
        return resolved
    try:
        resolved = (p if p.is_absolute() else root / p).resolve()
    except (RuntimeError, OSError):
        raise outside from None
    if not resolved.is_relative_to(root):
        raise outside
    try:
        os.stat(resolved)
    except OSError as exc:
        if exc.errno in _PATH_ERRNOS:
            raise PathPolicyError(None, f"{shown_path(resolved, root)}: no such file or directory") from None
    return resolved


#: what a browser user types (and is shown) for the bundled sample fields under a data root
SAMPLE_ALIAS = "sample"


def _in_sample(path: str | Path) -> str | None:
    """``sample/<rel>`` for a path inside the bundled sample data, else None."""
    try:
        rel = Path(path).resolve().relative_to(SAMPLE_DATA.resolve())
    except (ValueError, OSError, RuntimeError):
        return None
    return SAMPLE_ALIAS if str(rel) == "." else f"{SAMPLE_ALIAS}/{rel}"


def shown_path(path: str | Path, root: Path | None = None) -> str:
    """How a server path is shown to a browser user: relative to the data root."""
    root = root or data_root()
    if root is None:
        return str(path)
    sample = _in_sample(path)
    if sample is not None:
        return sample
    try:
        rel = Path(path).resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return Path(path).name
    return str(rel) if str(rel) != "." else "."


def public_message(text: str, uploads: dict[str, str] | None = None) -> str:
    """An error message with no server path in it: files in an upload folder (``uploads``:
    folder -> label) are named by their uploaded names, the data root and the repository become
    relative paths, and (with a data root) any other absolute path is cut to its file name."""
    for folder, label in (uploads or {}).items():
        text = text.replace(folder.rstrip("/") + "/", "").replace(folder, label)
    root = data_root()
    prefixes = [str(p) for p in {root, root.resolve()} if p is not None] if root else []
    for prefix in sorted(set(prefixes + [str(REPO), str(REPO.resolve())]), key=len, reverse=True):
        text = text.replace(prefix.rstrip("/") + "/", "").replace(prefix, ".")
    if root is not None:
        text = re.sub(r"(?<![\w.])/(?:[^/\s:]+/)+", "", text)
    return text


def max_upload_bytes() -> int:
    return int(os.environ.get("RADIOVIZ_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def check_upload(
    names: list[str], contents: list[bytes], folder: Path | UploadFolder, holding: Holding | None = None
) -> list[Path]:
    """Write uploaded files into ``folder`` (base names only) after checking their size in bytes,
    then check what they decode to, all files and HDUs together, against the upload pixel
    budget from their headers before any data is decoded (:func:`.upload_budget.measure`), and
    against what the session may hold (the ``holding`` of an upload box, or the
    :class:`UploadFolder`'s own); then each FITS file's integrity."""
    from ..io.fits import check_fits, is_fits_name

    total = sum(len(c) for c in contents)
    if total > max_upload_bytes():
        raise InputError(
            None,
            f"upload of {total / 1e6:.1f} MB is over the {max_upload_bytes() / 1e6:.0f} MB limit "
            "(RADIOVIZ_MAX_UPLOAD_BYTES)",
        )
    if isinstance(folder, UploadFolder):
        holding = holding or folder.holding
        folder = Path(folder.name)
    paths = []
    for name, data in zip(names, contents, strict=True):
        base = Path(str(name).replace("\\", "/")).name
        if base in ("", ".", ".."):
            raise InputError(None, f"{name!r}: not a file name")
        p = folder / base
        p.write_bytes(data)
        paths.append(p)
    tally = measure(paths, max_upload_pixels())
    if holding is not None:
        what = paths[0].name if len(paths) == 1 else f"these {len(paths)} files"
        holding.admit(tally.nbytes, what)
    for p in paths:
        if is_fits_name(p.name):
            check_fits(p, max_upload_pixels())
    return paths


@folder_cached(16)
def sources(root: str) -> tuple[SourceFiles, ...]:
    return tuple(discover(root))


@folder_cached(32)
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


@folder_cached(32)
def display_planes(root: str, name: str) -> np.ndarray:
    """(4, H, W): every band on the reference (highest-frequency) band's grid, for display."""
    from ..scan.scoremap import coregistered_field

    return coregistered_field(clipped_field(root, name))


def user_checkpoints() -> Path:
    """Where the app writes models it trains for its users (a detector retrained on their labels):
    ``$RADIOVIZ_USER_CHECKPOINTS``, else ``$XDG_DATA_HOME/radioviz/checkpoints`` — never the
    repository's checkpoints/, which every session shares read-only."""
    if os.environ.get("RADIOVIZ_USER_CHECKPOINTS"):
        return Path(os.environ["RADIOVIZ_USER_CHECKPOINTS"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "radioviz" / "checkpoints"


def checkpoint_path(name: str) -> Path:
    """The file of a listed checkpoint: a user-trained one, else the committed one."""
    user = user_checkpoints() / name
    return user if user.exists() else CHECKPOINTS / name


def checkpoint_cards(directory: Path | None = None) -> dict[str, ModelCard]:
    """``{file name: card}`` of every checkpoint with a valid card (see ``models.card.cards_in``);
    the committed ones are listed with the users' retrained ones."""
    cards = cards_in(directory or CHECKPOINTS)
    if directory is None and user_checkpoints().is_dir():
        cards.update({n: c for n, c in cards_in(user_checkpoints()).items() if n not in cards})
    return cards


@lru_cache(maxsize=16)
def _load(kind: str, path: str, mtime: float):
    """Read on the CPU, placed on :data:`DEVICE` (a bad ``RADIOVIZ_DEVICE`` is a one-line error)."""
    if kind == "classifier":
        from ..metrics.evaluate import load_classifier

        return load_classifier(path, DEVICE)
    from ..sampling.generate import load_generator

    return load_generator(path, DEVICE)


def classifier(path: str | Path):
    """(model, preprocessing, card), loaded once per process and file version."""
    return _load("classifier", str(path), Path(path).stat().st_mtime)


def generator_cards(directory: Path | None = None) -> dict[str, ModelCard]:
    """Cards of the generator checkpoints (DDPM, EDM, WGAN)."""
    return {n: c for n, c in checkpoint_cards(directory).items() if c.is_generator}


def classifier_cards(directory: Path | None = None) -> dict[str, ModelCard]:
    return {n: c for n, c in checkpoint_cards(directory).items() if c.kind == "classifier"}


def model_bands(card: ModelCard | None) -> list[str]:
    """The band names a model's images carry (one name for single-frequency generators)."""
    return card.bands if card else [b.name for b in GLEAM_BANDS]


def generator(path: str | Path):
    """(model, card), loaded once per process and file version; read-only across sessions."""
    return _load("generator", str(path), Path(path).stat().st_mtime)


@folder_cached(32)
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
