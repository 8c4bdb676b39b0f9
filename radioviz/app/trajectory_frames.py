"""What the Trajectory tab's frames show: every recorded step of the shown run, prepared once per
run, band and colour scale and sent to the browser as one cache; the browser's code that draws a
frame from it; and the process plot (when the picture is made, with the current step marked).

The default scale shows every stage: on one fixed −1…1 scale steps 1–15 of Heun-25 looked alike
(x_t saturated noise, x̂0 a flat grey, since the model's images are faint in [−1, 1]).  Here
x_t is on its own symmetric range (stated in its corner beside the fixed scale's ±1) and x̂0 in
Jy/beam on the final image's asinh stretch, as the Fields tab shows data, so frames compare.
"""

from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, CustomJS, Legend, Range1d, Span
from bokeh.plotting import figure

from ..display import stretch_limits, stretch_values
from ..sampling.landmarks import LAYOUT_LEVEL, PEAK_TOLERANCE, XT_LEVEL, Landmarks
from ..sampling.trajectory import Trajectory
from .image_panel import TOOLS
from .jobs import on_session
from .sky import colorbar_opts
from .teaching import SCALE_HELP, SCALES, notice, share_of  # noqa: F401 (SCALE_HELP, SCALES re-exported)
from .trajectory_run import TrajectoryRun, data_scale, flux_of

HIST_BINS = 60
STRETCH = "asinh"


def symmetric(a: np.ndarray) -> tuple[float, float]:
    m = float(np.abs(a).max()) or 1e-6
    return -m, m


def _span(a: np.ndarray) -> tuple[float, float]:
    return float(a.min()), float(a.max())


class _Levels:
    """x̂0 of one run as display levels: the asinh stretch with the final image's limits, in
    Jy/beam when the model's normalisation can be inverted (else on the model's scale)."""

    def __init__(self, traj: Trajectory, band: int, norm):
        final = traj.samples[0]
        flux = flux_of(norm, final)
        self.norm, self.band = norm, band
        self.final = (flux if flux is not None else final)[band]
        self.in_flux = flux is not None
        self.limits = stretch_limits(self.final)

    def __call__(self, x0_all_bands: np.ndarray) -> np.ndarray:
        img = flux_of(self.norm, x0_all_bands) if self.in_flux else x0_all_bands
        return stretch_values(img[self.band], STRETCH, *self.limits)

    def colorbar(self) -> dict | None:
        """Ticks at round Jy/beam values (None on the model's scale: plain levels)."""
        return colorbar_opts(self.final, STRETCH, 99.5) if self.in_flux else None


def _show(traj: Trajectory, k: int, band: int, scale: str, levels: _Levels | None):
    """(x_t, its limits, x̂0, its limits) of step k as drawn."""
    x, x0 = data_scale(traj, k)[band], traj.denoised[k][0, band]
    if scale == "fixed":
        return x, (-1.0, 1.0), x0, (-1.0, 1.0)
    if scale == "frame":
        return x, _span(x), x0, _span(x0)
    return x, symmetric(x), levels(traj.denoised[k][0]), (0.0, 1.0)


