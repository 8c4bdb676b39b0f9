"""What the Compare tab holds, apart from its widgets: where the real images are (root and
split), the comparison shown, an uploaded samples file, and the words of its status, error and
two-sample lines; the comparison itself is :func:`radioviz.metrics.compare.compare_images`.

:class:`CompareState` is params and methods without Panel or Bokeh, tested without a browser;
:class:`~.compare_view.CompareView` draws it.  The latest Generate run comes from the page's
shared session (``AppSession.generate_result``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import param

from ..data.preprocess import Preprocessing, generator_normalization
from ..data.single_frequency import SINGLE_FREQUENCY
from ..errors import InputError
from ..io.layout import find_splits
from ..metrics.compare import Comparison, add_two_sample, compare_images, load_samples, real_cutouts
from ..metrics.compare_plots import ideal_error
from . import resources
from .describe import label_text
from .trajectory_state import latest_generated

SHARED_GLEAM = resources.REPO.parent / "shared" / "data" / "GLEAM-Data"
SHARED_SINGLE = resources.REPO.parent / "shared" / "data" / "Data_for_Gen_Model_Evaluation"


def label_words(label) -> str:
    """How the compared label reads in the header: 'all labels' when the run had none."""
    return "all labels" if label is None else f"label {label_text(label).split(':')[0]}"


def single_frequency_root() -> Path | None:
    """RADIOVIZ_REAL_SINGLE, else the shared single-frequency evaluation images when present."""
    return _configured("RADIOVIZ_REAL_SINGLE", SHARED_SINGLE)


def _configured(env: str, shared: Path) -> Path | None:
    """The folder named by ``env``, else ``shared`` when present."""
    if os.environ.get(env):
        return Path(os.environ[env])
    return shared if shared.exists() else None


def split_folders(root: Path, depth: int = 2) -> list[Path]:
    """Folders at most ``depth`` levels under ``root`` (itself first) that hold a
    ``<SPLIT>_DATA_<class>`` folder, in name order; hidden folders and links that lead out of
    ``root`` are skipped."""
    root = root.resolve()
    found, level = [], [root]
    for _ in range(depth + 1):
        nxt = []
        for d in level:
            try:
                if find_splits(d):
                    found.append(d)
                nxt.extend(
                    c
                    for c in sorted(d.iterdir())
                    if not c.name.startswith(".") and c.is_dir() and c.resolve().is_relative_to(root)
                )
            except (InputError, OSError):
                continue
        level = nxt
    return found


def default_real_root() -> str:
    """RADIOVIZ_REAL, else the shared GLEAM data when present, else the bundled simulated fields;
    with a data root (served to others) the first folder under it that holds a split (shown
    relative to the root), else the root itself ('.')."""
    if resources.data_root() is not None:
        if os.environ.get("RADIOVIZ_REAL"):
            return resources.shown_path(os.environ["RADIOVIZ_REAL"])
        found = split_folders(resources.data_root())
        return resources.shown_path(found[0]) if found else "."
    return str(_configured("RADIOVIZ_REAL", SHARED_GLEAM) or resources.SAMPLE_DATA)


def two_sample_text(ts: dict | None) -> str:
    """The two-sample test in one line, with what 0.5 means."""
    if ts is None:
        return (
            "**Two-sample test:** not run — press **Two-sample test** (a small CNN learns to tell "
            "generated from real images; seconds)."
        )
    lo, hi = ts["ci95"]
    return (
        f"**Two-sample test:** a small CNN tells generated from real images with held-out accuracy "
        f"**{ts['accuracy']:.2f}** (95 % interval {lo:.2f}–{hi:.2f}; {ts['n_per_class']} + "
        f"{ts['n_per_class']} images, {len(ts['folds'])} folds).  0.5 means a classifier cannot "
        "tell them apart."
    )


def floor_sentence(report: dict) -> str:
    """Why the histogram error is not read against 0: the ideal generator's error for these sizes."""
    f = ideal_error(report)
    if f is None:
        return ""
    return (
        f".  Histogram error {report['hist_mean_abs_rel_err']:.2f}; a perfect generator of these "
        f"{report['n_real']} real images would score ≈ {f:.2f} with {report['n_generated']} samples "
        "(the real set's own noise: fewer images, higher floor)."
    )


