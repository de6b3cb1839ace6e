"""The planning optimisation: Scenario + recipe table -> Pyomo model -> HiGHS -> solution.

The only package that imports Pyomo (inside ``model``, the constraint modules and ``solve``).
Steps, each usable on its own:

- :func:`prepare` — scenario and recipe table to plain data in scaled units (no Pyomo);
- :func:`build_model` — the MILP, one ``add_<concern>_constraints`` function per group;
- :func:`solve_model` / :func:`solve_guarded` — HiGHS, in a child process with a wall-clock guard;
- :func:`explain_infeasibility` — elastic re-solve naming the resource that falls short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# first: Pyomo's import must not finalise the scipy already imported (see the module)
import bioplan.optimisation.pyomo_import  # noqa: F401
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.explain import explain_infeasibility
from bioplan.optimisation.guard import build_and_solve, solve_guarded
from bioplan.optimisation.inputs import prepare
from bioplan.optimisation.outcome import SolveOptions, SolveResult

if TYPE_CHECKING:
    import pyomo.core as pyo

__all__ = [
    "PlanData",
    "SolveOptions",
    "SolveResult",
    "build_and_solve",
    "build_model",
    "explain_infeasibility",
    "prepare",
    "solve_guarded",
    "solve_model",
]


def build_model(data: PlanData, *, elastic: bool = False) -> pyo.ConcreteModel:
    """See :func:`bioplan.optimisation.model.build_model` (imports Pyomo on first use)."""
    from bioplan.optimisation.model import build_model as _build

    return _build(data, elastic=elastic)


def solve_model(m: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    """See :func:`bioplan.optimisation.solve.solve_model`."""
    from bioplan.optimisation.solve import solve_model as _solve

    return _solve(m, options)
