"""The labeller's name, remembered by the browser (a cookie), so a reload keeps who labels.

A walk found the name lost on reload while the rest of the Fields view came back (the page's
address keeps that): labels after the reload went silently to ``guest-<id>``, and the Vet tab's
agreement counted one person as two labellers.  The name is not put in the address, because a
shared link would then label as its sender; a cookie stays with the browser that typed it.
"""

from __future__ import annotations

from urllib.parse import unquote

import panel as pn

COOKIE = "radioviz_labeller"
MAX_LENGTH = 64  # a name, not a text: longer cookies are cut

#: Written by the browser when the Labeller box changes (a year; this server's pages only).
_SET_COOKIE = (
    f"document.cookie = '{COOKIE}=' + encodeURIComponent((cb_obj.value || '').slice(0, {MAX_LENGTH}))"
    " + '; path=/; max-age=31536000; SameSite=Strict';"
)


def remembered_labeller(cookies: dict | None = None) -> str:
    """The name this browser last typed in a Labeller box ("" if none); ``cookies`` default to the
    page's request's."""
    if cookies is None:
        try:
            cookies = pn.state.cookies or {}
        except Exception:  # no page (a notebook, a script): nothing remembered
            cookies = {}
    raw = cookies.get(COOKIE, "")
    return unquote(str(raw)).strip()[:MAX_LENGTH]


def remember_in_browser(box: pn.widgets.TextInput) -> pn.widgets.TextInput:
    """Have the browser keep what is typed in ``box`` (a Labeller box) for the next page."""
    box.jscallback(value=_SET_COOKIE)
    return box
