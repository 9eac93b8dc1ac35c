"""Where the tests in this folder find the binaries they drive: an environment variable if set
(scripts/test.sh sets STRATA_BIN), else the debug build in REPO/.build. A missing binary skips the
calling test with the reason."""
import os

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def built(product, env_var, build="swift build"):
    path = os.environ.get(env_var) or os.path.join(REPO, ".build", "debug", product)
    if not os.access(path, os.X_OK):
        pytest.skip(f"no {product} at {path} (build with `{build}` or set {env_var})")
    return path