def frame_cache(
    run: TrajectoryRun, band: int, scale: str, hist_range: tuple[float, float], pair: list
) -> tuple[dict, list[dict | None]]:
    """(the browser's cache: per step the three images and their limits, corner words, the step
    line, the computed "What to notice" text, the histogram, the pair's four images; the
    colorbars of x̂0 and of the pair's two x̂0 when shown as levels).  ``pair``: (title,
    trajectory, band) of the two-conditioning runs, made by the shown run's model."""
    traj, n = run.trajectory, len(run.trajectory)
    lm = run.landmarks(band)
    stages = scale == "stages"
    levels = _Levels(traj, band, run.normalization) if stages else None
    unit = "Jy/beam" if levels is None or levels.in_flux else "model scale"
    keys = ("xt", "x0", "diff", "hist", "title_xt", "title_x0", "title_diff")
    data: dict[str, list] = {key: [] for key in keys}
    for key in ("xt", "x0", "diff"):
        data[f"{key}_lo"], data[f"{key}_hi"] = [], []
    for k in range(n):
        x, xl, x0, x0l = _show(traj, k, band, scale, levels)
        d = traj.denoised[k][0, band] - x
        dl = (-2.0, 2.0) if scale == "fixed" else symmetric(d)
        for key, img, lim in (("xt", x, xl), ("x0", x0, x0l), ("diff", d, dl)):
            data[key].append(np.asarray(img, np.float32))
            data[f"{key}_lo"].append(lim[0])
            data[f"{key}_hi"].append(lim[1])
        data["hist"].append(np.histogram(x, HIST_BINS, range=hist_range)[0].astype(np.float32))
        corner = f"step {k + 1}/{n}"
        data["title_xt"].append(corner + (f" · colours ±{xl[1]:.3g} (fixed: ±1)" if stages else ""))
        peak = f"peak {share_of(lm.peak_fraction[k], 'final')} ({lm.final_peak:.3g} {unit})"
        data["title_x0"].append(peak)
        data["title_diff"].append(f"max |Δ| = {np.abs(d).max():.3g}")
    data["text"] = [_step_words(run, k) for k in range(n)]
    data["notice"] = [notice(k, lm) for k in range(n)]
    bars = [levels.colorbar() if levels else None]
    for j, (title, ptraj, pband) in enumerate(pair[:2]):
        plevels = _Levels(ptraj, pband, run.normalization) if stages else None
        bars.append(plevels.colorbar() if plevels else None)
        shown = [_show(ptraj, min(k, len(ptraj) - 1), pband, scale, plevels) for k in range(n)]
        for i, (what, pos) in enumerate((("x_t", 0), ("x̂0", 2))):
            key = f"p{2 * j + i}"
            data[key] = [np.asarray(s[pos], np.float32) for s in shown]
            data[f"{key}_lo"] = [s[pos + 1][0] for s in shown]
            data[f"{key}_hi"] = [s[pos + 1][1] for s in shown]
            data[f"{key}_title"] = [f"{title}: {what}"] * n
    for j in range(2 * len(pair[:2]), 4):
        data[f"p{j}"] = [np.zeros((1, 1), np.float32)] * n
        data[f"p{j}_lo"], data[f"p{j}_hi"], data[f"p{j}_title"] = [0.0] * n, [1.0] * n, [""] * n
    return data, bars


def _step_words(run: TrajectoryRun, k: int) -> str:
    t = run.trajectory
    sig = t.sigmas[k]
    snr = (run.signal_sigma / max(sig, 1e-8)) ** 2  # as the schedule plot draws it
    words = f"step {k + 1}/{len(t)} · σ = {sig:.4g} · SNR = {snr:.3g}"
    if t.ts:  # the run's own model's schedule, whatever model is picked now
        a = float(run.schedule.alphas_cumprod[t.ts[k]])
        words += f" · t = {t.ts[k]} · ᾱ_t = {a:.3g}"
    return words


