"""Integer boxes whose range is checked on the server.

Bokeh's bounded spinner silently keeps the old value while still showing what was typed (0, −5),
so a run used a number the page did not show. These boxes put an out-of-range entry back to the
value in use and say so, and follow the parameter when code changes it."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param


def checked_int(owner: param.Parameterized, name: str, label: str, say: Callable[[str], None], **kw):
    """An IntInput for ``owner.<name>`` (an Integer parameter with bounds); ``say`` shows a refusal."""
    lo, hi = owner.param[name].bounds
    box = pn.widgets.IntInput(label=label, value=getattr(owner, name), **kw)

    def typed(event):
        if event.new is not None and lo <= event.new <= hi:
            setattr(owner, name, event.new)
            return
        used = getattr(owner, name)
        say(f"{label} must be between {lo} and {hi:,}: {event.new} refused, kept {used}.")
        box.value = used

    box.param.watch(typed, "value")
    owner.param.watch(lambda e: setattr(box, "value", e.new), name)
    return box
