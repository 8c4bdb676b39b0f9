"""The Compare view: real vs generated pixel histograms (log counts) with the per-bin relative
error beneath, image mean / std / peak distributions, spectral indices, domain FID/KID and the
nearest-training-neighbour pairs.  All numbers come from :func:`radioviz.metrics.compare.compare_images`."""

from __future__ import annotations

import os
from pathlib import Path

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the .opts below need the bokeh backend registered)
import numpy as np
import panel as pn
import param

from ..data.preprocess import Preprocessing, generator_normalization
from ..data.single_frequency import SINGLE_FREQUENCY
from ..display import stretch_image
from ..errors import InputError
from ..io.layout import find_splits
from ..metrics.compare import (
    FID_NOTE,
    Comparison,
    add_two_sample,
    compare_images,
    load_samples,
    real_cutouts,
)
from ..metrics.compare_plots import GEN_COLOUR, REAL_COLOUR, STAT_UNITS, floor_text, ideal_error
from . import resources
from .describe import label_text
from .uploads import dropper

#: no toolbar and no active scroll tool: the mouse wheel scrolls the page
QUIET = dict(toolbar=None, default_tools=[], active_tools=[])
#: legends below the plot, never over the curves; a click on an entry hides that curve
LEGEND = dict(legend_position="bottom", legend_opts={"click_policy": "hide"})
#: the typical spectral index of radio-halo synchrotron emission, drawn on the α plot
HALO_ALPHA = -1.3


def visible_counts(counts) -> np.ndarray:
    """Histogram counts for a log axis: empty bins become gaps (NaN), not a floor value."""
    c = np.asarray(counts, dtype=float).copy()
    c[c <= 0] = np.nan
    return c


def label_words(label) -> str:
    """How the compared label reads in the header: 'all labels' when the run had none."""
    return "all labels" if label is None else f"label {label_text(label).split(':')[0]}"


SHARED_GLEAM = resources.REPO.parent / "shared" / "data" / "GLEAM-Data"
SHARED_SINGLE = resources.REPO.parent / "shared" / "data" / "Data_for_Gen_Model_Evaluation"


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


#: Side of a nearest-neighbour thumbnail's image frame, px.
NN_PX = 120
#: one colour per band in the power-spectrum plot (low to high frequency)
BAND_COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")


def power_ratio_plot(structure: dict):
    """Generated over real power per spatial frequency, one curve per band, on a log axis: the
    ideal generator's p10–p90 shaded, 1 (the target) and each band's beam cut-off dashed."""
    edges = np.asarray(structure["freq_edges"], dtype=float)
    f = 0.5 * (edges[:-1] + edges[1:])
    arr = lambda v: np.array([np.nan if x is None else x for x in v], dtype=float)  # noqa: E731
    kd, vd = "spatial frequency (cycles/pixel)", "power ratio generated / real"
    names = structure.get("bands") or [f"band {i + 1}" for i in range(len(structure["power_ratio"]))]
    cuts = structure.get("beam_cutoff_cycles_per_px") or []
    layers = [hv.HLine(1.0).opts(color="gray", line_width=1)]
    for b, name in enumerate(names):
        col = BAND_COLOURS[b % len(BAND_COLOURS)]
        lo, hi = arr(structure["power_ratio_ideal_p10"][b]), arr(structure["power_ratio_ideal_p90"][b])
        layers.append(hv.Area((f, lo, hi), kd, [vd, "p90"]).opts(color=col, alpha=0.12, line_alpha=0))
        layers.append(
            hv.Curve((f, arr(structure["power_ratio"][b])), kd, vd, label=name).opts(color=col, line_width=2)
        )
        if b < len(cuts):
            layers.append(hv.VLine(cuts[b]).opts(color=col, line_dash="dashed", line_width=1))
    return hv.Overlay(layers).opts(
        logy=True,
        xlabel=kd,
        ylabel=vd,
        width=520,
        height=310,
        title="power ratio · shaded: ideal generator · dashed: beam",
        **LEGEND,
        **QUIET,
    )


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


