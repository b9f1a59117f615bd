#!/usr/bin/env bash
# Headless Chromium from Debian for the sandbox's browser test (tests/e2e/test_sandbox.py).
# The test drives Chromium over the DevTools protocol, so no chromedriver is needed.
# Idempotent: returns at once when Chromium is already installed. Needs root and apt.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-chromium.sh: Chromium is missing; run as root to install it with apt-get" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
