"""A fresh process's one-off start-up: Pyomo loads without ``scipy.stats``, and the time it takes
is reported as ``startup``, apart from the plan's own ``total``.

Each check runs in a new interpreter, since only the first plan of a process pays the start-up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_FIRST_PLANS = """
import json, sys
import bioplan.yields  # imports scipy (the yield models' scipy.linalg) before Pyomo, as the CLI does
from bioplan.planning import plan
from tests.optimisation.builders import base, build, demand
scenario = build(demand(base(), {14: 3, 21: 2}))
first = plan(scenario, marginal_values=False)
second = plan(scenario, marginal_values=False)
print(json.dumps({"first": first.timings, "second": second.timings,
                  "stats": "scipy.stats" in sys.modules, "scipy": "scipy" in sys.modules,
                  "environ": "pyomo.environ" in sys.modules}))
"""


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pyomo_keeps_scipy_deferred_and_startup_is_reported_apart() -> None:
    """Without :mod:`bioplan.optimisation.pyomo_import`, Pyomo finalises the scipy already
    imported by importing ``scipy.stats`` (1-3 s); with it, a plan never loads ``scipy.stats``.
    The first plan reports its start-up; its ``total`` is its own stages only (they add up to it
    within the small bookkeeping between them), and the second plan has no start-up."""
    got = _run(_FIRST_PLANS)
    assert got["scipy"] and not got["stats"]
    assert not got["environ"]  # pyomo.core is enough (pyomo.environ loads every plugin: ~0.5 s)
    first, second = got["first"], got["second"]
    assert first["startup"] > 0
    assert "startup" not in second
    stages = sum(first[k] for k in ("build", "transfer", "solve", "extract"))
    assert stages <= first["total"] + 1e-6
    assert first["total"] - stages < 0.25 * first["total"]


def test_pyomo_without_the_workaround_would_import_scipy_stats() -> None:
    """The premise of the workaround, so the test above would notice if Pyomo stopped doing it
    (then the workaround can go): importing Pyomo after scipy imports ``scipy.stats``."""
    got = _run("import json, sys, scipy, pyomo.core\n"
               "print(json.dumps({'stats': 'scipy.stats' in sys.modules}))")
    assert got["stats"]
