"""The Panel app: thin ``param``/``Viewer`` components over the library.

``create_app()`` builds the page; ``app.py`` at the repository root serves it, and the same
object displays inline in Jupyter.
"""

from .main import create_app

__all__ = ["create_app"]
