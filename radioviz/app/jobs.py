"""One way to run work off the page's event loop, and one way to hand its results back.

Why: the server's event loop serves every page; work that takes longer than a frame (a score map,
a survey, a retraining, an upload's decoding) must run elsewhere, and what it changes on the page
must be changed on the session's thread — a Bokeh model changed from a worker thread raises
``_pending_writes should be non-None`` and the browser never hears of it.  This was written five
ways; now :func:`on_session` is the hand-back, :class:`Job` the background run (start,
progress, cancel, then a result or an error handed back to the tab that started it), and
:func:`as_session_worker` lets a thread of our own (an upload's batch timer) act as one of
Panel's worker threads for a page.

Panel is imported only when a served session is in play, so this module (like :mod:`.state`)
loads and is tested without it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def current_doc():
    """The Bokeh document of the session this thread serves (None outside a served session)."""
    import sys

    if "panel" not in sys.modules:  # nothing served here (unit tests, scripts)
        return None
    import panel as pn

    return pn.state.curdoc


def _on_session_thread(doc) -> bool:
    import panel as pn
    from tornado.ioloop import IOLoop

    return pn.state._unblocked(doc) or IOLoop.current(instance=False) is not None


def on_session(fn: Callable[[], Any], *models, doc=None) -> None:
    """Run ``fn()`` where the page may be changed: at once when there is no served session (tests,
    notebooks) or this already is the session's thread; otherwise on the session's next tick,
    with ``pn.state.curdoc`` set to it.  The session is ``doc``, else that of the first of
    ``models`` (Bokeh models) in a document, else this thread's."""
    if doc is None:
        doc = next((m.document for m in models if getattr(m, "document", None) is not None), None)
    doc = doc or current_doc()
    if doc is None or doc.session_context is None or _on_session_thread(doc):
        fn()
        return

    def run() -> None:
        from panel.io.state import set_curdoc

        with set_curdoc(doc):
            fn()

    doc.add_next_tick_callback(run)


def when_page_loaded(fn: Callable[[], Any]) -> None:
    """Run ``fn()`` once the page has loaded (at once when nothing is served, or it has loaded).
    Why: work started while a page is still being built (a score map asked for by the page's
    address on a reload) could hand its result back before the page was there to show it."""
    doc = current_doc()
    if doc is None or doc.session_context is None:
        fn()
        return
    import panel as pn

    pn.state.onload(fn)


def as_session_worker(fn: Callable[[], Any], doc) -> None:
    """Run ``fn()`` on this (non-Panel) thread as if it were one of Panel's worker threads for the
    session ``doc``: widget and param changes it makes reach that page, and the event loop is
    not held while it works (an upload's decoding, say).  At once when ``doc`` is None."""
    if doc is None:
        fn()
        return
    import panel as pn
    from panel.io.state import set_curdoc

    with set_curdoc(doc):
        pn.state.execute(fn, schedule=False)


def in_background(owner, fn: Callable[[], Any], name: str) -> None:
    """Run ``fn()`` off the page's event queue when served, so the page's later events (Cancel
    first of all) are heard while it runs: a page's events are handled one after another
    (:mod:`.ordered_events`), and a run inside an event handler would hold every click behind
    it.  ``fn`` runs on its own thread as one of Panel's workers for this page (its param changes
    reach the page); at once when nothing is served (tests, notebooks).  One run at a time per
    ``owner``: a request while one goes on is dropped (the run's own state says it is busy).
    An exception is logged (the served tests fail on any logged error)."""
    doc = current_doc()
    if doc is None or doc.session_context is None:
        fn()
        return
    running = getattr(owner, "_background_run", None)
    if running is not None and running.is_alive():
        return

    def work() -> None:
        try:
            as_session_worker(fn, doc)
        except Exception:
            import logging

            logging.getLogger(__name__).exception("%s failed", name)

    thread = threading.Thread(target=work, daemon=True, name=name)
    owner._background_run = thread
    thread.start()


@dataclass(frozen=True)
class Outcome:
    """How a job ended: its ``result``, or the ``error`` it raised, or ``cancelled``."""

    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False
    seconds: float = 0.0


class Job:
    """Work in a daemon thread, one run at a time, that reports back to the page's session.

    ``start(work, on_done, on_progress)`` runs ``work(job)`` in a thread; ``work`` calls
    ``job.report(value)`` with its progress (handed to ``on_progress`` on the session's thread at
    most every ``every`` seconds) and stops early when ``job.cancelled`` is set (``cancel()``, or
    a newer start of the same job superseding it).  Its return value, or the exception it raised,
    reaches ``on_done(outcome)`` on the session's thread: no exception is ever lost in a thread.
    ``run_here`` does the same on the calling thread (scripts, tests).
    """

    def __init__(self, name: str, every: float = 0.25):
        self.name, self.every = name, every
        self.cancelled = threading.Event()
        self._thread: threading.Thread | None = None
        self._doc = None
        self._on_progress: Callable[[Any], None] | None = None
        self._last = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        self.cancelled.set()

    def report(self, value) -> None:
        """Progress from the work (any thread), handed to the page at most every ``every`` s."""
        if self._on_progress is None:
            return
        now = time.perf_counter()
        if now - self._last >= self.every:
            self._last = now
            on_progress = self._on_progress
            on_session(lambda: on_progress(value), doc=self._doc)

    def _run(self, work, on_done) -> None:
        t0 = time.perf_counter()
        try:
            result = work(self)
            outcome = Outcome(result=result, cancelled=self.cancelled.is_set())
        except Exception as exc:  # handed to the tab, never lost in a thread
            outcome = Outcome(error=exc, cancelled=self.cancelled.is_set())
        outcome = Outcome(outcome.result, outcome.error, outcome.cancelled, time.perf_counter() - t0)
        on_session(lambda: on_done(outcome), doc=self._doc)

    def start(
        self,
        work: Callable[[Job], Any],
        on_done: Callable[[Outcome], None],
        on_progress: Callable[[Any], None] | None = None,
    ) -> bool:
        """Run ``work`` in a thread; False (and nothing started) while a run is still going."""
        if self.running:
            return False
        self._prepare(on_progress)
        self._doc = current_doc()
        self._thread = threading.Thread(target=self._run, args=(work, on_done), daemon=True, name=self.name)
        self._thread.start()
        return True

    def run_here(self, work: Callable[[Job], Any], on_done: Callable[[Outcome], None]) -> None:
        """Run ``work`` on this thread (what scripts and tests call), ending in ``on_done``."""
        self._prepare(None)
        self._doc = None
        self._run(work, on_done)

    def _prepare(self, on_progress) -> None:
        self.cancelled.clear()
        self._on_progress, self._last = on_progress, 0.0

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
