"""``plan(scenario) -> Plan``: prepare data, build and solve the model, extract the tables.

>>> from bioplan import plan
>>> p = plan("tests/scenario/data/tiny.yaml")                       # doctest: +SKIP
>>> p.status, round(p.objective_usd)                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bioplan.contracts import TERM_NAMES, PlanStatus
from bioplan.errors import BioplanError, SolverError
from bioplan.optimisation import (
    PlanData,
    SolveOptions,
    SolveResult,
    explain_infeasibility,
    prepare,
    solve_guarded,
)
from bioplan.results.plan import Plan
from bioplan.results.tables import extract_tables
from bioplan.scenario import Scenario, load_scenario

log = logging.getLogger(__name__)


def _scenario(scenario: Scenario | str | Path | None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def plan(
    scenario: Scenario | str | Path | None = None,
    *,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    fixed_batches: pd.DataFrame | None = None,
    save_lp: str | Path | None = None,
    marginal_values: bool = True,
    pareto: bool = True,
    solver_interface: Literal["highspy", "pyomo"] | None = None,
) -> Plan:
    """Plan production for ``scenario`` (a Scenario, a path, a shipped name, or None: the default).

    Parameters
    ----------
    time_limit_s, mip_gap, threads : override the scenario's solver settings [s, -, -].
    fixed_batches : batches (``Plan.batches`` columns; ``start_day`` may be negative) kept exactly
        as given: they hold their reactor units, count against resource limits inside the horizon,
        cost what they cost (constants) and release their product.
    save_lp : write the model to this ``.lp`` or ``.mps`` file before solving.
    marginal_values : price one more reactor of each type and one more L/day of media preparation
        by re-solving (one extra solve each); off in benchmarks.
    pareto : offer only Pareto-efficient batch options (the default; see
        :func:`bioplan.optimisation.options.pareto_options`); ``False`` offers every recipe row.
    solver_interface : ``"highspy"`` (standard-form compiler + highspy, the faster default) or
        ``"pyomo"`` (Pyomo's own HiGHS interface); overrides the scenario's ``solver.interface``.

    Returns a :class:`Plan` whose ``status`` says what happened; an infeasible scenario gives a
    plan with ``explanation`` rather than an exception. Raises :class:`SolverError` only when
    HiGHS itself fails.
    """
    t0 = time.perf_counter()
    sc = _scenario(scenario)
    options = SolveOptions(
        time_limit_s=float(time_limit_s if time_limit_s is not None else sc.solver.time_limit_s),
        mip_gap=float(mip_gap if mip_gap is not None else sc.solver.mip_gap),
        threads=int(threads if threads is not None else sc.solver.threads),
        save_lp=str(save_lp) if save_lp is not None else None,
        interface=solver_interface or sc.solver.interface,
    )
    guard = sc.solver.wall_clock_guard_s or 2 * options.time_limit_s + 30
    recipes = sc.recipe_table()
    data = prepare(sc, recipes, fixed_batches, pareto=pareto)
    t_prep = time.perf_counter() - t0
    result = solve_guarded(data, options, guard)
    timings = {
        "build": t_prep + result.timings.get("build", 0.0),
        "transfer": result.timings.get("transfer", 0.0),
        "solve": result.timings.get("solve", 0.0),
        "extract": result.timings.get("extract", 0.0),
    }
    solver = {"name": "highs", "interface": options.interface,
              "termination": str(result.termination), **result.facts}
    out = Plan(scenario=sc, status=_status(result, options), message=result.message,
               solver=solver, recipes=recipes)
    if result.failed:
        msg = f"the solver failed: {result.message.splitlines()[0]}"
        raise SolverError(msg,
                          fix="rerun with --save-lp and report the model file")
    if result.status is PlanStatus.INFEASIBLE:
        t1 = time.perf_counter()
        out.explanation, out.message = explain_infeasibility(data, options, guard)
        timings["explain"] = time.perf_counter() - t1
    elif result.status.has_solution:
        t1 = time.perf_counter()
        _fill(out, data, recipes, result, fixed_batches)
        timings["extract"] += time.perf_counter() - t1
        if marginal_values:
            t2 = time.perf_counter()
            out.marginal_values = _marginal_values(sc, recipes, fixed_batches, data, options,
                                                   guard, out.objective_usd or 0.0, result.values,
                                                   result.timings.get("solve", 1.0), pareto)
            timings["marginal"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    out.timings = timings
    log.info("plan %s: %s, objective %s USD, gap %s, %.2f s", sc.name, out.status,
             out.objective_usd, out.gap, timings["total"])
    return out


def _status(result: SolveResult, options: SolveOptions) -> PlanStatus:
    """A plan stopped at a limit within the requested gap counts as optimal."""
    if result.status is PlanStatus.FEASIBLE:
        within = result.gap is not None and result.gap <= options.mip_gap + 1e-12
        return PlanStatus.OPTIMAL if within else PlanStatus.FEASIBLE
    return result.status


class CostMismatchError(BioplanError):
    """The plan's cost tables do not add up to the solver's objective (a bug: please report)."""


COST_REL_TOL = 1e-6
"""Relative tolerance between the cost tables and the solver's objective [-]."""
COST_ABS_TOL_USD = 1e-3
"""Absolute tolerance between the cost tables and the solver's objective [USD]."""


def check_costs(tables_usd: float, solver_usd: float) -> None:
    """Raise :class:`CostMismatchError` unless the tables' total equals the solver's objective
    within ``COST_REL_TOL`` relative plus ``COST_ABS_TOL_USD``."""
    if abs(tables_usd - solver_usd) > COST_REL_TOL * max(abs(solver_usd), 1.0) + COST_ABS_TOL_USD:
        msg = (f"the cost tables add up to {tables_usd:.6f} USD but the solver's objective is "
               f"{solver_usd:.6f} USD")
        raise CostMismatchError(msg, fix="report the scenario: a cost term is built differently "
                                         "in the model and in the tables")


def _fill(out: Plan, data: PlanData, recipes: pd.DataFrame, result: SolveResult,
          fixed_batches: pd.DataFrame | None) -> None:
    tables = extract_tables(data, result.values, out.scenario, recipes, fixed_batches)
    for name in ("batches", "deliveries", "shortages", "expiries", "inventory", "occupancy",
                 "media_use", "capacity", "cost_breakdown", "cost_by_product"):
        setattr(out, name, getattr(tables, name))
    objective = result.objective_usd or 0.0
    check_costs(float(sum(tables.cost_breakdown[t] for t in TERM_NAMES)), objective)
    out.objective_usd = objective
    bound = result.bound_usd
    out.bound_usd = min(bound, objective) if bound is not None else None
    out.gap = result.gap
    if not out.message:
        out.message = f"{out.status}: {objective:,.0f} USD"


def _marginal_values(sc: Scenario, recipes: pd.DataFrame, fixed: pd.DataFrame | None,
                     data: PlanData, options: SolveOptions, guard: float, base_usd: float,
                     start: dict[str, dict[Any, float]], solve_s: float,
                     pareto: bool = True) -> pd.DataFrame:
    """Cost saved [USD over the horizon] by one more owned unit of each reactor type (before its
    own capital cost) and by one more L/day of media preparation.

    Each is the difference of two re-solves with a tenth of the plan's gap, both started from the
    plan (still feasible with the extra resource): the unchanged scenario and the one with the
    extra resource. Differences smaller than the re-solves' gaps are noise; the ``gap`` column
    gives the larger of the two. Each re-solve may take twice the plan's own solve time (at least
    2 s, at most a quarter of the time limit).
    """
    quick = SolveOptions(min(options.time_limit_s / 4, max(2.0, 2 * solve_s)),
                         options.mip_gap / 10, options.threads, start=start,
                         interface=options.interface)
    base = solve_guarded(data, quick, guard)  # ``data``: the plan's own, unchanged scenario
    reference = base_usd
    if base.status.has_solution and base.objective_usd is not None:
        reference = min(base_usd, base.objective_usd)
    base_gap = base.gap or 0.0
    rows = []
    for name in sc.reactors:
        extra = prepare(sc, recipes, fixed, extra_units={name: 1}, pareto=pareto)
        capital = sc.reactors[name].capital_cost_usd_per_unit_day * sc.horizon.days
        res = solve_guarded(extra, quick, guard)
        rows.append((f"reactor:{name}", _saving(res, reference, capital),
                     "USD saved over the horizon per extra unit (before its own capital cost)",
                     max(res.gap or 0.0, base_gap)))
    if sc.media.prep_capacity_L_per_day is not None:
        extra = prepare(sc, recipes, fixed, extra_media_L_per_day=1.0, pareto=pareto)
        res = solve_guarded(extra, quick, guard)
        rows.append(("media_prep", _saving(res, reference, 0.0),
                     "USD saved over the horizon per extra L/day of media preparation",
                     max(res.gap or 0.0, base_gap)))
    else:
        rows.append(("media_prep", 0.0, "USD saved per extra L/day (capacity unlimited)", 0.0))
    frame = pd.DataFrame(rows, columns=["resource", "usd_per_unit", "unit", "gap"])
    frame["above_noise"] = frame["usd_per_unit"] > frame["gap"] * abs(reference)
    return frame.set_index("resource")


def _saving(res: SolveResult, base_usd: float, extra_capital_usd: float) -> float:
    if not res.status.has_solution or res.objective_usd is None:
        return float("nan")
    # the re-solve charges the extra unit's capital; add it back so the value is gross
    return max(base_usd - (res.objective_usd - extra_capital_usd), 0.0)
