"""The Generate view: pick a generator, set only the conditions it accepts, generate with
progress and Cancel, look at the gallery (each image with its classifier score) and download.

UI only: sampling, conditions and scoring come from :mod:`radioviz.sampling.generate`,
:mod:`radioviz.data.conditions` and :mod:`radioviz.metrics.evaluate`.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import panel as pn
import param

from ..data.conditions import derive_mask, read_mask
from ..data.flux import peak_flux
from ..display import stretch_image
from ..errors import InputError
from ..metrics.evaluate import score_images
from ..models.card import ModelCard
from ..models.quality import default_generator, default_guidance
from ..sampling.generate import Generated, accepted, generate
from ..sampling.registry import default_steps
from ..sampling.trajectory import SamplingCancelled
from ..validate import MAX_SEED
from . import resources
from .checked_input import Refusals, checked_number
from .describe import LABEL_WORDS, conditioning_text, label_options, model_options
from .export import samples_fits, samples_npz
from .field_choices import field_choices, follow_fields, mask_choices, offer
from .gallery import Gallery
from .mask_canvas import MaskCanvas
from .uploads import dropper

__all__ = ["GenerateView", "samples_fits", "samples_npz"]

NONE = "(none)"


GALLERY_HELP = (
    "Press **Generate**. Images show the first band (72–103 MHz; the only one for "
    "single-frequency models) with an asinh stretch; the score is the shipped A "
    "classifier's halo score (4-band models only)."
)


class GenerateView(pn.viewable.Viewer):
    model = param.Selector(default=None, objects=[], doc="Generator checkpoint")
    label = param.Selector(default=None, objects=[None], doc="Class to condition on (None: any)")
    use_flux = param.Boolean(default=False, doc="Condition on peak flux (typing a flux ticks it)")
    flux = param.Number(default=2.0, bounds=(0.05, 100.0), step=0.1, doc="Peak flux, Jy/beam")
    guidance = param.Number(default=0.0, bounds=(0.0, 6.0), step=0.5, doc="Classifier-free guidance ω")
    sampler = param.Selector(default="ddim", objects=["ddim"])
    steps = param.Integer(default=50, bounds=(1, 1000))
    seed = param.Integer(default=0, bounds=(0, MAX_SEED))
    n = param.Integer(default=4, bounds=(1, 32))
    background = param.Selector(
        default=NONE,
        objects=[NONE],
        doc="Background reference: a field's centre (the Fields tab's folder, then the bundled fields)",
    )
    mask_field = param.Selector(
        default=NONE,
        objects=[NONE],
        doc="Use this field's central mask: derived with photutils, or the simulator's truth",
    )
    result = param.Parameter(default=None, doc="The latest Generated")
    # what the chosen model accepts, read from its card once per model change; the controls'
    # visibility is bound to it
    accepted_now = param.Dict(default={}, precedence=-1, doc="What the chosen model accepts")
    run = param.Event()
    cancel = param.Event()

    def __init__(self, data_dir: str | None = None, fields_view=None, app=None, **params):
        super().__init__(**params)
        self.param.watch(self._label_changed, "label")
        self.data_dir = str(data_dir or resources.SAMPLE_DATA)
        # the page's AppSession (``fields_view``: its name before the session); the Fields tab's
        # open folder's fields are offered first (real data)
        self.app = app if app is not None else fields_view
        self._reference_field: tuple[str, str] | None = None  # (folder, name) of the result's background
        self.canvas = MaskCanvas()
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._refusals = Refusals(self.status)  # what a number box refused, until a valid value
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._cancel = threading.Event()
        self._running = threading.Lock()
        self.scores: np.ndarray | None = None
        self.run_button = pn.widgets.Button.from_param(self.param.run, label="Generate", color="primary")
        # disabled in the browser the moment it is clicked (a double click starts one run); the
        # server re-enables it when the run ends
        self.run_button.js_on_click(args={"b": self.run_button}, code="b.disabled = true")
        self.cancel_button = pn.widgets.Button.from_param(
            self.param.cancel, label="Cancel", color="warning", disabled=True
        )  # lit only while a run goes on
        self._make_downloads()
        self.gallery_view = Gallery()
        self.gallery_view.empty(GALLERY_HELP)
        self._gallery_layout = self.gallery_view.layout()
        self._field_choices()
        follow_fields(self.app, self._field_choices)
        gens = resources.generator_cards()
        self.param.model.objects = model_options(gens)
        if gens:
            self.model = default_generator(gens) or list(gens)[0]  # the best measured one
        self._model_changed()
        self._build_controls()

    def _field_choices(self):
        """The background and mask pickers: every field on offer (the Fields tab's folder first),
        each value the (folder, name) it is read from; a choice still offered is kept."""
        fields = field_choices(self.data_dir, self.app)
        offer(self, "background", {NONE: NONE, **fields}, NONE)
        offer(self, "mask_field", {NONE: NONE, **mask_choices(fields)}, NONE)

    def _label_changed(self, event):
        """Guidance steers towards a class: with none (unconditional) ω is 0 and its slider off;
        picking a class after none starts from the model's measured ω."""
        if event.new is None:
            self.guidance = 0.0
        elif event.old is None:
            self.guidance = self.default_guidance()

    def default_guidance(self) -> float:
        card = self.card()
        return default_guidance(card) if card is not None else 0.0

    # -- what the chosen model accepts ------------------------------------------------------------

    def card(self) -> ModelCard | None:
        return resources.generator_cards().get(self.model) if self.model else None

    def accepts(self) -> dict:
        card = self.card()
        return (
            accepted(card)
            if card
            else {
                "samplers": [],
                "labels": [],
                "flux": False,
                "mask_classes": [],
                "background": False,
                "guidance": False,
            }
        )

    @param.depends("model", watch=True)
    def _model_changed(self):
        acc = self.accepts()
        self.accepted_now = acc
        self.param.sampler.objects = list(acc["samplers"]) or ["ddim"]
        self.sampler = self.param.sampler.objects[0]
        self.param.label.objects = label_options(acc["labels"])
        self.label = "H" if "H" in acc["labels"] else None
        if not acc["flux"]:
            self.use_flux = False
        # the ω the card's quality was measured at (0 without a class or without guidance)
        self.guidance = self.default_guidance() if self.label is not None else 0.0

    @param.depends("flux", watch=True)
    def _flux_typed(self):
        """A typed flux means 'condition on it': never ignore it silently."""
        if self.accepts()["flux"]:
            self.use_flux = True

    @param.depends("sampler", watch=True)
    def _sampler_changed(self):
        self.steps = default_steps(self.sampler)

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

    def show_error(self, text: str):
        self.alert.object, self.alert.visible = text, True

    def clear_error(self):
        self.alert.visible = False

    # -- generating --------------------------------------------------------------------------------

    def conditions(self) -> dict:
        acc = self.accepts()
        kw = {
            "label": self.label,
            "guidance": self.guidance if acc["guidance"] and self.label is not None else 0.0,
        }
        if acc["flux"] and self.use_flux:
            kw["flux"] = self.flux
        if acc["mask_classes"]:
            kw["mask"] = self.canvas.mask
        if acc["background"] and self.background != NONE:
            kw["background"] = resources.central_cutout(*self.background)
        return kw

    @param.depends("run", watch=True)
    def generate(self) -> Generated | None:
        """Sample with the current settings (a worker thread when served; cancellable).

        One run at a time: the button is disabled while it runs, and a second request that
        still gets through (two quick clicks) is refused rather than replacing the first."""
        if not self._running.acquire(blocking=False):
            self.status.object = "Already generating: wait for this run or press Cancel."
            return None
        self.run_button.disabled, self.cancel_button.disabled = True, False
        try:
            return self._generate()
        finally:
            self._running.release()
            self.run_button.disabled, self.cancel_button.disabled = False, True
            if self.result is None:
                self.gallery_view.empty(GALLERY_HELP)

    def _generate(self) -> Generated | None:
        if not self.model:
            self.show_error("No generator checkpoint in checkpoints/.")
            return None
        self.clear_error()
        self._cancel.clear()
        self.progress.value, self.progress.visible = 0, True
        self.gallery_view.placeholder.visible = False  # the "Press Generate" help is done with
        how = "one-shot" if self.sampler == "oneshot" else f"{self.sampler}, {self.steps} steps"
        self.status.object = f"Generating {self.n} with {self.model} ({how})…"

        def callback(info):
            self.progress.value = int(100 * (info["i"] + 1) / info["n"])
            return self._cancel.is_set()

        path = resources.CHECKPOINTS / self.model
        try:
            g = generate(
                path,
                self.n,
                sampler=self.sampler,
                steps=self.steps,
                seed=self.seed,
                callback=callback,
                record_stride=max(1, self.steps // 100),
                model_and_card=resources.generator(path),
                **self.conditions(),
            )
        except SamplingCancelled as exc:
            self.status.object = f"Cancelled ({exc})."
            return None
        except InputError as exc:
            self.show_error(resources.public_message(str(exc)))
            self.status.object = ""
            return None
        finally:
            self.progress.visible = False
        self._reference_field = None
        if self.background != NONE and self.accepts()["background"]:
            self._reference_field = tuple(self.background)
            g.meta["background_field"] = self.background[1]
        self.scores = self._score(g)
        self.result = g
        # the conditioning is said once, in the gallery's heading
        self.status.object = (
            f"{self.n} image(s) in {g.meta['wall_seconds']:.1f} s, {g.meta['nfe']} network "
            f"evaluation{'s' if g.meta['nfe'] != 1 else ''}."
        )
        self._set_downloads()
        return g

    @param.depends("cancel", watch=True)
    def _cancel_run(self):
        self._cancel.set()

    def _score(self, g: Generated) -> np.ndarray | None:
        cards = resources.classifier_cards()
        name = "classifier_A.safetensors" if "classifier_A.safetensors" in cards else next(iter(cards), None)
        if name is None:
            return None
        model, pre, _ = resources.classifier(resources.CHECKPOINTS / name)
        if len(pre.bands) != g.physical.shape[1]:
            return None  # a single-frequency generator: the 4-band classifier cannot judge it
        return score_images(model, pre, g.physical)

    @param.depends("result", watch=True)
    def _show_result(self):
        """The gallery's tiles for the latest run, replaced in place (one data change)."""
        g = self.result
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

    def _reference(self):
        """The background reference field of the latest run (its WCS goes into the FITS)."""
        ref = self._reference_field if self.result is not None else None
        return resources.clipped_field(*ref) if ref else None

    def fits_bytes(self) -> bytes:
        card = resources.generator_cards().get(Path(self.result.meta["checkpoint"]).name) or self.card()
        return samples_fits(self.result, card, self._reference())

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
