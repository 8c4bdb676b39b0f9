"""Serve the RadioViz dashboard: ``panel serve app.py`` (bundled sample data, no network needed)."""

import os

from radioviz.app import create_app

create_app(os.environ.get("RADIOVIZ_DATA"), template=True).servable(title="RadioViz")
