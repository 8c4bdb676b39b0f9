"""The Generate tab's controls, built once per page: what the chosen model does not accept is
hidden, what the current choices make moot is disabled (:class:`~.generate_view.GenerateView`)."""

from __future__ import annotations

import panel as pn

from .checked_input import checked_number
from .describe import LABEL_WORDS
from .teaching import layers
from .uploads import dropper


def build_controls(view) -> tuple:
    """Every control built once; what the chosen model does not accept is hidden, what the
    current choices make moot is disabled. Nothing is re-created when the model changes, so a
    value typed a moment after picking a model can never land on a widget the page no longer
    shows (Bokeh's "reference pNNN isn't known")."""
    shown = view.param.accepted_now

    def accepts(key):
        return pn.bind(lambda acc: bool(acc.get(key)), shown)

    unconditional = view.param.label.rx.is_(None)
    view.info = pn.pane.Markdown(pn.bind(lambda model: card_line(view.card()), view.param.model))
    view.label_select = pn.widgets.Select.from_param(
        view.param.label, label="Class", visible=accepts("labels")
    )
    view.label_words = pn.pane.Markdown(
        pn.bind(
            lambda acc: (
                "<small>"
                + "<br>".join(f"**{k}**: {LABEL_WORDS[k]}" for k in acc.get("labels", []) if k in LABEL_WORDS)
                + "</small>"
            ),
            shown,
        ),
        visible=accepts("labels"),
    )
    view.flux_input = _checked(
        view,
        "flux",
        "Peak flux (Jy/beam)",
        step=0.1,
        disabled=view.param.use_flux.rx.not_(),
        visible=accepts("flux"),
    )
    # one clickable choice (Bokeh's checkbox label is not clickable); typing a flux selects
    # "condition on this peak flux"
    view.flux_choice = pn.widgets.RadioButtonGroup.from_param(
        view.param.use_flux,
        options={"condition on this peak flux": True, "ignore peak flux": False},
        color="default",
        orientation="vertical",  # side by side the two stuck out past the 320 px column
        width=300,
        visible=accepts("flux"),
    )
    view.guidance_slider = pn.widgets.FloatSlider.from_param(
        view.param.guidance, label="Guidance ω", disabled=unconditional, visible=accepts("guidance")
    )
    view.guidance_note = pn.pane.Markdown(
        "<small>Guidance needs a class: pick one to use ω.</small>",
        visible=pn.bind(
            lambda label, acc: label is None and bool(acc.get("guidance")), view.param.label, shown
        ),
        margin=(0, 10),
    )
    # what guidance does, in a sentence; its formula one click away (the words of teaching.py)
    view.guidance_words = pn.pane.Markdown(
        "<small>" + layers("edm", "heun")["guidance"].markdown() + "</small>", visible=accepts("guidance")
    )
    view.steps_input = _checked(view, "steps", "Steps", visible=view.param.sampler.rx() != "oneshot")
    view.seed_input = _checked(view, "seed", "Seed")
    background = pn.widgets.Select.from_param(
        view.param.background, label="Background reference", visible=accepts("background")
    )
    col = pn.Column(
        view.info,
        pn.widgets.Select.from_param(view.param.model, label="Model"),
        view.label_select,
        view.label_words,
        view.flux_input,
        view.flux_choice,
        view.guidance_slider,
        view.guidance_note,
        view.guidance_words,
        pn.widgets.Select.from_param(view.param.sampler, label="Sampler"),
        view.steps_input,
        view.seed_input,
        pn.widgets.IntSlider.from_param(view.param.n, label="How many"),
        background,
        width=320,
    )
    upload = dropper(lambda names, data: view.load_mask_file(names[0], data[0]), view.show_error)
    view.mask_column = pn.Column(
        view.canvas,
        pn.pane.Markdown("…or load a mask (.npy/.fits, 64×64 class indices):"),
        upload,
        pn.widgets.Select.from_param(view.param.mask_field, label="…or take a field's mask"),
        width=360,
        visible=accepts("mask_classes"),
    )
    return col, view.mask_column  # laid out beside the gallery, not in a Row


def _checked(view, name: str, label: str, **kw):
    return checked_number(view, name, label, view._refusals, **kw)


def card_line(card) -> str:
    """The chosen model in one line: kind, size, training steps and what it accepts."""
    if card is None:
        return ""
    return (
        f"**{card.kind.upper()}** · {card.parameters or 0:,} parameters · "
        f"{card.training.steps or '?'} training steps · "
        f"accepts: {', '.join(card.conditions) or 'nothing'}"
    )
