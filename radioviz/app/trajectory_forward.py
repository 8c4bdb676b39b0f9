"""The forward (noising) process of the Trajectory tab: a real field's central cut-out x0 and
x = a·x0 + b·n at the chosen noise level, with the picked model's own schedule, as the two
panels show them on the tab's colour scale.  No UI: the view only draws what this returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.preprocess import Preprocessing
from ..display import stretch_image
from . import resources
from .field_choices import FOLLOW
from .sky import colorbar_opts
from .trajectory_frames import symmetric


@dataclass
class ForwardPicture:
    """What the forward process's panels show: images with their colour limits, x0's colorbar
    (None: plain grey levels) and the line of words; ``x0`` is None when the field cannot be read."""

    text: str
    x0: np.ndarray | None = None
    x0_limits: tuple[float, float] = (0.0, 1.0)
    x0_title: str = "x0"
    xt: np.ndarray | None = None
    xt_limits: tuple[float, float] = (0.0, 1.0)
    bar: dict | None = None


def forward_picture(state, noise: np.ndarray) -> ForwardPicture:
    """The forward process for ``state`` (a :class:`~.trajectory_state.TrajectoryState`): its
    forward field, noise level, band and scale; ``noise`` (4, 64, 64) is the session's fixed n."""
    src = state.forward_source()
    if src is None:
        return ForwardPicture("No field for the forward process (open one in the Fields tab).")
    card = state.card()
    pre = card.preprocessing or Preprocessing()
    try:
        cut = resources.central_cutout(*src)
    except Exception as exc:  # noqa: BLE001 - any unreadable field: say so, keep the view
        return ForwardPicture(
            f"Cannot use {src[1]} for the forward process: {resources.public_message(str(exc))}"
        )
    if len(pre.bands) == 1:
        cut = cut[2:3]  # a single-frequency model: the 139–170 MHz band (it holds 154 MHz)
    x0 = pre.normalization.to_model(cut[None])[0]
    text, a, b = state.forward_level()
    xt = a * x0 + b * noise[: len(x0)]
    band = min(state.band_index(), len(x0) - 1)
    shown0, bar = x0[band], None
    if state.scale == "fixed":  # one colour scale for both, so the added noise is what differs
        both = np.concatenate([x0[band].ravel(), xt[band].ravel()])
        lim0 = lim1 = (float(both.min()), float(both.max()))
    elif state.scale == "frame":
        lim0 = (float(x0[band].min()), float(x0[band].max()))
        lim1 = (float(xt[band].min()), float(xt[band].max()))
    else:  # as the main panels: x0 in Jy/beam on its asinh stretch, x_t on its symmetric range
        flux = cut[min(band, len(cut) - 1)]
        shown0, lim0, lim1 = stretch_image(flux, "asinh"), (0.0, 1.0), symmetric(xt[band])
        bar = colorbar_opts(flux, "asinh", 99.5)
    unit = f"; {bar['title']}, asinh" if bar else ""
    if state.forward_field == FOLLOW:
        where = "the Fields tab's field"
    elif Path(src[0]).resolve() == resources.SAMPLE_DATA.resolve():
        where = "a bundled field"
    else:
        where = f"in {resources.shown_path(src[0])}"
    return ForwardPicture(
        f"{text} · x0 = {src[1]} ({where}), band {state.band}",
        shown0,
        lim0,
        f"x0 (field {src[1]}{unit})",
        xt[band],
        lim1,
        bar,
    )
