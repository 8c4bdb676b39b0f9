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
from .checked_input import Refusals, checked_number
from .describe import LABEL_WORDS, conditioning_text
from .export import samples_fits, samples_npz
from .gallery import Gallery
from .generate_state import NONE, GenerateState
from .mask_canvas import MaskCanvas
from .teaching import layers
from .uploads import dropper

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
        self.cancel_button = pn.widgets.Button.from_param(
            self.param.cancel, label="Cancel", color="warning", disabled=self.param.busy.rx.not_()
        )  # lit only while a run goes on
        self._make_downloads()
        self.gallery_view = Gallery()
        self.gallery_view.empty(GALLERY_HELP)
        self._gallery_layout = self.gallery_view.layout()
        self._build_controls()

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
        titles = [
            f"#{i}"
            + (f" · score {self.scores[i]:.2f}" if self.scores is not None else "")
            + f"\npeak {peaks[i]:.3g} Jy/beam"  # a second line: one was wider than the tile
            for i in range(len(g.physical))
        ]
        self.gallery_view.show(
            [stretch_image(img[0], "asinh") for img in g.physical],
            titles,
            f"**{Path(g.meta['checkpoint']).name}** · **Conditioning:** {conditioning_text(g.meta)}",
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

    def _build_controls(self):
        """Every control built once; what the chosen model does not accept is hidden, what the
        current choices make moot is disabled. Nothing is re-created when the model changes, so a
        value typed a moment after picking a model can never land on a widget the page no longer
        shows (Bokeh's "reference pNNN isn't known")."""
        shown = self.param.accepted_now

        def accepts(key):
            return pn.bind(lambda acc: bool(acc.get(key)), shown)

        unconditional = self.param.label.rx.is_(None)
        self.info = pn.pane.Markdown(pn.bind(self._card_line, self.param.model))
        self.label_select = pn.widgets.Select.from_param(
            self.param.label, label="Class", visible=accepts("labels")
        )
        self.label_words = pn.pane.Markdown(
            pn.bind(
                lambda acc: (
                    "<small>"
                    + "<br>".join(
                        f"**{k}**: {LABEL_WORDS[k]}" for k in acc.get("labels", []) if k in LABEL_WORDS
                    )
                    + "</small>"
                ),
                shown,
            ),
            visible=accepts("labels"),
        )
        self.flux_input = self._checked(
            "flux",
            "Peak flux (Jy/beam)",
            step=0.1,
            disabled=self.param.use_flux.rx.not_(),
            visible=accepts("flux"),
        )
        # one clickable choice (Bokeh's checkbox label is not clickable); typing a flux selects
        # "condition on this peak flux"
        self.flux_choice = pn.widgets.RadioButtonGroup.from_param(
            self.param.use_flux,
            options={"condition on this peak flux": True, "ignore peak flux": False},
            color="default",
            orientation="vertical",  # side by side the two stuck out past the 320 px column
            width=300,
            visible=accepts("flux"),
        )
        self.guidance_slider = pn.widgets.FloatSlider.from_param(
            self.param.guidance, label="Guidance ω", disabled=unconditional, visible=accepts("guidance")
        )
        self.guidance_note = pn.pane.Markdown(
            "<small>Guidance needs a class: pick one to use ω.</small>",
            visible=pn.bind(
                lambda label, acc: label is None and bool(acc.get("guidance")), self.param.label, shown
            ),
            margin=(0, 10),
        )
        # what guidance does, in a sentence; its formula one click away (the words of teaching.py)
        self.guidance_words = pn.pane.Markdown(
            "<small>" + layers("edm", "heun")["guidance"].markdown() + "</small>", visible=accepts("guidance")
        )
        self.steps_input = self._checked("steps", "Steps", visible=self.param.sampler.rx() != "oneshot")
        self.seed_input = self._checked("seed", "Seed")
        background = pn.widgets.Select.from_param(
            self.param.background, label="Background reference", visible=accepts("background")
        )
        col = pn.Column(
            self.info,
            pn.widgets.Select.from_param(self.param.model, label="Model"),
            self.label_select,
            self.label_words,
            self.flux_input,
            self.flux_choice,
            self.guidance_slider,
            self.guidance_note,
            self.guidance_words,
            pn.widgets.Select.from_param(self.param.sampler, label="Sampler"),
            self.steps_input,
            self.seed_input,
            pn.widgets.IntSlider.from_param(self.param.n, label="How many"),
            background,
            width=320,
        )
        upload = dropper(lambda names, data: self.load_mask_file(names[0], data[0]), self.show_error)
        self.mask_column = pn.Column(
            self.canvas,
            pn.pane.Markdown("…or load a mask (.npy/.fits, 64×64 class indices):"),
            upload,
            pn.widgets.Select.from_param(self.param.mask_field, label="…or take a field's mask"),
            width=360,
            visible=accepts("mask_classes"),
        )
        self._controls = (col, self.mask_column)  # laid out beside the gallery, not in a Row

    def _checked(self, name: str, label: str, **kw):
        return checked_number(self, name, label, self._refusals, **kw)

    def _card_line(self, model) -> str:
        card = self.card()
        if card is None:
            return ""
        return (
            f"**{card.kind.upper()}** · {card.parameters or 0:,} parameters · "
            f"{card.training.steps or '?'} training steps · "
            f"accepts: {', '.join(card.conditions) or 'nothing'}"
        )

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