class ProcessPlot:
    """The landmarks of the shown run against the step: x̂0's peak ÷ its final peak, and x_t's and
    x̂0's correlation with the final image, their thresholds dotted, the current step marked
    (moved by the browser's frame code, like the schedule's marker)."""

    def __init__(self, width: int = 360, height: int = 310):
        self.source = ColumnDataSource({"step": [], "peak": [], "xt": [], "x0": []}, name="traj_process")
        f = figure(
            width=width,
            height=height,
            tools=TOOLS,
            toolbar_location=None,
            title="when the picture is made",
            x_range=Range1d(0.5, 1.5),
            y_range=Range1d(-0.05, 1.1),
            name="traj_process_figure",
        )
        lines = [
            ("x̂0 peak ÷ final peak", "peak", "#e6550d", "solid"),
            ("x̂0 vs final: r", "x0", "#31a354", "solid"),
            ("x_t vs final: r", "xt", "#333333", "dashed"),
        ]
        items = []
        for label, key, colour, dash in lines:
            r = f.line("step", key, source=self.source, color=colour, line_width=2, line_dash=dash)
            items.append((label, [r]))
        # the dotted lines said in the legend too (walk 16: unlabelled), an entry with no data
        key = f.line([], [], color="#777777", line_width=1, line_dash="dotted")
        items.append(("dotted: each curve's threshold (same colour)", [key]))
        # below the plot, where it covers no curve (walk 16: it hid the early steps)
        legend = Legend(items=items, label_text_font_size="10px", padding=2, spacing=0, margin=2)
        legend.label_height = legend.glyph_height = 12
        f.add_layout(legend, "below")
        thresholds = ((1 - PEAK_TOLERANCE, "#e6550d"), (LAYOUT_LEVEL, "#31a354"), (XT_LEVEL, "#333333"))
        spans = [Span(location=v, dimension="width", line_color=c, line_dash="dotted") for v, c in thresholds]
        for span in spans:
            f.add_layout(span)
        self.xt_span = spans[-1]  # moved to each run's own x_t threshold (landmarks.xt_threshold)
        f.xaxis.axis_label, f.yaxis.axis_label = "recorded step", "fraction  /  correlation r"
        self.marker = Span(
            location=1, dimension="height", line_color="black", line_width=2, name="traj_process_marker"
        )
        f.add_layout(self.marker)
        self.marker.syncable = False  # moved in the browser on every frame
        self.figure = f

    def show(self, lm: Landmarks, step: int) -> None:
        """Draw ``lm`` (steps 1…n on the x axis), the marker at ``step`` (1-based)."""
        n = len(lm)
        data = {
            "step": list(range(1, n + 1)),
            "peak": np.asarray(lm.peak_fraction, float).tolist(),
            "xt": np.asarray(lm.xt_correlation, float).tolist(),
            "x0": np.asarray(lm.x0_correlation, float).tolist(),
        }
        values = np.concatenate([data["peak"], data["xt"], data["x0"], [0.0, 1.0]])
        # an overshoot (an early DDPM x̂0 at many times its final peak) runs off the top
        lo, hi = max(float(values.min()), -1.0), min(float(values.max()), 2.0)

        def push():
            self.figure.x_range.update(start=0.5, end=n + 0.5)
            self.figure.y_range.update(start=lo - 0.05, end=hi + 0.1)
            self.source.data = data
            self.marker.location = step
            self.xt_span.location = lm.xt_threshold

        on_session(push, self.figure)


#: the browser side of a frame change: index the cached frames, update the plots and markers
FRAME_JS = """
const f = cache.data;
const n = f.xt ? f.xt.length : 0;
if (!n) return;
const k = Math.max(0, Math.min(slider.value - 1, n - 1));
const keys = ['xt', 'x0', 'diff'];
for (let i = 0; i < 3; i++) {
  srcs[i].data = {image: [f[keys[i]][k]]};
  const lo = f[keys[i] + '_lo'][k], hi = f[keys[i] + '_hi'][k];
  if (maps[i].low !== lo || maps[i].high !== hi) maps[i].setv({low: lo, high: hi});
}
titles[0].text = f.title_xt[k];
titles[1].text = f.title_x0[k];
titles[2].text = f.title_diff[k];
hist.data = {top: f.hist[k], left: hist.data.left, right: hist.data.right};
for (const m of markers) m.location = k + 1;
info.text = f.text[k];
note.text = f.notice[k];
for (let j = 0; j < 4; j++) {
  if (f['p' + j][k].length < 2) continue;
  psrcs[j].data = {image: [f['p' + j][k]]};
  const lo = f['p' + j + '_lo'][k], hi = f['p' + j + '_hi'][k];
  if (pmaps[j].low !== lo || pmaps[j].high !== hi) pmaps[j].setv({low: lo, high: hi});
  ptitles[j].text = f['p' + j + '_title'][k];
}
"""


def frame_js(args: dict) -> CustomJS:
    """:data:`FRAME_JS` with its models: cache, srcs/maps/titles (x_t, x̂0, difference), hist,
    markers (schedule and process plot), info, note, slider, psrcs/pmaps/ptitles (the pair)."""
    return CustomJS(args=args, code=FRAME_JS)
