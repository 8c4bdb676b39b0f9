"""RadioViz: generative models and halo classifiers for MWA/GLEAM radio images.

Layers import one way: ``io``/``data`` → ``models`` → ``sampling`` → ``metrics`` → ``scan`` →
``app``.  Nothing here imports the app; everything works the same from a notebook or the CLI.
"""

__version__ = "0.1.0"
