"""Words for what the app shows: class names, model picker labels and a run's conditioning.

One function per thing, so every tab says it the same way (and the model picker can gain a
quality label from one place).
"""

from __future__ import annotations

from ..models.card import ModelCard
from ..models.quality import picker_label

#: Mishra et al.'s classes in words (the training labels fold candidate mini-halos, cmH, into mH).
LABEL_WORDS = {
    "non-halo": "no radio halo (other cluster sources, radio galaxies, odd radio circles)",
    "H": "radio halo: Mpc-sized diffuse emission in a merging cluster",
    "cH": "candidate halo: diffuse emission not yet confirmed as a halo",
    "mH": "mini-halo: compact (0.1–0.5 Mpc) diffuse emission around a cool-core BCG",
}


def label_text(label: str | None) -> str:
    """'H — radio halo: …' for a training label; 'unconditional' for None."""
    if label is None:
        return "any class (unconditional)"
    words = LABEL_WORDS.get(label)
    return f"{label} — {words}" if words else str(label)


def label_options(labels: list[str]) -> dict[str, str | None]:
    """{shown text: label} for a class picker, 'any class' first."""
    return {label_text(None): None, **{label_text(k).split(":")[0]: k for k in labels}}


def model_label(name: str, card: ModelCard) -> str:
    """The model picker's text for one checkpoint: file name with its measured quality (or
    "undertrained" / "not measured", from :func:`radioviz.models.quality.picker_label`), kind and
    what it is conditioned on."""
    kind = str(card.kind or "?").upper()
    conds = ", ".join(card.conditions or []) or "unconditional"
    bands = (card.preprocessing.bands if card.preprocessing else None) or []
    single = " · single-frequency" if len(bands) == 1 else ""
    shown = picker_label(name.removesuffix(".safetensors"), card)
    return f"{shown} — {kind}, {conds}{single}"


def model_options(cards: dict[str, ModelCard]) -> dict[str, str]:
    return {model_label(n, c): n for n, c in cards.items()}


def conditioning_text(meta: dict) -> str:
    """One line saying exactly what a run was conditioned on and how it was sampled."""
    parts = [f"class {label_text(meta.get('label')).split(':')[0]}"]
    flux = meta.get("flux")
    # what the model cannot take is not mentioned (a WGAN has neither flux nor guidance)
    if flux is not None:
        parts.append(f"peak flux {flux} Jy/beam")
    elif meta.get("takes_flux", True):
        parts.append("peak flux not conditioned")
    if meta.get("guidance"):
        parts.append(f"guidance ω = {meta['guidance']:g}")
    elif meta.get("kind") in ("ddpm", "edm", None):
        parts.append("ω = 0 (no guidance)")
    n_mask = meta.get("mask_pixels")  # None in runs saved before it was recorded
    if meta.get("mask") and n_mask == 0:
        parts.append("empty mask (no sources drawn)")
    elif meta.get("mask") and n_mask:
        parts.append(f"mask of {n_mask} source pixels")
    elif meta.get("mask"):
        parts.append("drawn/loaded mask")
    if meta.get("background_field"):
        parts.append(f"background from {meta['background_field']}")
    elif meta.get("background"):
        parts.append("background reference")
    if meta.get("sampler") == "oneshot":
        parts.append(f"one-shot, seed {meta.get('seed')}")
    else:
        parts.append(f"{meta.get('sampler')} {meta.get('steps')} steps, seed {meta.get('seed')}")
    return " · ".join(parts)
