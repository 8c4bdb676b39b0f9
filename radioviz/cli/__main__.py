"""``python -m radioviz.cli``."""

import sys

from . import main

sys.exit(main())