class CompareState(param.Parameterized):
    """The real images' root and split, the comparison shown and the lines said about it."""

    real_root = param.String(default="", doc="Published-layout root of the real images")
    split = param.String(default="")
    comparison = param.Parameter(default=None)
    message = param.String(default="", doc="The status line")
    error = param.String(default="", doc="What went wrong (empty: nothing)")
    two_sample_note = param.String(default="", doc="The two-sample test's line")
    run = param.Event()
    run_two_sample = param.Event()

    def __init__(self, app=None, **params):
        super().__init__(**params)
        self.app = app  # the page's AppSession: its latest Generate run is compared
        if not self.real_root:
            self.real_root = default_real_root()
        if not self.split:
            try:
                splits = list(find_splits(resources.resolve_user_path(self.real_root)))
            except InputError:
                splits = []
            self.split = "TRAIN" if "TRAIN" in splits else (splits[0] if splits else "TRAIN")
        self._uploaded = None
        self._holding: resources.Holding | None = None

    @param.depends("real_root", watch=True)
    def _root_cleared(self) -> None:
        """An emptied box means the default root again, shown (walk 16: it read "." silently)."""
        if not self.real_root.strip():
            self.real_root = default_real_root()

    def show_error(self, text: str) -> None:
        self.error = text

    def _real(self, pre: Preprocessing, label) -> tuple[np.ndarray, Path] | None:
        """The real cut-outs to compare with (of ``label``), and the folder they came from."""
        try:
            root = resources.resolve_user_path(self.real_root)
        except InputError as exc:
            self.error = resources.public_message(str(exc))
            return None
        if pre.band_convention == SINGLE_FREQUENCY:
            root = single_frequency_root()
            if root is None:
                self.error = (
                    "This is a single-frequency model: its real images (Data_for_Gen_Model_Evaluation) "
                    "are not here; set RADIOVIZ_REAL_SINGLE to their folder."
                )
                return None
        try:
            return real_cutouts(str(root), self.split, pre, label), Path(root)
        except InputError as exc:
            self.error = resources.public_message(str(exc))
            return None

    def compare(self, physical: np.ndarray, meta: dict, source: str = "") -> Comparison | None:
        """Compare ``physical`` (Jy/beam) with the real cut-outs of its class; ``source`` names
        where the images came from in the status line."""
        card = resources.generator_cards().get(Path(meta.get("checkpoint", "")).name)
        pre = (card.preprocessing if card else None) or Preprocessing()
        found = self._real(pre, meta.get("label"))
        if found is None:
            return None
        real, root = found
        cards = resources.classifier_cards()
        clf = (
            resources.classifier(resources.CHECKPOINTS / "classifier_A.safetensors")
            if "classifier_A.safetensors" in cards
            else None
        )
        cmp = compare_images(
            real, physical, pre.normalization or generator_normalization(real), classifier_model=clf
        )
        self.error = ""
        self.comparison = cmp
        self.two_sample_note = two_sample_text(cmp.report.get("two_sample"))
        r = cmp.report
        where = root.name if pre.band_convention == SINGLE_FREQUENCY else f"{root.name}/{self.split}"
        self.message = (
            f"{r['n_generated']} generated{f' ({source})' if source else ''} vs {r['n_real']} real "
            f"({where}, {label_words(meta.get('label'))})" + floor_sentence(r)
        )
        return cmp

    @param.depends("run", watch=True)
    def compare_latest(self):
        """Compare the uploaded samples, else the latest Generate run."""
        result = latest_generated(self.app)
        name = Path(result.meta.get("checkpoint", "?")).name if result is not None else ""
        src = self._uploaded or (result and (result.physical, result.meta, f"latest Generate run, {name}"))
        if not src:
            self.message = "Generate images first (Generate tab) or upload a samples .npz."
            return None
        return self.compare(*src)

    @param.depends("run_two_sample", watch=True)
    def two_sample(self) -> dict | None:
        """The classifier two-sample test on the shown comparison (kept in its report)."""
        if self.comparison is None:
            self.two_sample_note = "Press **Compare** first; the two-sample test uses its images."
            return None
        self.two_sample_note = "**Two-sample test:** training…"
        ts = add_two_sample(self.comparison)
        self.two_sample_note = (
            two_sample_text(ts) if ts else "**Two-sample test:** needs at least 2 images in each set."
        )
        return ts

    def upload(self, filename: str, content: bytes) -> bool:
        """Take a samples .npz; its size in bytes is checked first, then what its arrays decode
        to (from their headers, before loading: the upload and session budgets), and errors
        name the user's file.  The arrays are held (and counted against the session) until the
        next upload or the end of the session."""
        import tempfile

        holding = resources.Holding("compare")
        with tempfile.TemporaryDirectory(prefix="radioviz-upload-") as d:
            try:
                p = resources.check_upload([filename], [content], Path(d), holding)[0]
                _, physical, meta = load_samples(p)
            except (InputError, OSError, MemoryError) as exc:
                # a refused file replaces any earlier upload: nothing stays "Loaded" silently
                holding.release()
                self._forget_upload()
                self.message = f"{filename} was not loaded; Compare uses the latest Generate result."
                problem = "out of memory" if isinstance(exc, MemoryError) else str(exc)
                self.error = f"**Upload refused** — {resources.public_message(problem, {d: 'the upload'})}"
                return False
        self._forget_upload()
        self._uploaded, self._holding = (physical, meta, f"uploaded {filename}"), holding
        self.error = ""
        self.message = f"Loaded {filename}: {len(physical)} images. Press Compare."
        return True

    def _forget_upload(self) -> None:
        """Drop the uploaded samples (a new upload, a refusal, the end of the session)."""
        self._uploaded = None
        if self._holding is not None:
            self._holding.release()
            self._holding = None
