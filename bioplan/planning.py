"""``plan(scenario) -> Plan``: prepare data, build and solve the model, extract the tables.

>>> from bioplan import plan
>>> p = plan("tests/scenario/data/tiny.yaml")                       # doctest: +SKIP
>>> p.status, round(p.objective_usd)                                 # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

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
from bioplan.optimisation.guard import gc_paused
from bioplan.optimisation.outcome import relative_gap
from bioplan.resource_prices import attach_prices, price_mode, solve_options
from bioplan.results.plan import Plan
from bioplan.results.tables import extract_tables
from bioplan.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from bioplan.scenario.schema import Uncertainty

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
    solver_log: str | Path | None = None,
    marginal_values: bool | Literal["dual", "exact"] = "dual",
    pareto: bool = True,
    solver_interface: Literal["highspy", "pyomo"] | None = None,
    robust: Uncertainty | bool | None = None,
    search_media: bool = False,
    media_rounds: int | None = None,
    kept_forecasts: pd.DataFrame | None = None,
) -> Plan:
    """Plan production for ``scenario`` (a Scenario, a path, a shipped name, or None: the default).

    Parameters
    ----------
    time_limit_s, mip_gap, threads : override the scenario's solver settings [s, -, -].
    fixed_batches : batches (``Plan.batches`` columns; ``start_day`` may be negative) kept exactly
        as given: they hold their reactor units, count against resource limits inside the horizon,
        cost what they cost (constants) and release their product.
    save_lp : write the model to this ``.lp`` or ``.mps`` file before solving.
    solver_log : append HiGHS's log of every solve to this file (otherwise HiGHS is silent).
    marginal_values : ``"dual"`` (the default, also ``True``): shadow prices of every capacity
        row by day from one LP with the plan's integer decisions fixed (``Plan.bottlenecks``, and
        their horizon sums in ``Plan.marginal_values``); ``"exact"``: in addition, re-solve the
        plan's model with one more reactor of each type and one more L/day of media preparation
        (on a process pool, each with its own gap); ``False``: no prices (benchmarks).
        See :mod:`bioplan.resource_prices`.
    pareto : offer only Pareto-efficient batch options (the default; see
        :func:`bioplan.optimisation.options.pareto_options`); ``False`` offers every recipe row.
    solver_interface : ``"highspy"`` (standard-form compiler + highspy, the faster default) or
        ``"pyomo"`` (Pyomo's own HiGHS interface); overrides the scenario's ``solver.interface``.
    search_media : generate recipes by pricing against the plan (:mod:`bioplan.media_search`:
        column generation over each card's settings inside its validity domain, at most
        ``media_rounds`` rounds, default 10), then plan on the scenario's recipes plus the
        generated ones; ``plan.media_search`` reports them, the rounds, the duals and the
        saving against the plain plan (solved first, on the scenario's own recipes).

    robust : plan against yield samples (a two-stage stochastic program, see
        :mod:`bioplan.robust.plan`): an :class:`~bioplan.scenario.schema.Uncertainty`, or True for
        the scenario's ``uncertainty:`` block (its defaults if it has none). The deterministic plan
        is solved first and reported beside it in ``plan.robust``.
    kept_forecasts : for robust plans, the forecast table of the ``fixed_batches`` (records of
        running batches, :func:`bioplan.records.replan.forecast_kept_batches`): each kept batch
        with a forecast spread releases its own forecast draw in every sample
        (:mod:`bioplan.robust.kept`). Deterministic plans ignore it (the batches carry P50).

    Returns a :class:`Plan` whose ``status`` says what happened; an infeasible scenario gives a
    plan with ``explanation`` rather than an exception. Raises :class:`SolverError` only when
    HiGHS itself fails.
    """
    t0 = time.perf_counter()
    mode = price_mode(marginal_values)
    sc = _scenario(scenario)
    options = SolveOptions(
        time_limit_s=float(time_limit_s if time_limit_s is not None else sc.solver.time_limit_s),
        mip_gap=float(mip_gap if mip_gap is not None else sc.solver.mip_gap),
        threads=int(threads if threads is not None else sc.solver.threads),
        save_lp=str(save_lp) if save_lp is not None else None,
        solver_log=str(solver_log) if solver_log is not None else None,
        interface=solver_interface or sc.solver.interface,
    )
    guard = sc.solver.wall_clock_guard_s or 2 * options.time_limit_s + 30
    if robust:
        return _robust(sc, robust, options, guard, fixed_batches, pareto, kept_forecasts,
                       media_rounds if search_media else 0)
    search = None
    if search_media:
        from bioplan.media_search.report import run_search

        sc, search = run_search(sc, options, guard, pareto=pareto, rounds=media_rounds)
    recipes = sc.recipe_table()
    data = prepare(sc, recipes, fixed_batches, pareto=pareto)
    t_prep = time.perf_counter() - t0
    result = solve_guarded(data, solve_options(options, mode), guard)
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
        with gc_paused():  # extraction builds many small objects and no cycles worth a collection
            _fill(out, data, recipes, result, fixed_batches)
        timings["extract"] += time.perf_counter() - t1
        if mode is not None:
            t2 = time.perf_counter()
            attach_prices(out, data, result, options, mode)
            timings["marginal"] = time.perf_counter() - t2 + result.timings.get("duals", 0.0)
    # Loading Pyomo in a fresh process is start-up, not this plan's work: reported beside it
    startup = result.timings.get("startup", 0.0)
    timings["total"] = time.perf_counter() - t0 - startup
    if startup:
        timings["startup"] = startup
    out.timings = timings
    if search is not None and out.has_solution:
        timings["media_search"] = search.search.seconds
        search.attach(out)
    log.info("plan %s: %s, objective %s USD, gap %s, %.2f s", sc.name, out.status,
             out.objective_usd, out.gap, timings["total"])
    return out


def _robust(sc: Scenario, robust: Uncertainty | bool, options: SolveOptions, guard: float,
            fixed_batches: pd.DataFrame | None, pareto: bool,
            kept_forecasts: pd.DataFrame | None = None, media_rounds: int | None = 0) -> Plan:
    """The deterministic plan, then the robust plan beside it (:mod:`bioplan.robust.plan`);
    ``media_rounds`` other than 0: a media search priced against the robust program first
    (None: its default rounds; :func:`bioplan.media_search.report.robust_search_plan`; it does
    not draw kept batches from their forecasts, ``kept_forecasts`` is for the plain robust
    plan)."""
    from bioplan.robust.plan import check_engine, robust_plan
    from bioplan.scenario.schema import Uncertainty

    unc = robust if isinstance(robust, Uncertainty) else (sc.uncertainty or Uncertainty())
    check_engine(unc)
    deterministic = plan(sc, time_limit_s=options.time_limit_s, mip_gap=options.mip_gap,
                         threads=options.threads, fixed_batches=fixed_batches,
                         marginal_values=False, pareto=pareto)
    if media_rounds != 0:
        from bioplan.media_search.report import robust_search_plan

        return robust_search_plan(sc, unc, options, guard, deterministic,
                                  fixed_batches=fixed_batches, pareto=pareto, rounds=media_rounds)
    def start_plan(scenario: Scenario, gap: float) -> Plan:
        """A start, not the answer: a short solve the program re-optimises."""
        return plan(scenario, time_limit_s=max(5.0, options.time_limit_s / 6), mip_gap=gap,
                    threads=options.threads, fixed_batches=fixed_batches, marginal_values=False,
                    pareto=pareto)

    def inflated(factor: float) -> Plan:
        """The deterministic plan of the demand × ``factor`` (a start for chance constraints),
        coarse (5 % gap at least)."""
        return start_plan(sc.model_copy(update={"demand": sc.demand.model_copy(
            update={"scale": sc.demand.scale * factor})}), max(options.mip_gap, 0.05))

    def replan(extra: dict[tuple[str, int], float]) -> Plan:
        """The deterministic plan with ``extra`` units of demand per (product, day), to the
        plan's own gap: a coarse one makes each round's batches jump about."""
        return start_plan(raised_demand(sc, extra), options.mip_gap)

    return robust_plan(sc, unc, options, guard, deterministic=deterministic,
                       fixed_batches=fixed_batches, pareto=pareto, forecasts=kept_forecasts,
                       inflated=inflated, replan=replan)


def raised_demand(sc: Scenario, extra: dict[tuple[str, int], float]) -> Scenario:
    """``sc`` with ``extra`` units added to the demand of each (product, plan day), rounded up
    to whole units: daily records of the scaled demand table plus the extra [unit]."""
    from bioplan.scenario.schema import DemandRecord

    table = sc.demand_table()["units"]
    records = []
    for (day, product), units in table.items():
        total = float(units) + math.ceil(extra.get((str(product), int(day)), 0.0) - 1e-9)
        if total > 0:
            records.append(DemandRecord(date=sc.horizon.start_date + dt.timedelta(days=int(day)),
                                        product=product, units=total))
    demand = sc.demand.model_copy(update={"records": records, "scale": 1.0, "granularity": "day"})
    return sc.model_copy(update={"demand": demand})


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
    tables_usd = float(sum(tables.cost_breakdown[t] for t in TERM_NAMES))
    if tables_usd < objective - COST_REL_TOL * max(abs(objective), 1.0) - COST_ABS_TOL_USD:
        # the whole-unit dispatch (first-expiry-first, optimal for the fixed releases) can only
        # improve on the solver's deliveries; the plan is then that much cheaper
        log.info("whole-unit dispatch: %.2f USD below the solver's objective", objective - tables_usd)
        objective = tables_usd
    elif (result.facts.get("whole_units") or {}).get("whole") is False:
        # the whole-unit pass found no plan: the plan is the main solve's, each release day's
        # cells packaged into the whole units they make (dearer than the solver's objective)
        log.warning("whole units: the main plan rounded down costs %.2f USD more",
                    tables_usd - objective)
        objective = tables_usd
    check_costs(tables_usd, objective)
    out.objective_usd = objective
    bound = result.bound_usd
    out.bound_usd = min(bound, objective) if bound is not None else None
    out.gap = (relative_gap(objective, out.bound_usd) if objective != result.objective_usd
               else result.gap)
    if not out.message:
        out.message = f"{out.status}: {objective:,.0f} USD"
