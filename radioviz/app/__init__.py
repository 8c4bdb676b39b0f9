"""The Panel app: thin ``param``/``Viewer`` components over the library.

``create_app()`` builds the page; ``app.py`` at the repository root serves it, and the same
object displays inline in Jupyter.  Panel is imported only when a view module is: the app's
session state (:mod:`.state`) and its other pure modules load without it.
"""

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .main import create_app

        return create_app
    raise AttributeError(name)
