"""Serve the RadioViz dashboard: ``panel serve app.py`` (bundled sample data, no network needed).

Served to others: ``panel serve app.py --args --data-root DIR`` (or ``RADIOVIZ_DATA_ROOT=DIR``)
lets browser users open and list nothing outside DIR, and shows paths relative to it.
"""

import argparse
import os
import sys

from radioviz.app import create_app, resources

_parser = argparse.ArgumentParser(prog="panel serve app.py --args")
_parser.add_argument("--data-root", help="the only folder browser users may open (also RADIOVIZ_DATA_ROOT)")
_args, _ = _parser.parse_known_args(sys.argv[1:])
if _args.data_root:
    resources.set_data_root(_args.data_root)

create_app(os.environ.get("RADIOVIZ_DATA"), template=True).servable(title="RadioViz")
