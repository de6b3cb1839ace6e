"""Robust plans: the two-stage stochastic program over yield samples, solved and reported.

:func:`robust_plan` builds the program's data (the deterministic :class:`PlanData` plus one yield
factor per slot and sample, :mod:`bioplan.robust.samples`), solves it with the chosen engine
(``ef``: the extensive form through the planner's guarded HiGHS route with the LP-guided start;
``ph``: progressive hedging with mpi-sppy, :mod:`bioplan.robust.ph`), and returns an ordinary
:class:`Plan`: its first stage is the program's, its tables the plan as planned (nominal yields,
re-dispatched optimally), and ``plan.robust`` what robustness costs and buys
(:mod:`bioplan.robust.metrics`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from bioplan.contracts import PlanStatus
from bioplan.errors import InputError, SolverError
from bioplan.optimisation import SolveOptions, SolveResult, prepare
from bioplan.optimisation.chance import EXCESS_TOL, chance_excess, excused_samples
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.guard import solve_guarded
from bioplan.optimisation.stochastic import (
    FIRST_STAGE,
    StochasticData,
    relaxed_bounds,
    slot_windows,
    solve_extensive_form,
)
from bioplan.results.evaluation import json_safe
from bioplan.results.kpis import units_by_product
from bioplan.results.plan import Plan
from bioplan.results.tables import extract_tables
from bioplan.robust.kept import RECORD_KEY, kept_batches, kept_factors, kept_record, sample_releases
from bioplan.robust.realised import realised_plan
from bioplan.robust.samples import (
    SEGMENT_LOTS,
    factor_grid,
    pick,
    segment_model,
    slot_keys,
    units_needed,
)
from bioplan.robust.starts import INFLATION, plan_integers, program_start

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty

log = logging.getLogger(__name__)


def stochastic_data(scenario: Scenario, data: PlanData, unc: Uncertainty, samples: int,
                    seed: int, *, targets: bool = True,
                    levels: dict[str, float] | None = None,
                    pool_like: Plan | None = None,
                    kept: pd.DataFrame | None = None, segments: bool = True) -> StochasticData:
    """The program's data for ``samples`` draws from ``seed`` (``targets=False``: expected cost
    only, no chance constraint or risk measure; ``levels``: each product's own service level in
    the chance constraint, at ``unc.confidence``, default 0.9; ``pool_like``: see
    :func:`pooled_keys`; ``kept``: kept batches drawn from their forecasts,
    :func:`bioplan.robust.kept.kept_batches`). With ``segments`` (and no ``pool_like``) each
    batch yields its own lots' draws (:func:`lot_segments`); else one draw per slot."""
    recipes = scenario.recipe_table()
    keys = slot_keys(data, scenario)
    per_slot = not segments or (pool_like is not None and pool_like.has_solution)
    if pool_like is not None and pool_like.has_solution:
        keys = pooled_keys(keys, plan_integers(pool_like, data)["slot_batches"])
    grid = factor_grid(scenario, recipes, [k[0] for k in keys], samples, seed, unc.yield_cv,
                       lots=4 if per_slot else SEGMENT_LOTS, uncertainty=unc.yield_uncertainty)
    cvar = unc.cvar() if targets else None
    chance = targets and (unc.service_level is not None or levels is not None)
    if per_slot:
        factors = pick(grid, keys, samples)
        base, caps, seg = relaxed_bounds(data, factors), None, None
    else:
        base, caps, seg = lot_segments(data, grid, samples)
        factors = (seg * caps[None]).sum(axis=2) / np.maximum(caps.sum(axis=1), 1e-12)[None]
    sd = StochasticData(
        base=base, factors=factors, segment_units=caps, segment_factors=seg,
        probabilities=np.full(samples, 1.0 / samples),
        service_level=(unc.service_level or 0.0) if chance else None,
        confidence=(unc.confidence or 0.9) if chance else None,
        product_levels=levels if targets else None,
        cvar_alpha=cvar[0] if cvar else None, cvar_weight=cvar[1] if cvar else 0.0)
    if kept is None or kept.empty:
        return sd
    g = kept_factors(kept, samples, seed)
    sd = dataclasses.replace(sd, fixed_releases=sample_releases(data, kept, g))
    return dataclasses.replace(sd, excused=kept_excused(sd, kept, g)) if chance else sd


