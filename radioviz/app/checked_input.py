"""Number boxes whose range is checked on the server.

Bokeh's bounded spinner silently keeps the old value while still showing what was typed (0, −5),
so a run used a number the page did not show. These boxes put an out-of-range entry back to the
value in use and say so in a status pane, take the message back once a valid value is in, and
follow the parameter when code changes it.  The rule is :func:`radioviz.validate.number_problem`,
the one every other entry point (options, cards) uses."""

from __future__ import annotations

import math
from decimal import Decimal

import panel as pn
import param

from ..validate import number_problem


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


class NumberBox(pn.widgets.FloatInput):
    """A FloatInput that hands any number the browser sends to the range check.  A typed
    99999999999999999999 arrives as the JSON integer 100000000000000000000, past int64, and
    Panel's NaN test (``np.isnan``) raised on it (``TypeError: ufunc 'isnan'``): the entry was
    dropped with a server traceback and the box showed a number the view never used."""

    def _process_property_change(self, props):
        props = {
            k: float(v) if k in ("value", "value_throttled") and type(v) is int else v
            for k, v in props.items()
        }
        return super()._process_property_change(props)


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
    box = NumberBox(label=label, value=getattr(owner, name), **kw)

    def typed(event):
        v = event.new
        if v is not None and number_problem(v, lo, hi, integer=whole) is None:
            v = int(v) if whole else v
            if v != getattr(owner, name):  # not the box put back below
                setattr(owner, name, v)  # follow() takes a refusal back
            return
        used = getattr(owner, name)
        what = "a whole number between" if whole else "between"
        rule = f"{label} must be {what} {_n(lo)} and {_n(hi)}"
        refusals.say(f"{rule}: {_typed(v, hi)} refused, kept {_n(used)}.")
        box.value = used

    def follow(event):
        box.value = event.new
        refusals.clear()

    box.param.watch(typed, "value")
    owner.param.watch(follow, name)
    return box


def _typed(v: float | None, hi) -> str:
    """A refused entry as the user would write it: 4294967296 and 1000000, never 4.29497e+09 or
    1e+06 (nor 1e+20 for a typed 99999999999999999999: past 2**53 the browser's number no longer
    holds the digits typed, so it is only said to be far out)."""
    if v is None:
        return "an empty box"
    if not math.isfinite(v):
        return "not a number"
    if abs(v) >= 2**53:
        return f"the number typed is far {'larger' if v > hi else 'smaller'} —"
    return _plain(v)


def _plain(v: float) -> str:
    """A float in positional notation: 1000000, 2.5, 0.00001 (``:g`` wrote 1e+06 and 1e-05)."""
    return str(int(v)) if float(v).is_integer() else format(Decimal(repr(float(v))), "f")


def _n(v) -> str:
    """A bound or the value kept: integers with thousands separators (4,294,967,295)."""
    return f"{v:,}" if isinstance(v, int) else _plain(v)
