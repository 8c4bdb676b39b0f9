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
    """A number box for ``owner.<name>``, checked against the parameter's bounds here.  An
    Integer parameter gets a float box with step 1, so that "2.5" reaches the server and is
    refused (Bokeh's integer box dropped the point: 2.5 became 25)."""
    p = owner.param[name]
    lo, hi = p.bounds
    whole = isinstance(p, param.Integer)
    if whole:
        kw.setdefault("step", 1)
    kw.setdefault("description", p.doc)  # the ⓘ tooltip from_param would give
    box = pn.widgets.FloatInput(label=label, value=getattr(owner, name), **kw)

    def typed(event):
        v = event.new
        ok = v is not None and (lo is None or v >= lo) and (hi is None or v <= hi)
        if ok and (not whole or float(v).is_integer()):
            v = int(v) if whole else v
            if v != getattr(owner, name):  # not the box put back below
                setattr(owner, name, v)  # follow() takes a refusal back
            return
        used = getattr(owner, name)
        typed_text = "an empty box" if v is None else f"{v:g}"
        what = "a whole number between" if whole else "between"
        refusals.say(f"{label} must be {what} {_n(lo)} and {_n(hi)}: {typed_text} refused, kept {_n(used)}.")
        box.value = used

    def follow(event):
        box.value = event.new
        refusals.clear()

    box.param.watch(typed, "value")
    owner.param.watch(follow, name)
    return box


def _n(v) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"
