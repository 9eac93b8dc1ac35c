"""Old import name of the Strata client, kept for checkouts on PYTHONPATH: ``import strata`` is
``strata_metrics`` (the same module object). Not installed by ``pip install``: on PyPI the name
``strata`` belongs to another project; installed code imports ``strata_metrics``.
"""
import sys
import warnings

import strata_metrics

warnings.warn("`import strata` is the old name of the Strata client; use `import strata_metrics`",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = strata_metrics
