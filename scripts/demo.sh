#!/usr/bin/env bash
# The first command of the README: installs what the build needs (the required part of
# scripts/setup.sh: liblz4-dev and pkg-config; nothing when they are present), builds the CLI and
# runs `strata demo`, which logs a small simulated sweep into the store (`$STRATA_STORE`, else
# `./.strata`) and draws a comparison chart. Arguments are passed on to `strata demo`.
# Works on its own on a new machine, before or after scripts/test.sh; CI's .ci/run runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --required
swift run strata demo "$@"
