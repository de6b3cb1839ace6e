"""bioplan: plan in vitro manufacture of red blood cells and platelets.

The public Python API. Names are imported lazily so that ``import bioplan`` stays fast and does
not pull in Pyomo until a plan is built.

>>> import bioplan
>>> card = bioplan.load_card("cb-erythroid-giarratana")      # doctest: +SKIP
>>> plan = bioplan.plan()                                     # the built-in default scenario  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "BioplanError": "bioplan.errors",
    "InputError": "bioplan.errors",
    "InfeasibleError": "bioplan.errors",
    "SolverError": "bioplan.errors",
    "ExitCode": "bioplan.errors",
    "load_card": "bioplan.yields",
    "list_cards": "bioplan.yields",
    "simulate": "bioplan.yields",
    "recipe_table": "bioplan.yields",
    "Scenario": "bioplan.scenario",
    "load_scenario": "bioplan.scenario",
    "plan": "bioplan.planning",
    "Plan": "bioplan.results",
    "check_plan": "bioplan.results",
    "sweep": "bioplan.sweeps",
    "evaluate": "bioplan.robust.evaluate",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'bioplan' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(module), name)
