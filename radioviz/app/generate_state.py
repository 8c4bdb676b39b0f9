"""What the Generate tab holds, apart from its widgets: the generator and the conditions it
accepts (class, peak flux, guidance, background reference, field mask), sampler, steps, seed and
how many, the run going on (progress, Cancel) and the latest result with its classifier scores.

:class:`GenerateState` is params and methods without Panel or Bokeh, tested without a browser;
:class:`~.generate_view.GenerateView` draws it.  Sampling, conditions and scoring come from
:mod:`radioviz.sampling.generate`, :mod:`radioviz.data.conditions` and
:mod:`radioviz.metrics.evaluate`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import param

from ..errors import InputError
from ..metrics.evaluate import score_images
from ..models.card import ModelCard
from ..models.quality import default_generator, default_guidance
from ..sampling.generate import Generated, accepted, generate
from ..sampling.registry import default_steps
from ..sampling.trajectory import SamplingCancelled
from ..validate import MAX_SEED
from . import resources
from .describe import label_options, model_options
from .export import samples_fits
from .field_choices import field_choices, follow_fields, mask_choices, offer
from .jobs import in_background

NONE = "(none)"
#: what a model without a card accepts: nothing
NOTHING = {
    "samplers": [],
    "labels": [],
    "flux": False,
    "mask_classes": [],
    "background": False,
    "guidance": False,
}


class GenerateState(param.Parameterized):
    """The pickers, the run going on and its result."""

    model = param.Selector(default=None, objects=[], doc="Generator checkpoint")
    label = param.Selector(default=None, objects=[None], doc="Class to condition on (None: any)")
    use_flux = param.Boolean(default=False, doc="Condition on peak flux (typing a flux ticks it)")
    flux = param.Number(
        default=2.0,
        bounds=(0.05, 100.0),
        step=0.1,
        doc="Peak flux, Jy/beam: the brightest pixel of the image in any of its four bands (usually the "
        "lowest band, 72-103 MHz, where the emission is brightest)",
    )
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
    message = param.String(default="", doc="The status line")
    error = param.String(default="", doc="What went wrong (empty: nothing)")
    percent = param.Integer(default=0, bounds=(0, 100), doc="How far the run going on is, %")
    busy = param.Boolean(default=False, doc="A run is going on")
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
        self._cancel = threading.Event()
        self._running = threading.Lock()
        self.scores: np.ndarray | None = None
        self.field_choices()
        follow_fields(self.app, self.field_choices)
        gens = resources.generator_cards()
        self.param.model.objects = model_options(gens)
        if gens:
            self.model = default_generator(gens) or list(gens)[0]  # the best measured one
        self._model_changed()

    def field_choices(self):
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
        return accepted(card) if card else dict(NOTHING)

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

    def conditions(self) -> dict:
        """The keyword conditions of a run: only those the model accepts (the mask: the drawn one)."""
        acc = self.accepts()
        kw = {
            "label": self.label,
            "guidance": self.guidance if acc["guidance"] and self.label is not None else 0.0,
        }
        if acc["flux"] and self.use_flux:
            kw["flux"] = self.flux
        if acc["mask_classes"]:
            kw["mask"] = self.drawn_mask()
        if acc["background"] and self.background != NONE:
            kw["background"] = resources.central_cutout(*self.background)
        return kw

    # -- generating --------------------------------------------------------------------------------

    def drawn_mask(self) -> np.ndarray | None:
        """The mask the user drew (the view's canvas); None here."""
        return None

    @param.depends("run", watch=True)
    def _run_pressed(self) -> None:
        in_background(self, self.generate, "radioviz-generate")

    def generate(self) -> Generated | None:
        """Sample with the current settings (a worker thread when served; cancellable).

        One run at a time: ``busy`` while it runs, and a second request that still gets through
        (two quick clicks) is refused rather than replacing the first."""
        if not self._running.acquire(blocking=False):
            self.message = "Already generating: wait for this run or press Cancel."
            return None
        self.busy = True
        try:
            return self._generate()
        finally:
            self._running.release()
            self.busy = False

    def _generate(self) -> Generated | None:
        if not self.model:
            self.error = "No generator checkpoint in checkpoints/."
            return None
        self.error = ""
        self._cancel.clear()
        self.percent = 0
        how = "one-shot" if self.sampler == "oneshot" else f"{self.sampler}, {self.steps} steps"
        self.message = f"Generating {self.n} with {self.model} ({how})…"

        def callback(info):
            self.percent = int(100 * (info["i"] + 1) / info["n"])
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
            self.message = f"Cancelled ({exc})."
            return None
        except InputError as exc:
            self.error = resources.public_message(str(exc))
            self.message = ""
            return None
        self._reference_field = None
        if self.background != NONE and self.accepts()["background"]:
            self._reference_field = tuple(self.background)
            g.meta["background_field"] = self.background[1]
        self.scores = self._score(g)
        self.result = g
        # the conditioning is said once, in the gallery's heading
        self.message = (
            f"{self.n} image(s) in {g.meta['wall_seconds']:.1f} s, {g.meta['nfe']} network "
            f"evaluation{'s' if g.meta['nfe'] != 1 else ''}." + self._empty_mask_note()
        )
        return g

    def _empty_mask_note(self) -> str:
        """A mask model asked with nothing drawn was asked for empty sky (walk 16: near-black
        images with no word why)."""
        if not self.accepts()["mask_classes"]:
            return ""
        m = self.drawn_mask()
        if m is not None and np.any(np.asarray(m) > 0):
            return ""
        return (
            " The mask is empty, so this model was asked for empty sky: draw sources on the mask "
            "canvas, or take a field’s mask (the picker under it)."
        )

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

    def _reference(self):
        """The background reference field of the latest run (its WCS goes into the FITS)."""
        ref = self._reference_field if self.result is not None else None
        return resources.clipped_field(*ref) if ref else None

    def fits_bytes(self) -> bytes:
        card = resources.generator_cards().get(Path(self.result.meta["checkpoint"]).name) or self.card()
        return samples_fits(self.result, card, self._reference())
