"""Number boxes whose range is checked on the server.

Bokeh's bounded spinner silently keeps the old value while still showing what was typed (0, −5),
so a run used a number the page did not show. These boxes put an out-of-range entry back to the
value in use and say so in a status pane, take the message back once a valid value is in, and
follow the parameter when code changes it."""

from __future__ import annotations

import panel as pn
import param


class Refusals:
    """Where the boxes of one view report refusals: ``target.<attr>`` (a status pane's ``object``,
    or a view's status parameter). A refusal stays only until the next valid value (typed, or set
    by the view), and never replaces another message when it goes."""

    def __init__(self, target, attr: str = "object"):
        self.target, self.attr = target, attr
        self.shown: str | None = None

    def say(self, text: str) -> None:
        self.shown = text
        setattr(self.target, self.attr, text)

    def clear(self) -> None:
        if self.shown is not None and getattr(self.target, self.attr) == self.shown:
            setattr(self.target, self.attr, "")
        self.shown = None


def checked_number(owner: param.Parameterized, name: str, label: str, refusals: Refusals, **kw):
    """An IntInput (Integer parameter) or FloatInput (Number) for ``owner.<name>``, checked against
    the parameter's bounds here."""
    p = owner.param[name]
    lo, hi = p.bounds
    widget = pn.widgets.IntInput if isinstance(p, param.Integer) else pn.widgets.FloatInput
    kw.setdefault("description", p.doc)  # the ⓘ tooltip from_param would give
    box = widget(label=label, value=getattr(owner, name), **kw)

    def typed(event):
        if event.new is not None and (lo is None or event.new >= lo) and (hi is None or event.new <= hi):
            if event.new != getattr(owner, name):  # not the box put back below
                setattr(owner, name, event.new)  # follow() takes a refusal back
            return
        used = getattr(owner, name)
        typed_text = "an empty box" if event.new is None else f"{event.new:g}"
        refusals.say(f"{label} must be between {_n(lo)} and {_n(hi)}: {typed_text} refused, kept {_n(used)}.")
        box.value = used

    def follow(event):
        box.value = event.new
        refusals.clear()

    box.param.watch(typed, "value")
    owner.param.watch(follow, name)
    return box


def _n(v) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"