def lot_segments(data: PlanData, grid: dict[str, np.ndarray], samples: int
                 ) -> tuple[PlanData, np.ndarray, np.ndarray]:
    """(bounds, segment capacities (S, G) [unit], segment factors (samples, S, G) [-]) of the
    per-batch sampling model (:mod:`bioplan.optimisation.lot_segments`): the segments span the
    fleet's and volume's bounds; the slot bounds are then tightened to the units every sample
    needs to grow its window (:func:`~bioplan.robust.samples.units_needed`, valid: planning
    more is dominated) and segments past them dropped."""
    loose = relaxed_bounds(data)
    caps, seg = segment_model(loose, grid, samples, loose.slot_units_max * loose.slot_batches_max)
    windows = slot_windows(data)
    base = relaxed_bounds(data, useful=np.maximum(units_needed(caps, seg, windows), windows))
    reach = base.slot_units_max * base.slot_batches_max
    start = np.concatenate([np.zeros((caps.shape[0], 1)), np.cumsum(caps, axis=1)[:, :-1]], axis=1)
    caps = np.where(start < reach[:, None] - 1e-9, caps, 0.0)
    return base, caps, seg


def kept_excused(sd: StochasticData, kept: pd.DataFrame, g: np.ndarray) -> dict[str, set[int]]:
    """The samples excused from the chance constraint when kept batches vary: per product the
    ⌊(1 − C) K⌋ samples with the lowest supply score

        ``Σ_b u_b (g_kb − 1) + (f̄_k − 1) R_p``

    (the kept batches' units off plan, plus the new batches' mean slot factor off nominal times
    the demand R_p the fixed releases leave to them [unit]). Products without kept batches keep
    :func:`~bioplan.optimisation.chance.excused_samples`. Any fixed excused set keeps the
    approximation conservative (see :func:`~bioplan.optimisation.chance.add_chance_constraints`)."""
    data = sd.base
    out: dict[str, set[int]] = {}
    for p, prod in data.products.items():
        mine = (kept["product"] == p).to_numpy()
        if not mine.any() or sd.allowed_misses() == 0:
            out[p] = excused_samples(sd, p)
            continue
        cols = [s for s in range(len(data.slot_day)) if data.options[data.slot_option[s]].product == p]
        slot_mean = sd.factors[:, cols].mean(axis=1) if cols else np.ones(sd.samples)
        left = max(float(prod.demand.sum()) - sum(prod.fixed_release.values()), 0.0)
        off = (g[:, mine] - 1.0) @ kept["units"].to_numpy(float)[mine]
        score = off + (slot_mean - 1.0) * left
        out[p] = {int(k) for k in np.argsort(score, kind="stable")[:sd.allowed_misses()]}
    return out


def pooled_keys(keys: list[tuple[str, int, int]], batches: dict[Any, float]
                ) -> list[tuple[str, int, int]]:
    """Slot keys whose lots pooled are those of a smallest batch × the batches a reference plan
    runs in the slot (at least one): a slot's draw then averages as many lots as that plan's
    batches would seed, instead of one batch's (the default, conservative when a slot runs several
    batches; both are capped at ``MAX_POOLED_LOTS`` lots). An approximation of the lot-level
    sampling of ``evaluate``; a calibrated SAA (:mod:`bioplan.robust.calibrate`) checks it out of
    sample."""
    return [(r, d, m * max(1, round(batches.get(s, 0.0)))) for s, (r, d, m) in enumerate(keys)]


def solve_program(sd: StochasticData, unc: Uncertainty, options: SolveOptions, guard_s: float
                  ) -> SolveResult:
    """Solve with the engine ``unc.engine``."""
    if unc.engine == "ph":
        from bioplan.robust.ph import solve_progressive_hedging

        return solve_progressive_hedging(sd, options, processes=unc.processes)
    return solve_guarded(sd, options, guard_s, solve=solve_extensive_form)


