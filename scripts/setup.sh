#!/usr/bin/env bash
# Installs what building and testing Strata needs on a Debian machine. Safe to run again; does
# nothing when everything is present.
#   required: liblz4-dev, libzstd-dev, libsnappy-dev, zlib1g-dev, libsqlite3-dev and pkg-config (the
#             system library targets CLZ4, CZstd, CSnappy, CZlib and CSQLite)
#   optional: chromium (the web page's browser test, skipped without it); the Python test
#             environment of requirements-test.txt (client tests, HTTP fuzz pass)
# `setup.sh --required` installs only the required part: what `swift build` needs (scripts/demo.sh).
set -euo pipefail
required_only=0
case "${1:-}" in
  --required) required_only=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--required]" >&2; exit 2 ;;
esac
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
updated=0
update() { if [ $updated = 0 ]; then $SUDO apt-get update -qq; updated=1; fi; }

if ! pkg-config --exists liblz4 libzstd snappy zlib sqlite3 2>/dev/null || [ ! -f /usr/include/lz4.h ] \
   || [ ! -f /usr/include/zstd.h ] || [ ! -f /usr/include/snappy-c.h ] || [ ! -f /usr/include/zlib.h ] \
   || [ ! -f /usr/include/sqlite3.h ]; then
  echo "setup: installing liblz4-dev, libzstd-dev, libsnappy-dev, zlib1g-dev, libsqlite3-dev and pkg-config" >&2
  update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq liblz4-dev libzstd-dev libsnappy-dev zlib1g-dev libsqlite3-dev pkg-config >/dev/null
fi
if [ $required_only = 1 ]; then exit 0; fi

if ! command -v chromium >/dev/null 2>&1 && [ "${STRATA_SKIP_BROWSER:-0}" != "1" ]; then
  echo "setup: installing chromium for the browser test (optional)" >&2
  (update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null) \
    || echo "setup: chromium not installed; the browser test will be skipped" >&2
fi

# The Python test environment (requirements-test.txt: pytest for the client tests, schemathesis and
# openapi-spec-validator for the HTTP fuzz pass), in a virtual environment cached outside the
# checkout and reused when present. When it cannot be made, say why; scripts/test.sh then skips
# the suites that need it, saying so.
source "$(dirname "$0")/python-env.sh"
if ! strata_venv_ready; then
  echo "setup: creating the Python test environment $STRATA_VENV" >&2
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    echo "setup: installing python3-venv" >&2
    (update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null) \
      || echo "setup: python3-venv not installed" >&2
  fi
  rm -rf "$STRATA_VENV"
  mkdir -p "$(dirname "$STRATA_VENV")"
  log="$(mktemp)"
  if python3 -m venv "$STRATA_VENV" >"$log" 2>&1 \
     && "$STRATA_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$STRATA_REQUIREMENTS" >>"$log" 2>&1; then
    touch "$STRATA_VENV/.strata-complete"
  else
    echo "setup: could not install requirements-test.txt; the Python client tests and the HTTP fuzz pass will be skipped:" >&2
    tail -5 "$log" >&2
    rm -rf "$STRATA_VENV"
  fi
  rm -f "$log"
fi
