#!/usr/bin/env bash
# Install everything the test suite needs and run it: Python packages into .venv, a real
# WordPress (Debian packages) on 127.0.0.1, Chromium for the sandbox page, then ruff and
# pytest. Safe to run again; extra arguments go to pytest (`bash scripts/test.sh tests/unit`).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

bash scripts/wordpress/install.sh
bash scripts/wordpress/start.sh
bash scripts/install-chromium.sh  # the sandbox page is tested in a real headless browser

.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
