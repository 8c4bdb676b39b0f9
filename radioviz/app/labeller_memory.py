"""The labeller's name — or, until one is typed, the browser's guest name — remembered by the
browser (cookies), so a reload keeps who labels.

A walk found the name lost on reload while the rest of the Fields view came back (the page's
address keeps that): labels after the reload went silently to ``guest-<id>``, and the Vet tab's
agreement counted one person as two labellers.  The name is not put in the address, because a
shared link would then label as its sender; a cookie stays with the browser that typed it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import panel as pn

COOKIE = "radioviz_labeller"
GUEST_COOKIE = "radioviz_guest"
MAX_LENGTH = 64  # a name, not a text: longer cookies are cut
_GUEST = re.compile(r"guest-[0-9a-f]{6}")

#: Written by the browser when the Labeller box changes (a year; this server's pages only).
_SET_COOKIE = (
    f"document.cookie = '{COOKIE}=' + encodeURIComponent((cb_obj.value || '').slice(0, {MAX_LENGTH}))"
    " + '; path=/; max-age=31536000; SameSite=Strict';"
)


def remembered_labeller(cookies: dict | None = None) -> str:
    """The name this browser last typed in a Labeller box ("" if none); ``cookies`` default to the
    page's request's."""
    raw = _cookies(cookies).get(COOKIE, "")
    return unquote(str(raw)).strip()[:MAX_LENGTH]


def _cookies(cookies: dict | None) -> dict:
    if cookies is not None:
        return cookies
    try:
        return pn.state.cookies or {}
    except Exception:  # no page (a notebook, a script): nothing remembered
        return {}


def remembered_guest(cookies: dict | None = None) -> str | None:
    """The guest name this browser was given on an earlier page (``guest-`` and 6 hex digits), or
    None.  Why: a page's guest name was new on every reload, so one person who had not typed a name
    became a second labeller after a reload, and the Vet tab's agreement counted them twice."""
    raw = unquote(str(_cookies(cookies).get(GUEST_COOKIE, ""))).strip()
    return raw if _GUEST.fullmatch(raw) else None


def remember_guest_in_browser(guest: str) -> None:
    """Have this page's browser keep ``guest`` for its next pages (set once the page is loaded;
    nothing without a served page)."""
    doc = pn.state.curdoc
    if doc is None or not _GUEST.fullmatch(guest):
        return
    from bokeh.models import CustomJS

    code = f"document.cookie = '{GUEST_COOKIE}={guest}; path=/; max-age=31536000; SameSite=Strict';"
    doc.js_on_event("document_ready", CustomJS(code=code))


def remember_in_browser(box: pn.widgets.TextInput) -> pn.widgets.TextInput:
    """Have the browser keep what is typed in ``box`` (a Labeller box) for the next page."""
    box.jscallback(value=_SET_COOKIE)
    return box
