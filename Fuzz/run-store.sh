#!/usr/bin/env bash
# Builds the store seed corpus and the store-fuzz harness, then fuzzes one kind of store file.
#   bash Fuzz/run-store.sh segment|log|catalog [SECONDS] [extra libFuzzer flags…]   (default 300 s)
# Crashes are written to Fuzz/artifacts/<kind>/; add each as a test in
# Tests/StrataTests/FuzzRegressionTests.swift.
set -euo pipefail
cd "$(dirname "$0")"
KIND="${1:?usage: run-store.sh segment|log|catalog [SECONDS] [libFuzzer flags…]}"
SECONDS_TO_RUN="${2:-300}"
shift; shift || true
case "$KIND" in segment|log) MAX_LEN=40000 ;; catalog) MAX_LEN=8192 ;; *) echo "unknown kind $KIND" >&2; exit 2 ;; esac
if [ ! -d corpus-store ]; then
  swift build --scratch-path .build-corpus --product make-store-corpus
  ./.build-corpus/debug/make-store-corpus corpus-store
fi
mkdir -p "corpus-run/$KIND" "artifacts/$KIND"
swift build -c debug -Xswiftc -sanitize=fuzzer,address --product store-fuzz
# SWIFT_BACKTRACE=enable=no: Swift's crash backtracer reads the stack in a way ASan reports as a
# stack-buffer-underflow, burying the real message (the Fatal error line above it).
SWIFT_BACKTRACE=enable=no STRATA_FUZZ_KIND="$KIND" exec ./.build/debug/store-fuzz "corpus-run/$KIND" "corpus-store/$KIND" \
  -max_len="$MAX_LEN" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="artifacts/$KIND/" "$@"
