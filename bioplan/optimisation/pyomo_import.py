"""Import Pyomo without its eager ``scipy.stats`` import (1-3 s per process).

When ``pyomo.common.dependencies`` is first imported it looks at ``sys.modules``: a dependency
already imported is finalised on the spot, and scipy's finaliser imports ``scipy.stats``,
``scipy.integrate`` and ``scipy.spatial``; a dependency not yet imported is deferred until Pyomo
touches it. bioplan imports scipy (the yield models' ``scipy.linalg``) long before Pyomo, so every
process that planned paid for ``scipy.stats`` — 1.0 s of the default plan's 1.9 s outside HiGHS
on an idle machine — although Pyomo uses scipy only in its own standard-form compiler, our
fallback (:mod:`bioplan.optimisation.compile`). Importing the dependency table while scipy is out
of sight leaves Pyomo's ``scipy`` deferred; it resolves to the same module on first use.
"""

from __future__ import annotations

import sys


def import_pyomo_deferring_scipy() -> None:
    """Import ``pyomo.common.dependencies`` with scipy deferred, once per process."""
    if "pyomo.common.dependencies" in sys.modules:
        return
    scipy = sys.modules.pop("scipy", None)
    try:
        import pyomo.common.dependencies  # noqa: F401
    finally:
        if scipy is not None:
            sys.modules["scipy"] = scipy


import_pyomo_deferring_scipy()
