"""The Panel app: thin ``param``/``Viewer`` components over the library.

``create_app()`` builds the page; ``app.py`` at the repository root serves it, and the same
object displays inline in Jupyter.
"""

import holoviews.plotting.bokeh  # noqa: F401  (the views' HoloViews .opts need the bokeh backend registered)

from .main import create_app

__all__ = ["create_app"]
