"""Price a plan's resources: shadow prices from one fixed-integer LP, exact re-solves on request.

``plan(..., marginal_values="dual")`` (the default) asks the plan's own solve process to fix the
integer decisions and solve one LP after the MIP (:mod:`bioplan.optimisation.duals`): the
``bottlenecks`` table and the horizon values in ``marginal_values`` (``method`` = ``dual``) cost
one LP, no rebuild. ``marginal_values="exact"`` adds re-solves of the plan's compiled model with
one more reactor of each type / one more L/day of media preparation
(:mod:`bioplan.optimisation.exact_prices`, ``method`` = ``resolve``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any, Literal

import pandas as pd

from bioplan.optimisation import SolveOptions, SolveResult
from bioplan.optimisation.data import USD_SCALE, PlanData
from bioplan.optimisation.duals import price_records, shadow_prices
from bioplan.results.bottlenecks import bottleneck_table, dual_marginal_values, marginal_frame
from bioplan.results.plan import Plan

log = logging.getLogger(__name__)

PriceMode = Literal["dual", "exact"]
MODES: tuple[str, ...] = ("dual", "exact")
EXACT_WORKERS = 2
"""Processes for the exact re-solves (this machine has 2 cores)."""


def price_mode(marginal_values: bool | str | None) -> PriceMode | None:
    """``"dual"`` / ``"exact"`` / None (off) from ``plan``'s ``marginal_values`` argument
    (``True`` = ``"dual"``, ``False`` / None = off)."""
    if marginal_values is True:
        return "dual"
    if marginal_values is False or marginal_values is None:
        return None
    if marginal_values not in MODES:
        msg = (
            f"marginal_values must be one of {MODES}, True or False, "
                         f"not {marginal_values!r}"
        )
        raise ValueError(msg)
    return "exact" if marginal_values == "exact" else "dual"


def solve_options(options: SolveOptions, mode: PriceMode | None) -> SolveOptions:
    """The plan's solve options with the hooks ``mode`` needs (the ``highspy`` route only)."""
    if mode is None or options.interface != "highspy":
        return options
    return replace(options, price_resources=True, keep_model=mode == "exact")


def attach_prices(out: Plan, data: PlanData, result: SolveResult, options: SolveOptions,
                  mode: PriceMode) -> None:
    """Fill ``out.bottlenecks`` and ``out.marginal_values`` from ``result`` (and, for
    ``"exact"``, the re-solves)."""
    prices = result.prices
    tried = result.facts.get("dual_lp")
    if prices is None and tried is not None:  # the solve process ran the LP and it failed
        log.warning("no shadow prices: %s", tried.get("message", ""))
    elif prices is None:  # Pyomo's interface keeps no compiled model: the stand-alone route
        duals = shadow_prices(data, result.values, threads=options.threads,
                              time_limit_s=options.time_limit_s)
        prices = duals.prices if duals.ok else None
        if not duals.ok:
            log.warning("no shadow prices: %s", duals.message)
    sc = out.scenario
    out.bottlenecks = bottleneck_table(price_records(prices or {}), sc.horizon.start_date)
    values = dual_marginal_values(out.bottlenecks, sc)
    if prices is None:  # unknown, not zero
        values["usd_per_unit"] = float("nan")
    if mode == "exact":
        exact = exact_marginal_values(out, data, result, options)
        values = pd.concat([exact, values.drop(index=exact.index, errors="ignore")])
    out.marginal_values = values


def exact_marginal_values(out: Plan, data: PlanData, result: SolveResult,
                          options: SolveOptions) -> pd.DataFrame:
    """One re-solve per reactor type (and media preparation), each with the plan's gap and at
    most the plan's own HiGHS time (at least 1 s, at most a quarter of the time limit) [USD]."""
    from bioplan.optimisation.exact_prices import exact_values
    from bioplan.results.bottlenecks import HORIZON_UNITS

    model = result.model if result.model is not None else _compile(data)
    solve_s = result.timings.get("solve", 1.0)
    quick = replace(options, time_limit_s=min(options.time_limit_s / 4, max(1.0, solve_s)))
    t0 = time.perf_counter()
    outcomes = exact_values(data, model, result.values, quick, workers=EXACT_WORKERS)
    log.info("%d exact re-solves in %.2f s", len(outcomes), time.perf_counter() - t0)
    # re-solves are of the main model (units not yet whole): compare with its own objective
    base = (result.facts.get("whole_units") or {}).get("fractional_objective_usd") \
        or out.objective_usd or 0.0
    plan_gap = out.gap or 0.0
    rows = []
    for o in outcomes:
        saving = (round(max(base - o.objective * USD_SCALE, 0.0), 6) if o.objective is not None
                  else float("nan"))
        gap = max(o.gap or 0.0, plan_gap)
        rows.append((o.resource, saving, HORIZON_UNITS[o.resource.split(":", 1)[0]], gap,
                     bool(saving > gap * abs(base)), "resolve"))
    return marginal_frame(rows)


def _compile(data: PlanData) -> Any:
    """The plan's model compiled here (when its solve did not keep it: Pyomo's interface)."""
    from bioplan.optimisation.capacity_rows import capacity_rows
    from bioplan.optimisation.compile import compile_model
    from bioplan.optimisation.lp_arrays import LpArrays
    from bioplan.optimisation.model import build_model

    model = build_model(data)  # alive while its rows are read (their block is a weak reference)
    lp, columns, rows, _facts = compile_model(model)
    keys = [(v.parent_component().local_name, v.index()) for v in columns]
    return LpArrays.from_highs_lp(lp, keys, capacity_rows(rows))
