"""A session's widget events handled in the order they were sent, sessions still in parallel.

Panel's ``nthreads`` hands every browser event to a shared thread pool, so two events of one page
(pick a model in a box, then press Compute a moment later) may run at the same time, and the second
can see the state from before the first.  That is the class of bug behind a user's "Compute used
the old model" and behind tests that passed alone and failed under load.

:class:`SessionOrderedExecutor` replaces that pool: work submitted for a document (the first
``Document`` among the task's arguments) waits for that document's previous task, while tasks of
other documents run on the free threads.  One session's slow callback therefore delays only that
session, as it would for a person working through a list of steps.
"""

from __future__ import annotations

import functools
import threading
import weakref
from concurrent.futures import Executor, Future, ThreadPoolExecutor

from bokeh.document import Document


def _document_of(fn, args, kwargs) -> Document | None:
    """The document a Panel task belongs to: an argument, or one bound in a ``functools.partial``."""
    candidates = list(args) + list(kwargs.values())
    while isinstance(fn, functools.partial):
        candidates += list(fn.args) + list(fn.keywords.values())
        fn = fn.func
    return next((a for a in candidates if isinstance(a, Document)), None)


class SessionOrderedExecutor(Executor):
    """A thread pool that runs one document's tasks one after another, in submission order."""

    def __init__(self, max_workers: int | None = None):
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="session-event")
        self._lock = threading.Lock()
        self._last: weakref.WeakKeyDictionary[Document, Future] = weakref.WeakKeyDictionary()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        doc = _document_of(fn, args, kwargs)
        if doc is None:
            return self._pool.submit(fn, *args, **kwargs)
        done: Future = Future()

        def run() -> None:
            if not done.set_running_or_notify_cancel():
                return
            try:
                done.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to Panel's own handler through the future
                done.set_exception(exc)

        with self._lock:
            previous = self._last.get(doc)
            self._last[doc] = done
        if previous is None:
            self._pool.submit(run)
        else:  # runs at once if the previous task already ended
            previous.add_done_callback(lambda _: self._pool.submit(run))
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def order_session_events(max_workers: int = 4) -> None:
    """Make Panel's event pool keep each session's events in order (idempotent)."""
    from panel.io.state import state

    if isinstance(state._thread_pool, SessionOrderedExecutor):
        return
    old = state._thread_pool
    state._thread_pool = SessionOrderedExecutor(max_workers)
    if old is not None:
        old.shutdown(wait=False)