def _status(result: SolveResult, options: SolveOptions) -> PlanStatus:
    """A program stopped at a limit within the requested gap counts as optimal."""
    if result.status is PlanStatus.FEASIBLE:
        ok = result.gap is not None and result.gap <= options.mip_gap + 1e-12
        return PlanStatus.OPTIMAL if ok else PlanStatus.FEASIBLE
    return result.status


def first_stage_plan(scenario: Scenario, data: PlanData, values: dict[str, dict[Any, float]],
                     fixed_batches: pd.DataFrame | None, status: PlanStatus) -> Plan:
    """The program's first stage as a Plan, its second stage re-dispatched at nominal yields."""
    first = {name: values.get(name, {}) for name in FIRST_STAGE}
    tables = extract_tables(data, first, scenario, scenario.recipe_table(), fixed_batches)
    out = Plan(scenario=scenario, status=status)
    for name in ("batches", "occupancy", "media_use", "capacity", "cost_breakdown",
                 "cost_by_product"):
        setattr(out, name, getattr(tables, name))
    return realised_plan(out)


def robust_plan(scenario: Scenario, unc: Uncertainty, options: SolveOptions, guard_s: float, *,
                deterministic: Plan | None = None, fixed_batches: pd.DataFrame | None = None,
                pareto: bool = True, metrics: bool = True,
                levels: dict[str, float] | None = None, pooled: bool = False,
                forecasts: pd.DataFrame | None = None,
                inflated: Callable[[float], Plan] | None = None,
                replan: Callable[[dict[tuple[str, int], float]], Plan] | None = None) -> Plan:
    """Solve the two-stage stochastic program of ``scenario`` under ``unc`` (see the module).

    ``deterministic`` is the ordinary plan of the same scenario (for the price of robustness, the
    VSS and the deterministic plan's out-of-sample service in ``plan.robust``); ``levels`` gives
    products their own in-sample service levels (:mod:`bioplan.robust.calibrate`); ``pooled``
    lets a slot's draw pool the lots of the deterministic plan's batches (:func:`pooled_keys`);
    ``forecasts`` (the forecast table of the kept ``fixed_batches``,
    :func:`bioplan.records.replan.forecast_kept_batches`) makes each kept batch with a forecast
    spread release its own forecast draw in every sample (:mod:`bioplan.robust.kept`) instead of
    its planned units, in the program and in the metrics out of sample. ``inflated(f)``: the
    deterministic plan of the demand × f, tried as the start of a chance-constrained program
    that the deterministic plan cannot start (:func:`chance_start`); ``replan(extra)``: the
    deterministic plan with ``extra`` units added to the demand per (product, day)
    (:func:`~bioplan.robust.starts.repair_start`).
    """
    t0 = time.perf_counter()
    data = prepare(scenario, scenario.recipe_table(), fixed_batches, pareto=pareto)
    kept = kept_batches(forecasts, fixed_batches)
    sd = stochastic_data(scenario, data, unc, unc.samples, unc.seed, levels=levels,
                         pool_like=deterministic if pooled else None, kept=kept)
    if deterministic is not None and deterministic.has_solution:  # never promise less than it
        short = units_by_product(deterministic.shortages, [str(p) for p in scenario.products])
        sd = dataclasses.replace(sd, as_planned_short={str(p): float(x) for p, x in short.items()})
    start, start_from, sd = program_start(sd, deterministic, options, guard_s,
                                          inflated, replan)
    t1 = time.perf_counter()
    result = solve_program(sd, unc, dataclasses.replace(options, start=start), guard_s)
    if result.failed:
        msg = f"the solver failed: {result.message.splitlines()[0]}"
        raise SolverError(msg,
                          fix="rerun with --debug and report the scenario")
    status = _status(result, options)
    excess = chance_excess(result.values) if result.status.has_solution else {}
    missed = {p: x for p, x in excess.items() if x > EXCESS_TOL}
    if missed:  # the elastic program's best plan still misses the chance constraint: no plan
        status = (PlanStatus.INFEASIBLE if result.status is PlanStatus.OPTIMAL
                  else PlanStatus.NO_SOLUTION)
    robust: dict[str, Any] = {
        "samples": unc.samples, "engine": unc.engine, "seed": unc.seed,
        "service_level": unc.service_level, "confidence": sd.confidence, "risk": unc.risk,
        **({"service_levels": dict(levels)} if levels else {}),
        **({"pooling": "deterministic plan's batches"} if pooled else {}),
        **({RECORD_KEY: kept_record(kept)} if not kept.empty else {}),
        "yield_uncertainty": unc.yield_uncertainty,
        "start": start_from,
        "expected_cost_usd": result.objective_usd,
        "bound_usd": result.bound_usd,
        "gap": result.gap,
        **{k: result.facts.get(k) for k in ("columns", "rows", "nonzeros", "integer_columns",
                                           "peak_rss_mib", "iterations")},
    }
    timings = {"build": t1 - t0 + result.timings.get("build", 0.0),
               "transfer": result.timings.get("transfer", 0.0),
               "solve": result.timings.get("solve", 0.0)}
    if missed:  # the elastic program's objective and bound count the priced excess: not a cost
        robust.update(chance_excess_units=missed, expected_cost_usd=None, bound_usd=None, gap=None)
    if not status.has_solution:
        out = Plan(scenario=scenario, status=status,
                   message=f"robust: {no_plan_message(result, status, missed, sd, inflated)}")
    else:
        out = first_stage_plan(scenario, data, result.values, fixed_batches, status)
        out.gap = result.gap
        out.message = (f"{status}: robust plan over {unc.samples} samples, expected cost "
                       f"{robust['expected_cost_usd']:,.0f} USD")
        if metrics and deterministic is not None and deterministic.has_solution:
            from bioplan.robust.metrics import EVPI_SAMPLES, FRESH_SEED_OFFSET, robust_metrics

            t2 = time.perf_counter()
            program = None if pooled else stochastic_data(
                scenario, data, unc, EVPI_SAMPLES, unc.seed + FRESH_SEED_OFFSET, targets=False,
                kept=kept)
            robust.update(robust_metrics(out, deterministic, unc, data, options, guard_s,
                                         kept=kept, program=program))
            timings["metrics"] = time.perf_counter() - t2
    out.solver = {"name": "highs", "engine": unc.engine, "termination": str(result.termination),
                  **result.facts}
    out.robust = json_safe(robust)
    timings["total"] = time.perf_counter() - t0
    out.timings = timings
    log.info("robust plan %s: %s, %s", scenario.name, out.status, out.message)
    return out


