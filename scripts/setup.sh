#!/usr/bin/env bash
# Installs what building Strata needs on a Debian machine: the liblz4 headers and pkg-config file.
# Safe to run again; does nothing when everything is present.
set -euo pipefail
if pkg-config --exists liblz4 2>/dev/null && [ -f /usr/include/lz4.h ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "setup: installing liblz4-dev and pkg-config" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq liblz4-dev pkg-config >/dev/null
