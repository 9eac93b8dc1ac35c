#!/usr/bin/env bash
# A longer hostile run of the HTTP fuzz pass, for a report: several seeds, more cases per
# operation, both stores (open, tokens). Prints the counts of each run and their totals:
# requests tried, check failures (contract violations), 5xx answers, crashes (the server died),
# hangs (requests without an answer within 10 s), points acknowledged but not stored.
#   scripts/hostile-run.sh [SEEDS [EXAMPLES]]     default: SEEDS="1 2 3", EXAMPLES=200
# The example run r1 also holds steps and times at Int64.min/max (STRATA_FUZZ_EXTREMES=0: not).
# Needs the built binary (.build/debug/strata, or $STRATA_BIN) and scripts/setup.sh's Python
# environment. Exits 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
if ! strata_venv_ready; then
  echo "hostile-run: no Python test environment at $STRATA_VENV: run scripts/setup.sh first" >&2
  exit 2
fi
seeds="${1:-1 2 3}"
examples="${2:-200}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export STRATA_BIN="${STRATA_BIN:-$PWD/.build/debug/strata}"
for seed in $seeds; do
  echo "hostile-run: seed $seed, $examples cases per operation" >&2
  "$STRATA_VENV/bin/python" Tests/http/fuzz.py --seed "$seed" --examples "$examples" --timeout 1200 \
    --json "$out/seed-$seed.json" | grep -E "^http-fuzz( \[|:)|^  (failure|error):" || true
done
"$STRATA_VENV/bin/python" - "$out" <<'PY'
import glob, json, sys
runs = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/seed-*.json"))]
modes = [m for r in runs for m in r["modes"]]
if not modes:
    sys.exit("hostile-run: no run finished")
tot = lambda k: sum(m[k] for m in modes)
failures = sorted({"%s: %s" % tuple(u) for m in modes for u in m["unique"]})
errors = [e for m in modes for e in m["errors"]]
print("hostile-run: %d runs (seeds %s; open and token stores): %d requests tried, %d check failures (%d distinct), "
      "%d 5xx, %d crashes (server died), %d hangs (timeouts), %d points lost, %d unacknowledged points stored, %d other errors"
      % (len(modes), " ".join(str(r["seed"]) for r in runs), tot("requests"), tot("failures"), len(failures), tot("5xx"),
         tot("crash"), tot("hangs"), tot("lost"), tot("extra"), len(errors)))
for f in failures:
    print("  failure: " + f)
for e in errors:
    print("  error: " + e)
bad = tot("failures") or tot("5xx") or tot("crash") or tot("hangs") or tot("lost") or tot("extra") or errors
sys.exit(1 if bad else 0)
PY
