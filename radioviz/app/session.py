"""Where the app's views import the one hand-back from: :func:`.jobs.on_session` (run a change to
Bokeh models on the session's thread).  Kept as an import path for the views that still use it."""

from .jobs import on_session

__all__ = ["on_session"]
