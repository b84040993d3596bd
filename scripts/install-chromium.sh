#!/usr/bin/env bash
# Make /usr/bin/chromium exist for the browser tests (tests/ui/), from Debian's packages.
#
# Playwright drives this system browser (executable_path="/usr/bin/chromium"); the tests
# never download a browser of their own. Idempotent and non-interactive: exits at once when
# chromium is already installed, so `make test` can call it every time.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium
"$CHROMIUM" --version
