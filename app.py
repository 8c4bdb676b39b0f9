"""Serve the RadioViz dashboard: ``panel serve app.py`` (bundled sample data, no network needed).

Served to others: ``panel serve app.py --args --data-root DIR`` (or ``RADIOVIZ_DATA_ROOT=DIR``)
lets browser users open and list nothing outside DIR, and shows paths relative to it;
``--dask-scheduler tcp://HOST:PORT`` (or ``RADIOVIZ_DASK_SCHEDULER``) and ``--allow-scheduler
HOST:PORT`` name the only Dask schedulers the Survey tab may connect to (none: an embedded
cluster, and no scheduler box on the page).
"""

import os
import sys

from radioviz.app import create_app
from radioviz.app.main import configure

configure(sys.argv[1:])

create_app(os.environ.get("RADIOVIZ_DATA"), template=True).servable(title="RadioViz")
