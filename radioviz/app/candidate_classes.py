"""How a class detector's answer is shown: a candidate's class as words and as a marker colour."""

from __future__ import annotations

from ..models.segmenter import CLASS_NAMES

#: Marker colours on the sky: cyan stays "a halo candidate" (and any candidate of a model without
#: classes); the impostors get colours that read apart from it and from the green score map.
#: (walk 18: the mini-halo's light blue read as the halo's cyan)
CLASS_COLOURS = {"halo": "cyan", "minihalo": "#4d7cff", "relic": "orange", "radio_galaxy": "magenta"}
NO_CLASS_COLOUR = "cyan"
#: The Fields tab's map choices → the ScoreMap layer each shows.
MAP_LAYERS = {"halo": "halo", "any diffuse": "diffuse"}
#: What each map shows, in words (the status line says it when the map is switched)
MAP_MEANING = {
    "halo": "the probability of a radio halo at each pixel",
    "any diffuse": "the probability of any extended emission at each pixel — a halo, mini-halo, relic or "
    "radio galaxy (halos alone: switch the map back to “halo”)",
}


def class_name(c: dict) -> str:
    """ "radio galaxy": the most probable class other than background, in words ("" without)."""
    name = c.get("class")
    return CLASS_NAMES.get(name, name) if name else ""


def class_text(c: dict) -> str:
    """ "relic 0.62": the most probable class other than background and its probability ("" without)."""
    name = class_name(c)
    return f"{name} {c['class_probs'][c['class']]:.2f}" if name else ""


def class_colour(c: dict) -> str:
    return CLASS_COLOURS.get(c.get("class") or "", NO_CLASS_COLOUR)


def class_legend_html(candidates: list[dict]) -> str:
    """What the marker colours mean, under the map — only when the candidates carry classes."""
    if not any(c.get("class") for c in candidates or []):
        return ""
    ring = (
        '<span style="display:inline-block;width:10px;height:10px;border-radius:50%;'
        'border:2px solid {};background:#000;margin:0 3px -1px 10px"></span>{}'
    )
    keys = ", ".join(ring.format(colour, CLASS_NAMES[k]) for k, colour in CLASS_COLOURS.items())
    return f'<span style="font-size:0.9em">Candidate rings by class: {keys}</span>'
