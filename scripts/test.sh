#!/usr/bin/env bash
# The test command of the README: builds everything and runs every test suite
# (Swift: codecs, engine, queries, crash and concurrency, CLI, server; Python: the client; the HTTP
# fuzz pass of docs/openapi.yaml against a live server), and builds the library's documentation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Warnings are errors in the package's own library and executable targets (Package.swift reads
# this; the test targets are built with warnings shown). Set to 0 to build with warnings allowed.
export STRATA_WARNINGS_AS_ERRORS="${STRATA_WARNINGS_AS_ERRORS:-1}"
swift build --build-tests
python3 scripts/layers.py --self-test && python3 scripts/layers.py
# Unsafe pointer code only in files named for it (Unsafe/ folders, ...Unsafe.swift), the codecs and
# the I/O layer: anything else fails.
python3 scripts/unsafe_files.py --self-test && python3 scripts/unsafe_files.py
# The DocC catalog of the library (Sources/Strata/Strata.docc and the doc comments): any warning,
# such as a symbol link that does not resolve or a documented parameter that does not exist, fails.
swift package generate-documentation --target Strata --warnings-as-errors
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

# Formatting: the committed .swift-format (rules and reasons in docs/STYLE.md). `swift format format
# -i --recursive Sources Tests Benchmarks` fixes every finding this reports.
swift format lint --strict --recursive Sources Tests Benchmarks
