"""Solve options and the typed solve result shared by both routes to HiGHS and the heuristic.

A result has one :class:`~bioplan.contracts.PlanStatus` and a typed
:class:`~bioplan.contracts.Termination`; the solver's own status text is kept in
``facts["solver_status"]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from bioplan.contracts import PlanStatus, Slack, Termination
from bioplan.optimisation.data import USD_SCALE


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 60.0
    """HiGHS time limit [s] (soft; the wall-clock guard is the hard one)."""
    mip_gap: float = 0.01
    """Relative MIP gap at which HiGHS stops [-]."""
    threads: int = 1
    save_lp: str | None = None
    """Write the model to this file before solving (``.lp`` or ``.mps``, by extension)."""
    start: dict[str, dict[Any, float]] | None = None
    """A known feasible solution (``SolveResult.values`` of a related solve) to start from."""
    lp_guided_start: bool = True
    """Start large MIPs from the LP-guided heuristic plan (see ``heuristic``; ``highspy`` only)."""
    interface: Literal["highspy", "pyomo"] = "highspy"
    """How the Pyomo model reaches HiGHS: ``highspy`` (standard-form compiler, matrices passed to
    ``highspy`` in bulk; the faster route) or ``pyomo`` (Pyomo's own HiGHS interface,
    ``pyomo.contrib.solver``, see :mod:`bioplan.optimisation.solve_pyomo`; no starting solution
    and no LP-guided start)."""
    price_resources: bool = False
    """After the MIP, solve the LP with its integer decisions fixed and return the shadow prices
    of the capacity rows (``SolveResult.prices``; :mod:`bioplan.optimisation.duals`; ``highspy``
    interface only)."""
    keep_model: bool = False
    """Return the compiled model as plain arrays (``SolveResult.model``) so exact re-solves can
    change a bound and solve again without rebuilding (``highspy`` interface only)."""
    solver_log: str | None = None
    """Append HiGHS's log of every solve to this file (``bioplan plan --solver-log``); without it
    HiGHS stays silent. Nothing reaches stdout either way."""


@dataclass
class SolveResult:
    """A solve outcome; values are in the model's scaled units."""

    status: PlanStatus
    termination: Termination = Termination.OPTIMAL
    message: str = ""
    objective: float | None = None
    """Incumbent objective [model units, k$]."""
    bound: float | None = None
    """Best proven lower bound [k$]."""
    gap: float | None = None
    """(objective − bound) / |objective| [-]."""
    values: dict[str, dict[Any, float]] = field(default_factory=dict)
    """Non-zero variable values by component name and index (only with a solution)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds: ``build``, ``transfer`` (compile + hand over to HiGHS), ``solve`` (HiGHS run),
    ``extract`` (reading values)."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Model size, coefficient ranges, HiGHS version and status text, peak memory."""
    prices: dict[tuple[str, Any], float] | None = None
    """Shadow prices of the capacity rows [k$ per row unit] by (component, index), with
    ``SolveOptions.price_resources`` (None if not asked or the fixed-integer LP failed)."""
    model: Any = None
    """The compiled model as :class:`bioplan.optimisation.lp_arrays.LpArrays`, with
    ``SolveOptions.keep_model``."""
    slacks: tuple[Slack, ...] = ()
    """The elastic re-solve's slacks in build order (``m.elastic_slacks``; empty otherwise)."""

    @property
    def failed(self) -> bool:
        """HiGHS or the solve process failed (not a limit, not infeasibility)."""
        return self.termination in (Termination.ERROR, Termination.UNBOUNDED)

    @property
    def objective_usd(self) -> float | None:
        """The solver's own objective [USD]."""
        return None if self.objective is None else self.objective * USD_SCALE

    @property
    def bound_usd(self) -> float | None:
        """The solver's proven bound [USD]."""
        return None if self.bound is None else self.bound * USD_SCALE


NO_PLAN = "no plan satisfies the hard constraints"
UNBOUNDED = "model unbounded: check variable bounds"


def optimal() -> SolveResult:
    return SolveResult(PlanStatus.OPTIMAL, Termination.OPTIMAL)


def infeasible(message: str = NO_PLAN) -> SolveResult:
    return SolveResult(PlanStatus.INFEASIBLE, Termination.INFEASIBLE, message=message)


def unbounded() -> SolveResult:
    return SolveResult(PlanStatus.NO_SOLUTION, Termination.UNBOUNDED, message=UNBOUNDED)


def failure(message: str, termination: Termination = Termination.ERROR) -> SolveResult:
    """HiGHS or the solve process failed (or was killed: ``Termination.KILLED``)."""
    return SolveResult(PlanStatus.NO_SOLUTION, termination, message=message)


def stopped_early(has_solution: bool) -> SolveResult:
    """The result of a solve stopped by a limit: FEASIBLE with an incumbent, else NO_SOLUTION."""
    if has_solution:
        return SolveResult(PlanStatus.FEASIBLE, Termination.LIMIT,
                           message="stopped at the time limit with a plan")
    return SolveResult(PlanStatus.NO_SOLUTION, Termination.LIMIT,
                       message="stopped at the time limit before finding any plan")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def new_highs(time_limit_s: float, options: SolveOptions) -> Any:
    """A fresh, silent HiGHS with this time limit [s] and ``options``' gap and threads."""
    from bioplan.optimisation.quiet_highs import quiet_highs

    h = quiet_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("threads", int(options.threads))
    if options.solver_log:
        log_to_file(h, options.solver_log)
    return h


def log_to_file(h: Any, path: str) -> None:
    """Send ``h``'s log to ``path`` (appended, so a plan's several solves share one file) through
    HiGHS's logging callback; console output stays off."""
    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", False)

    def append(event: Any) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(event.message)

    h.cbLogging += append
