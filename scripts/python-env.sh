# Sourced by scripts/setup.sh, scripts/test.sh and scripts/http-fuzz.sh: where the Python virtual
# environment of the tests lives. It is cached outside the checkout (CI clones afresh, so a cache
# inside the clone would never survive), keyed by the SHA-256 of requirements-test.txt: changing a
# pin makes a new environment. A complete one holds the marker file .strata-complete.
STRATA_REQUIREMENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/requirements-test.txt"
STRATA_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/strata-venv-$(sha256sum "$STRATA_REQUIREMENTS" | cut -d' ' -f1)"
strata_venv_ready() { [ -f "$STRATA_VENV/.strata-complete" ] && [ -x "$STRATA_VENV/bin/python" ]; }
