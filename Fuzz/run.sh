#!/usr/bin/env bash
# Builds the seed corpus and the libFuzzer harness, then fuzzes the column decoders.
#   bash Fuzz/run.sh [SECONDS] [extra libFuzzer flags…]      (default 300 s, one process)
# Crashes are written to Fuzz/artifacts/; add each as a test in Tests/StrataCodecsTests/FuzzRegressionTests.swift.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN="${1:-300}"
shift || true
swift build --scratch-path .build-corpus --product make-corpus
mkdir -p corpus artifacts
./.build-corpus/debug/make-corpus corpus
swift build -c debug -Xswiftc -sanitize=fuzzer,address --product codec-fuzz
exec ./.build/debug/codec-fuzz corpus -max_len=20000 -max_total_time="$SECONDS_TO_RUN" \
  -print_final_stats=1 -artifact_prefix=artifacts/ "$@"
