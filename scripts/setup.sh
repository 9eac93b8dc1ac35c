#!/usr/bin/env bash
# Installs what building and testing Strata needs on a Debian machine. Safe to run again; does
# nothing when everything is present.
#   required: liblz4-dev and pkg-config (the LZ4 system library target)
#   optional: chromium (the web page's browser test, skipped without it), python3-pytest fallback
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
updated=0
update() { if [ $updated = 0 ]; then $SUDO apt-get update -qq; updated=1; fi; }

if ! pkg-config --exists liblz4 2>/dev/null || [ ! -f /usr/include/lz4.h ]; then
  echo "setup: installing liblz4-dev and pkg-config" >&2
  update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq liblz4-dev pkg-config >/dev/null
fi

if ! command -v chromium >/dev/null 2>&1 && [ "${STRATA_SKIP_BROWSER:-0}" != "1" ]; then
  echo "setup: installing chromium for the browser test (optional)" >&2
  (update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null) \
    || echo "setup: chromium not installed; the browser test will be skipped" >&2
fi

if ! python3 -c "import pytest" >/dev/null 2>&1; then
  echo "setup: installing pytest (optional, for the Python client tests)" >&2
  python3 -m pip install -q pytest >/dev/null 2>&1 || echo "setup: pytest not installed; Python client tests skipped" >&2
fi
