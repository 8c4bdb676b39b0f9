"""The app's Cancel button, one for every tab that runs work in the background."""

from __future__ import annotations

import panel as pn


def cancel_button(running, event=None, **kw) -> pn.widgets.Button:
    """Cancel, lit (orange) and enabled only while ``running`` (a Boolean parameter, e.g.
    ``state.param.busy``) is true; grey and disabled while idle — a disabled orange button read as
    enabled (walks 16–17).  With ``event`` (a ``param.Event``) the button presses it, else the
    caller's ``on_click`` does the cancelling."""
    lit = running.rx
    opts = {"label": "Cancel", "color": lit.where("warning", "light"), "disabled": lit.not_(), **kw}
    return pn.widgets.Button.from_param(event, **opts) if event is not None else pn.widgets.Button(**opts)
