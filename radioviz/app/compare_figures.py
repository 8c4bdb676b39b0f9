"""The Compare tab's figures for one comparison: real vs generated pixel histograms (log counts)
with the per-bin relative error beneath, the numbers with what each means (a plain sentence, the
definition a click away: :func:`.teaching.metric_layers`), image mean / std / peak distributions,
spectral indices, the power ratio, and the nearest-training-neighbour pairs.  Drawing only: the
numbers come from :func:`radioviz.metrics.compare.compare_images`."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the .opts below need the bokeh backend registered)
import numpy as np
import panel as pn

from ..display import stretch_image
from ..metrics.compare import Comparison
from ..metrics.compare_plots import GEN_COLOUR, REAL_COLOUR, STAT_UNITS, floor_text
from .teaching import SSIM_SKY, TOGGLE_CSS, metric_guide

#: no toolbar and no active scroll tool: the mouse wheel scrolls the page
QUIET = dict(toolbar=None, default_tools=[], active_tools=[])
#: legends below the plot, never over the curves; a click on an entry hides that curve
LEGEND = dict(legend_position="bottom", legend_opts={"click_policy": "hide"})
#: the typical spectral index of radio-halo synchrotron emission, drawn on the α plot
HALO_ALPHA = -1.3
#: Side of a nearest-neighbour thumbnail's image frame, px.
NN_PX = 120
#: one colour per band in the power-spectrum plot (low to high frequency)
BAND_COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")
PIXEL = "|pixel| (Jy/beam)"
#: width of the numbers column (the table, then how to read each number), px
GUIDE_PX = 560


def visible_counts(counts) -> np.ndarray:
    """Histogram counts for a log axis: empty bins become gaps (NaN), not a floor value."""
    c = np.asarray(counts, dtype=float).copy()
    c[c <= 0] = np.nan
    return c


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


def histogram_plots(report: dict):
    """The non-zero pixels' histograms (step curves: bars start at 0, which a log axis cannot
    draw) and the per-bin relative error beneath, titled with the ideal generator's error."""
    h = report["histogram"]
    edges = np.asarray(h["edges"])
    centres = np.sqrt(edges[:-1] * edges[1:])
    real = hv.Curve((centres, visible_counts(h["counts_real"])), PIXEL, "pixels (count)", label="real")
    gen = hv.Curve(
        (centres, visible_counts(h["counts_gen_scaled"])),
        PIXEL,
        "pixels (count)",
        label="generated (scaled to the real count)",
    )
    hist = (
        real.opts(interpolation="steps-mid", color=REAL_COLOUR, line_width=2)
        * gen.opts(interpolation="steps-mid", color=GEN_COLOUR, line_width=2)
    ).opts(
        logx=True,
        logy=True,
        width=520,
        height=310,
        title=f"non-zero pixels · zero fraction real {report['zero_fraction_real']:.3f} / "
        f"gen {report['zero_fraction_gen']:.3f}",
        **LEGEND,
        **QUIET,
    )
    rel = (
        hv.Curve((centres, h["rel_err"]), PIXEL, "rel. error 2(real−gen)/(real+gen)").opts(color=GEN_COLOUR)
        * hv.HLine(0).opts(color="gray")
    ).opts(
        logx=True,
        width=520,
        height=190,
        ylim=(-2, 2),
        title=f"mean |rel. err| {report['hist_mean_abs_rel_err']:.3f}{floor_text(report)}",  # fits 520 px
        **QUIET,
    )
    return hist, rel


def stat_plots(cmp: Comparison) -> list:
    """Image mean, std and peak: real and generated densities over shared bins."""
    out = []
    for key in ("mean", "std", "peak"):
        both = np.concatenate([cmp.stats_real[key], cmp.stats_gen[key]])
        bins = np.histogram_bin_edges(both, 20)
        dims = dict(kdims=[STAT_UNITS[key]], vdims=["density (per Jy/beam)"])
        out.append(
            (
                hv.Histogram(
                    np.histogram(cmp.stats_real[key], bins, density=True), label="real", **dims
                ).opts(alpha=0.5, color=REAL_COLOUR)
                * hv.Histogram(
                    np.histogram(cmp.stats_gen[key], bins, density=True), label="generated", **dims
                ).opts(alpha=0.5, color=GEN_COLOUR)
            ).opts(width=300, height=270, title=f"image {key}", **LEGEND, **QUIET)
        )
    return out


