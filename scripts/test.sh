#!/usr/bin/env bash
# The test command of the README: builds everything and runs every test suite
# (Swift: codecs, engine, queries, crash and concurrency, CLI, server; Python: the client; the HTTP
# fuzz pass of docs/openapi.yaml against a live server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build --parallel --num-workers 2

source scripts/python-env.sh
if strata_venv_ready; then
  py="$STRATA_VENV/bin/python"
elif python3 -c "import pytest" >/dev/null 2>&1; then
  py=python3
  echo "test: the Python test environment $STRATA_VENV is missing (scripts/setup.sh could not make it); client tests run with the system pytest" >&2
else
  py=""
  echo "test: SKIPPED the Python client tests: no Python test environment ($STRATA_VENV) and no pytest (see scripts/setup.sh's message)" >&2
fi
if [ -n "$py" ]; then
  rc=0
  STRATA_BIN="$PWD/.build/debug/strata" "$py" -m pytest -q -rs clients/python/tests Tests/python Tests/web || rc=$?
  # 5: pytest collected no test at all, which means the suite is gone or broken, not that it passed.
  if [ $rc = 5 ]; then echo "test: pytest collected no tests in clients/python/tests" >&2; exit 1; fi
  if [ $rc != 0 ]; then exit $rc; fi
fi

STRATA_BIN="$PWD/.build/debug/strata" bash scripts/http-fuzz.sh
