#!/usr/bin/env bash
# Builds the Parquet seed corpus and the parquet-fuzz harness, then fuzzes the Parquet reader.
#   bash Fuzz/run-parquet.sh [SECONDS] [extra libFuzzer flags…]   (default 300 s)
# Crashes are written to Fuzz/artifacts/parquet/; add each as a test in
# Tests/StrataParquetTests/FuzzTests.swift.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN="${1:-300}"
shift || true
if [ ! -d corpus-parquet ]; then
  swift build --scratch-path .build-corpus --product make-parquet-corpus
  ./.build-corpus/debug/make-parquet-corpus corpus-parquet ../Tests/StrataParquetTests/Fixtures/*.parquet
fi
mkdir -p corpus-run/parquet artifacts/parquet
swift build -c debug -Xswiftc -sanitize=fuzzer,address --product parquet-fuzz
SWIFT_BACKTRACE=enable=no exec ./.build/debug/parquet-fuzz corpus-run/parquet corpus-parquet \
  -max_len=20000 -max_total_time="$SECONDS_TO_RUN" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="artifacts/parquet/" "$@"