def alpha_plot(cmp: Comparison):
    """The spectral index α of pixels bright in both end bands, with a typical halo's α."""
    bins = np.linspace(-4, 2, 40)

    def dens(a):
        return np.histogram(a, bins, density=True) if a.size else (np.zeros(len(bins) - 1), bins)

    adims = dict(kdims=["spectral index α (S ∝ ν^α)"], vdims=["density"])
    d_real, d_gen = dens(cmp.alpha_real), dens(cmp.alpha_gen)
    top = float(max(d_real[0].max(), d_gen[0].max(), 0.1))
    return (
        hv.Histogram(d_real, label="real", **adims).opts(alpha=0.5, color=REAL_COLOUR)
        * hv.Histogram(d_gen, label="generated", **adims).opts(alpha=0.5, color=GEN_COLOUR)
        # a vertical curve, not a VLine: a VLine gets no legend entry
        * hv.Curve(
            ([HALO_ALPHA, HALO_ALPHA], [0.0, top]), label=f"typical halo α = {HALO_ALPHA}", **adims
        ).opts(color="green", line_dash="dashed")
    ).opts(width=380, height=290, title="spectral index α, 72–103 vs 170–231 MHz", **LEGEND, **QUIET)


def numbers(report: dict) -> pn.Column:
    """The numbers in a table, then what each means and what a perfect generator would score."""
    fmt = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
    r = report
    kid = r["kid_domain"]
    table = (
        "| metric | value |\n|---|---|\n"
        f"| FID (A features) | {fmt(r['fid_domain'], 2)} |\n"
        f"| KID (A features) | {fmt(kid)}{' (read as 0)' if kid is not None and kid < 0 else ''} |\n"
        f"| nearest-neighbour SSIM max / median (copying check) | {fmt(r['nn_ssim_max'])} / "
        f"{fmt(r['nn_ssim_median'])} |\n"
        f"| A-classifier pass rate ≥ 0.5 / ≥ 0.95 | {fmt(r['classifier_pass_rate_0.5'], 2)} / "
        f"{fmt(r['classifier_pass_rate_0.95'], 2)} |\n"
        f"| median α real / generated | {fmt(r['spectral_index']['median_real'], 2)} / "
        f"{fmt(r['spectral_index']['median_gen'], 2)} |"
    )
    # whole, at its own height: cut to the histograms' height and scrolling within, its clipped
    # last line sat on the α plot's title below, as if the text ran into the plot
    return pn.Column(
        pn.pane.Markdown(table, width=520),
        pn.pane.Markdown(
            "#### How to read these numbers\n\n" + metric_guide(r), width=520, stylesheets=[TOGGLE_CSS]
        ),
        width=GUIDE_PX,
    )


def nn_pairs(cmp: Comparison) -> pn.Row:
    """The four generated images closest to a real one (highest SSIM first), each above it."""

    def thumb(im, title):
        return pn.pane.HoloViews(
            hv.Image(stretch_image(im[0], "asinh")[::-1], bounds=(0, 0, 64, 64)).opts(
                cmap="inferno",
                frame_width=NN_PX,  # square pixels: the frame, not the whole plot
                frame_height=NN_PX,
                xaxis=None,
                yaxis=None,
                title=title,
                **QUIET,
            ),
            linked_axes=False,
            sizing_mode="fixed",
        )

    order = np.argsort(-cmp.nn_ssim)[:4]
    return pn.Row(
        *[
            pn.Column(
                thumb(cmp.gen[i], f"#{i} SSIM {cmp.nn_ssim[i]:.2f}"),
                thumb(cmp.nn_images[i], "nearest real"),
                width=NN_PX + 60,  # side by side, not spread over the page
            )
            for i in order
        ]
    )


def comparison_figures(cmp: Comparison) -> pn.Column:
    """Every figure of one comparison, laid out."""
    r = cmp.report
    hist, rel = histogram_plots(r)
    plot = lambda p: pn.pane.HoloViews(p, linked_axes=False)  # noqa: E731
    # the plots the guide speaks of first (pixels, α, power) in one column beside it, about as
    # tall; the image statistics in a row below both: 1 100 px wide at most, so whole at 1280
    figures = pn.Column(
        plot(hist),
        plot(rel),
        plot(alpha_plot(cmp)),
        *([plot(power_ratio_plot(r["structure"]))] if r.get("structure") else []),
    )
    return pn.Column(
        pn.Row(figures, numbers(r)),
        pn.Row(*[plot(d) for d in stat_plots(cmp)]),
        pn.pane.Markdown(
            "**Nearest training neighbours** (highest SSIM first; a copy would show as SSIM ≥ 0.95). "
            + SSIM_SKY
        ),
        nn_pairs(cmp),
    )
