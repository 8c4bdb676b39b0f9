"""How a class detector's answer is shown: a candidate's class as words and as a marker colour."""

from __future__ import annotations

from ..models.segmenter import CLASS_NAMES

#: Marker colours on the sky: cyan stays "a halo candidate" (and any candidate of a model without
#: classes); the impostors get colours that read apart from it and from the green score map.
CLASS_COLOURS = {"halo": "cyan", "minihalo": "#7fdbff", "relic": "orange", "radio_galaxy": "magenta"}
NO_CLASS_COLOUR = "cyan"
#: The Fields tab's map choices → the ScoreMap layer each shows.
MAP_LAYERS = {"halo": "halo", "any diffuse": "diffuse"}


def class_text(c: dict) -> str:
    """ "relic 0.62": the most probable class other than background and its probability ("" without)."""
    name = c.get("class")
    if not name:
        return ""
    return f"{CLASS_NAMES.get(name, name)} {c['class_probs'][name]:.2f}"


def class_colour(c: dict) -> str:
    return CLASS_COLOURS.get(c.get("class") or "", NO_CLASS_COLOUR)
