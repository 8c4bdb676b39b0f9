#!/usr/bin/env bash
# Create (or reuse) the virtual environment and install RadioViz into it.
#   RADIOVIZ_VENV   where the environment lives (default: .venv in the repository)
#   EXTRAS          pip extras to install, e.g. "test"
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${RADIOVIZ_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip
# The CPU build of torch first: an unpinned torch would pull several GB of CUDA packages.
"$PY" -c "import torch" 2>/dev/null || "$PY" -m pip install -q "torch==2.13.0"
if [ -n "${EXTRAS:-}" ]; then
  "$PY" -m pip install -q -e ".[${EXTRAS}]"
else
  "$PY" -m pip install -q -e .
fi