def _floor_sentence(report: dict) -> str:
    """Why the histogram error is not read against 0: the ideal generator's error for these sizes."""
    f = ideal_error(report)
    if f is None:
        return ""
    return (
        f".  Histogram error {report['hist_mean_abs_rel_err']:.2f}; a perfect generator of these "
        f"{report['n_real']} real images would score ≈ {f:.2f} with {report['n_generated']} samples "
        "(the real set's own noise: fewer images, higher floor)."
    )


class CompareView(pn.viewable.Viewer):
    real_root = param.String(default="", doc="Published-layout root of the real images")
    split = param.String(default="")
    comparison = param.Parameter(default=None)
    run = param.Event()
    run_two_sample = param.Event()

    def __init__(self, generate_view=None, **params):
        super().__init__(**params)
        self.generate_view = generate_view
        if not self.real_root:
            self.real_root = default_real_root()
        if not self.split:
            try:
                splits = list(find_splits(resources.resolve_user_path(self.real_root)))
            except InputError:
                splits = []
            self.split = "TRAIN" if "TRAIN" in splits else (splits[0] if splits else "TRAIN")
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False)
        self.status = pn.pane.Markdown("")
        self.two_sample_line = pn.pane.Markdown("")
        self._uploaded = None
        self._holding: resources.Holding | None = None

    def compare(self, physical: np.ndarray, meta: dict, source: str = "") -> Comparison | None:
        """Compare ``physical`` (Jy/beam) with the real cut-outs of its class; ``source`` names
        where the images came from in the status line."""
        card = resources.generator_cards().get(Path(meta.get("checkpoint", "")).name)
        pre = (card.preprocessing if card else None) or Preprocessing()
        try:
            root = str(resources.resolve_user_path(self.real_root))
        except InputError as exc:
            self.alert.object, self.alert.visible = resources.public_message(str(exc)), True
            return None
        if pre.band_convention == SINGLE_FREQUENCY:
            root = single_frequency_root()
            if root is None:
                self.alert.object, self.alert.visible = (
                    "This is a single-frequency model: its real images (Data_for_Gen_Model_Evaluation) "
                    "are not here; set RADIOVIZ_REAL_SINGLE to their folder.",
                    True,
                )
                return None
        try:
            real = real_cutouts(root, self.split, pre, meta.get("label"))
        except InputError as exc:
            self.alert.object, self.alert.visible = resources.public_message(str(exc)), True
            return None
        cards = resources.classifier_cards()
        clf = (
            resources.classifier(resources.CHECKPOINTS / "classifier_A.safetensors")
            if "classifier_A.safetensors" in cards
            else None
        )
        cmp = compare_images(
            real, physical, pre.normalization or generator_normalization(real), classifier_model=clf
        )
        self.alert.visible = False
        self.comparison = cmp
        self.two_sample_line.object = two_sample_text(cmp.report.get("two_sample"))
        r = cmp.report
        where = (
            Path(root).name if pre.band_convention == SINGLE_FREQUENCY else f"{Path(root).name}/{self.split}"
        )
        self.status.object = (
            f"{r['n_generated']} generated{f' ({source})' if source else ''} vs {r['n_real']} real "
            f"({where}, {label_words(meta.get('label'))})" + _floor_sentence(r)
        )
        return cmp

    @param.depends("run", watch=True)
    def compare_latest(self):
        result = getattr(self.generate_view, "result", None)
        src = self._uploaded or (
            result
            and (
                result.physical,
                result.meta,
                f"latest Generate run, {Path(result.meta.get('checkpoint', '?')).name}",
            )
        )
        if not src:
            self.status.object = "Generate images first (Generate tab) or upload a samples .npz."
            return None
        return self.compare(*src)

    @param.depends("run_two_sample", watch=True)
    def two_sample(self) -> dict | None:
        """The classifier two-sample test on the shown comparison (kept in its report)."""
        if self.comparison is None:
            self.two_sample_line.object = "Press **Compare** first; the two-sample test uses its images."
            return None
        self.two_sample_line.object = "**Two-sample test:** training…"
        ts = add_two_sample(self.comparison)
        self.two_sample_line.object = (
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
                self.status.object = f"{filename} was not loaded; Compare uses the latest Generate result."
                problem = "out of memory" if isinstance(exc, MemoryError) else str(exc)
                self.show_error(
                    f"**Upload refused** — {resources.public_message(problem, {d: 'the upload'})}"
                )
                return False
        self._forget_upload()
        self._uploaded, self._holding = (physical, meta, f"uploaded {filename}"), holding
        self.alert.visible = False
        self.status.object = f"Loaded {filename}: {len(physical)} images. Press Compare."
        return True

    def _forget_upload(self) -> None:
        """Drop the uploaded samples (a new upload, a refusal, the end of the session)."""
        self._uploaded = None
        if self._holding is not None:
            self._holding.release()
            self._holding = None

    def show_error(self, text: str):
        self.alert.object, self.alert.visible = text, True

    @param.depends("comparison")
    def plots(self):
        cmp = self.comparison
        if cmp is None:
            return pn.pane.Markdown(
                "Press **Compare** to compare the latest generated images with real ones."
            )
        r, h = cmp.report, cmp.report["histogram"]
        edges = np.asarray(h["edges"])
        centres = np.sqrt(edges[:-1] * edges[1:])
        # step curves, not bars: bars start at 0, which a log axis cannot draw
        real = hv.Curve(
            (centres, visible_counts(h["counts_real"])), "|pixel| (Jy/beam)", "pixels (count)", label="real"
        ).opts(interpolation="steps-mid", color=REAL_COLOUR, line_width=2)
        gen = hv.Curve(
            (centres, visible_counts(h["counts_gen_scaled"])),
            "|pixel| (Jy/beam)",
            "pixels (count)",
            label="generated (scaled to the real count)",
        ).opts(interpolation="steps-mid", color=GEN_COLOUR, line_width=2)
        hist = (real * gen).opts(
            logx=True,
            logy=True,
            width=520,
            height=310,
            title=f"non-zero pixels · zero fraction real {r['zero_fraction_real']:.3f} / "
            f"gen {r['zero_fraction_gen']:.3f}",
            **LEGEND,
            **QUIET,
        )
        rel = (
            hv.Curve((centres, h["rel_err"]), "|pixel| (Jy/beam)", "rel. error 2(real−gen)/(real+gen)").opts(
                color=GEN_COLOUR
            )
            * hv.HLine(0).opts(color="gray")
        ).opts(
            logx=True,
            width=520,
            height=190,
            ylim=(-2, 2),
            title=f"mean |rel. err| {r['hist_mean_abs_rel_err']:.3f}{floor_text(r)}",  # fits 520 px
            **QUIET,
        )
        dists = []
        for key in ("mean", "std", "peak"):
            both = np.concatenate([cmp.stats_real[key], cmp.stats_gen[key]])
            bins = np.histogram_bin_edges(both, 20)
            dims = dict(kdims=[STAT_UNITS[key]], vdims=["density (per Jy/beam)"])
            dists.append(
                (
                    hv.Histogram(
                        np.histogram(cmp.stats_real[key], bins, density=True), label="real", **dims
                    ).opts(alpha=0.5, color=REAL_COLOUR)
                    * hv.Histogram(
                        np.histogram(cmp.stats_gen[key], bins, density=True), label="generated", **dims
                    ).opts(alpha=0.5, color=GEN_COLOUR)
                ).opts(width=300, height=270, title=f"image {key}", **LEGEND, **QUIET)
            )
        bins = np.linspace(-4, 2, 40)

        def dens(a):
            return np.histogram(a, bins, density=True) if a.size else (np.zeros(len(bins) - 1), bins)

        adims = dict(kdims=["spectral index α (S ∝ ν^α)"], vdims=["density"])
        d_real, d_gen = dens(cmp.alpha_real), dens(cmp.alpha_gen)
        top = float(max(d_real[0].max(), d_gen[0].max(), 0.1))
        alpha = (
            hv.Histogram(d_real, label="real", **adims).opts(alpha=0.5, color=REAL_COLOUR)
            * hv.Histogram(d_gen, label="generated", **adims).opts(alpha=0.5, color=GEN_COLOUR)
            # a vertical curve, not a VLine: a VLine gets no legend entry
            * hv.Curve(
                ([HALO_ALPHA, HALO_ALPHA], [0.0, top]), label=f"typical halo α = {HALO_ALPHA}", **adims
            ).opts(color="green", line_dash="dashed")
        ).opts(
            width=380,
            height=290,
            title="spectral index α, 72–103 vs 170–231 MHz",
            **LEGEND,
            **QUIET,
        )
        fmt = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
        numbers = pn.pane.Markdown(
            "| metric | value |\n|---|---|\n"
            f"| FID (A features) | {fmt(r['fid_domain'], 2)} |\n"
            f"| KID (A features) | {fmt(r['kid_domain'])} |\n"
            f"| nearest-neighbour SSIM max / median | {fmt(r['nn_ssim_max'])} / "
            f"{fmt(r['nn_ssim_median'])} |\n"
            f"| A-classifier pass rate ≥ 0.5 / ≥ 0.95 | {fmt(r['classifier_pass_rate_0.5'], 2)} / "
            f"{fmt(r['classifier_pass_rate_0.95'], 2)} |\n"
            f"| median α real / generated | {fmt(r['spectral_index']['median_real'], 2)} / "
            f"{fmt(r['spectral_index']['median_gen'], 2)} |\n\n{FID_NOTE}",
            width=520,
        )
        order = np.argsort(-cmp.nn_ssim)[:4]
        pairs = [
            pn.Column(
                *[
                    pn.pane.HoloViews(
                        hv.Image(stretch_image(im[0], "asinh")[::-1], bounds=(0, 0, 64, 64)).opts(
                            cmap="inferno",
                            frame_width=NN_PX,  # square pixels: the frame, not the whole plot
                            frame_height=NN_PX,
                            xaxis=None,
                            yaxis=None,
                            title=t,
                            **QUIET,
                        ),
                        linked_axes=False,
                        sizing_mode="fixed",
                    )
                    for im, t in (
                        (cmp.gen[i], f"#{i} SSIM {cmp.nn_ssim[i]:.2f}"),
                        (cmp.nn_images[i], "nearest real"),
                    )
                ],
                width=NN_PX + 60,  # side by side, not spread over the page
            )
            for i in order
        ]
        return pn.Column(
            pn.Row(
                pn.Column(
                    pn.pane.HoloViews(hist, linked_axes=False), pn.pane.HoloViews(rel, linked_axes=False)
                ),
                numbers,
            ),
            pn.Row(
                *[pn.pane.HoloViews(d, linked_axes=False) for d in dists],
                pn.pane.HoloViews(alpha, linked_axes=False),
            ),
            *(
                [pn.pane.HoloViews(power_ratio_plot(r["structure"]), linked_axes=False)]
                if r.get("structure")
                else []
            ),
            pn.pane.Markdown(
                "**Nearest training neighbours** (highest SSIM first; memorisation shows as SSIM ≥ 0.95)"
            ),
            pn.Row(*pairs),
        )

    def __panel__(self):
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda ctx: self._forget_upload())
        up = dropper(lambda names, data: self.upload(names[0], data[0]), self.show_error)
        controls = pn.Row(
            pn.widgets.TextInput.from_param(self.param.real_root, label="Real data root", width=420),
            pn.widgets.TextInput.from_param(self.param.split, label="Split", width=100),
            pn.Column(pn.pane.Markdown("Samples .npz (optional; default: the latest Generate result)"), up),
            pn.widgets.Button.from_param(self.param.run, label="Compare", color="primary", align="end"),
            pn.widgets.Button.from_param(self.param.run_two_sample, label="Two-sample test", align="end"),
        )
        return pn.Column(
            self.alert, controls, self.status, self.two_sample_line, self.plots, sizing_mode="stretch_width"
        )
