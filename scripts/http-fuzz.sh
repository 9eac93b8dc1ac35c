#!/usr/bin/env bash
# The HTTP fuzz pass (Tests/http/fuzz.py): schemathesis against a live `strata serve` on loopback,
# an open store, one with tokens, and the run-management routes (delete, restore, fork) with an
# accounting of their own, checked against docs/openapi.yaml. Bounded: a fixed seed, at
# most $STRATA_FUZZ_EXAMPLES (default 40) generated cases per operation (schemathesis --max-examples),
# and a hard limit per store. Ends with one line of counts (requests tried, check failures, 5xx, crashes, hangs,
# points lost). Arguments go to fuzz.py (--examples N, --seed S, --modes open,tokens,manage, --keep DIR).
# Skipped, saying why, when the Python test environment of scripts/setup.sh is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
if ! strata_venv_ready; then
  echo "http-fuzz: SKIPPED: no Python test environment at $STRATA_VENV (scripts/setup.sh could not install requirements-test.txt)" >&2
  exit 0
fi
export STRATA_BIN="${STRATA_BIN:-$PWD/.build/debug/strata}"
exec "$STRATA_VENV/bin/python" Tests/http/fuzz.py --examples "${STRATA_FUZZ_EXAMPLES:-40}" "$@"