def no_plan_message(result: SolveResult, status: PlanStatus, missed: dict[str, float],
                    sd: StochasticData, inflated: Callable[[float], Plan] | None) -> str:
    """Why a robust program has no plan, and what to change."""
    if missed:
        short = ", ".join(f"{p} {x:.3g} units" for p, x in sorted(missed.items()))
        when = ("the best plan found in the time limit" if status is PlanStatus.NO_SOLUTION
                else "the cheapest plan")
        what = (f"no plan found meets the chance constraint in the samples: {when} is still "
                f"short beyond the allowance in the counted samples by {short}")
    else:
        what = ("the robust targets cannot all be met in the samples" if status is
                PlanStatus.INFEASIBLE else result.message)
    if sd.confidence is not None and inflated is not None:
        what += (f"; the deterministic plan and those of demand x "
                 f"{', '.join(f'{f:g}' for f in INFLATION)} were tried as starts (the fleet or "
                 "the lots may be too small for it): lower --service-level or --confidence, "
                 "allow more reactors, or see bioplan.robust.calibrate")
    return what


def check_engine(unc: Uncertainty) -> None:
    """``ph`` needs mpi-sppy and MPI: one line saying how to install them when missing."""
    if unc.engine != "ph":
        return
    from bioplan.robust.ph import missing_mpi

    problem = missing_mpi()
    if problem:
        msg = f"engine 'ph' needs MPI and mpi-sppy ({problem})"
        raise InputError(msg, field="--engine",
                         fix="pip install 'bioplan[robust]' (mpi-sppy, mpi4py, mpich), or use "
                             "--engine ef")
