"""The Generate view: pick a generator, set only the conditions it accepts, generate with
progress and Cancel, look at the gallery (each image with its classifier score) and download.

What the tab holds and runs is :class:`~.generate_state.GenerateState` (no widgets, tested
alone); this view draws it: the controls (built once, hidden or disabled as the model and the
choices say), the mask canvas, the gallery and the downloads.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import panel as pn
import param

from ..data.conditions import derive_mask, read_mask
from ..data.flux import peak_flux
from ..display import stretch_image
from ..errors import InputError
from . import resources
from .buttons import cancel_button
from .checked_input import Refusals
from .describe import conditioning_text
from .export import samples_fits, samples_npz
from .gallery import Gallery
from .generate_controls import build_controls
from .generate_state import NONE, GenerateState
from .mask_canvas import MaskCanvas

__all__ = ["NONE", "GenerateView", "samples_fits", "samples_npz"]

GALLERY_HELP = (
    "Press **Generate**. Images show the first band (72–103 MHz; the only one for "
    "single-frequency models) with an asinh stretch; the score is the shipped A "
    "classifier's halo score (4-band models only)."
)


class GenerateView(GenerateState, pn.viewable.Viewer):
    """``app``: the page's :class:`~.state.AppSession` (the Fields tab's folder is offered first)."""

    def __init__(self, data_dir: str | None = None, fields_view=None, app=None, **params):
        self.canvas = MaskCanvas()
        super().__init__(data_dir, fields_view, app, **params)
        # a cleared canvas holds no field's mask: the picker must not go on naming one (walk 14)
        self.canvas.param.watch(lambda e: setattr(self, "mask_field", NONE), "clear")
        self.progress = pn.indicators.Progress(
            value=self.param.percent, max=100, visible=self.param.busy, sizing_mode="stretch_width"
        )
        self.status = pn.pane.Markdown(self.param.message, sizing_mode="stretch_width")
        self._refusals = Refusals(self, "message")  # what a number box refused, until a valid value
        self.alert = pn.pane.Alert(
            self.param.error,
            alert_type="danger",
            visible=self.param.error.rx.bool(),
            sizing_mode="stretch_width",
        )
        self.run_button = pn.widgets.Button.from_param(
            self.param.run, label="Generate", color="primary", disabled=self.param.busy
        )
        # disabled in the browser the moment it is clicked (a double click starts one run); the
        # server re-enables it when the run ends
        self.run_button.js_on_click(args={"b": self.run_button}, code="b.disabled = true")
        self.cancel_button = cancel_button(self.param.busy, self.param.cancel)
        self._make_downloads()
        self.gallery_view = Gallery()
        self.gallery_view.empty(GALLERY_HELP)
        self._gallery_layout = self.gallery_view.layout()
        self._controls = build_controls(self)

    def drawn_mask(self) -> np.ndarray | None:
        return self.canvas.mask

    def show_error(self, text: str):
        self.error = text

    def clear_error(self):
        self.error = ""

    @param.depends("busy", watch=True)
    def _busy_changed(self):
        """A run started: the "Press Generate" help is done with; it ended with nothing: back."""
        if not hasattr(self, "gallery_view"):
            return
        if self.busy:
            self.gallery_view.placeholder.visible = False
        elif self.result is None:
            self.gallery_view.empty(GALLERY_HELP)

    @param.depends("mask_field", watch=True)
    def _derive_mask(self):
        """A field's mask under the drawing: derived with photutils, or the simulator's truth."""
        if self.mask_field == NONE:
            return
        folder, name, kind = self.mask_field
        try:
            if kind == "truth":
                self.canvas.set_base(resources.truth_mask(folder, name))
            else:
                self.canvas.set_base(derive_mask(resources.central_cutout(folder, name)))
        except InputError as exc:
            self.show_error(f"Cannot take the mask of {name}: {resources.public_message(str(exc))}")

    def load_mask_file(self, filename: str, content: bytes) -> bool:
        """A mask file from the browser: kept under the user's file name in a temporary folder
        (so every message names that file, never the folder), its size checked first."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="radioviz-upload-") as d:
            try:
                p = resources.check_upload([filename], [content], Path(d))[0]
                m = read_mask(p)
            except (InputError, OSError) as exc:
                self.show_error(resources.public_message(str(exc), {d: "the upload"}))
                return False
        self.canvas.set_base(m)
        self.mask_field = NONE  # the file's mask is under the drawing now, not a field's
        self.clear_error()
        return True

    @param.depends("result", watch=True)
    def _show_result(self):
        """The gallery's tiles for the latest run, replaced in place (one data change)."""
        g = self.result
        if hasattr(self, "npz_download"):
            self._set_downloads()
        if g is None:
            self.gallery_view.empty(GALLERY_HELP)
            return
        peaks = peak_flux(g.physical)  # as the flux condition defines it: brightest pixel, any band
        card = resources.generator_cards().get(Path(g.meta["checkpoint"]).name)
        bands = list(getattr(getattr(card, "preprocessing", None), "bands", None) or [])
        where = g.physical.reshape(*g.physical.shape[:2], -1).max(axis=2).argmax(axis=1)

        def band_of(i: int) -> str:  # the tile shows the first band; the peak may be in another
            return f" ({bands[where[i]]})" if len(bands) > 1 and where[i] < len(bands) else ""

        titles = [
            f"#{i}"
            + (f" · score {self.scores[i]:.2f}" if self.scores is not None else "")
            + f"\npeak {peaks[i]:.3g} Jy/beam{band_of(i)}"  # a second line: one was wider than the tile
            for i in range(len(g.physical))
        ]
        shown = f" · tiles show {bands[0]}" if len(bands) > 1 else ""
        self.gallery_view.show(
            [stretch_image(img[0], "asinh") for img in g.physical],
            titles,
            f"**{Path(g.meta['checkpoint']).name}** · **Conditioning:** {conditioning_text(g.meta)}{shown}",
        )

    def gallery(self) -> pn.viewable.Viewable:
        return self._gallery_layout

    def _download(self, make):
        if self.result is None:  # the buttons are disabled then; never hand out an empty file
            self.download_hint.object = "Nothing to download yet: press **Generate** first."
            return None
        return io.BytesIO(make())

    def _set_downloads(self):
        ready = self.result is not None
        for w in (self.npz_download, self.fits_download):
            w.disabled = not ready
        self.download_hint.object = (
            "FITS: one plane per sample and band, Jy/beam, with a WCS and the band's frequency; "
            "the conditioning is in every header."
            if ready
            else "Downloads: nothing yet — press **Generate** first."
        )

    def _make_downloads(self):
        self.npz_download = pn.widgets.FileDownload(
            callback=lambda: self._download(lambda: samples_npz(self.result)),
            filename="radioviz_samples.npz",
            label="Download .npz",
            color="default",
        )
        self.fits_download = pn.widgets.FileDownload(
            callback=lambda: self._download(self.fits_bytes),
            filename="radioviz_samples.fits",
            label="Download FITS",
            color="default",
        )
        self.download_hint = pn.pane.Markdown("")
        self._set_downloads()

    def downloads(self):
        return pn.Column(pn.Row(self.npz_download, self.fits_download), self.download_hint)

    def controls(self) -> tuple:
        """The settings column and the mask column (hidden unless the model takes a mask)."""
        return self._controls

    def __panel__(self):
        buttons = pn.Row(self.run_button, self.cancel_button)
        return pn.Column(
            self.alert,
            pn.Row(
                *self._controls,
                pn.Column(
                    buttons,
                    self.progress,
                    self.status,
                    self._gallery_layout,
                    self.downloads(),
                    sizing_mode="stretch_width",
                ),
            ),
            sizing_mode="stretch_width",
        )
