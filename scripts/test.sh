#!/usr/bin/env bash
# The test command of the README: builds everything and runs every test suite
# (Swift: codecs, engine, queries, crash and concurrency, CLI, server; Python: the client).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build --parallel --num-workers 2
if python3 -c "import pytest" >/dev/null 2>&1; then
  STRATA_BIN="$PWD/.build/debug/strata" python3 -m pytest -q clients/python/tests
else
  echo "pytest is not installed: Python client tests not run" >&2
fi
