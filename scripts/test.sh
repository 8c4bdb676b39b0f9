#!/usr/bin/env bash
# Set up and run the whole test suite (browser tests included: Debian's chromium is installed
# when missing and we are root).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=test bash scripts/setup.sh
VENV="${RADIOVIZ_VENV:-.venv}"
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "warning: could not install chromium; browser tests will fail" >&2
fi
exec "$VENV/bin/python" -m pytest "$@"
