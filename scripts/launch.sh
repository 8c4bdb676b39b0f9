#!/usr/bin/env bash
# Set up and launch the dashboard on the bundled sample data: http://localhost:5006/app
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${RADIOVIZ_VENV:-.venv}"
exec "$VENV/bin/panel" serve app.py --warm "$@"  # --warm: the first visitor does not wait for the imports and models
