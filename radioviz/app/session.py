"""Changing Bokeh models safely from any thread.

With ``nthreads`` set (as the served app is), Panel runs widget callbacks on worker threads; a
Bokeh model changed there raises ``_pending_writes should be non-None`` and the browser never
hears of it.  :func:`on_session` runs the change on the session's thread instead (the document's
next tick, with its lock held), or at once when there is no server session (tests, notebooks)
or when the caller already holds the lock.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn


def on_session(fn: Callable[[], None], *models) -> None:
    """Run ``fn`` (which changes Bokeh models) where the document allows it."""
    doc = next((m.document for m in models if getattr(m, "document", None) is not None), None)
    doc = doc or pn.state.curdoc
    if doc is None or doc.session_context is None or pn.state._unblocked(doc):
        fn()
    else:
        doc.add_next_tick_callback(fn)
