"""``evaluate(plan) -> Evaluation``: judge a plan out of sample.

Keep the plan's decisions (batches, seed cells, recipes, reactors) fixed, draw N realisations of
every batch's yield (:mod:`bioplan.robust.samples`), and re-dispatch each realisation optimally
within shelf life, release delay and storage (:func:`bioplan.optimisation.recourse.fefo_dispatch`,
an optimal rule for the per-product recourse LP). The first-stage cost (everything but the
shortage penalty and the waste) is the plan's own; each sample adds its own penalty and waste.

>>> import bioplan
>>> ev = bioplan.evaluate(bioplan.plan(), samples=500, seed=1)          # doctest: +SKIP
>>> ev.products()[["service_level_mean", "service_level_p10"]]        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.contracts import COST_TERMS, Driver
from bioplan.errors import InputError
from bioplan.optimisation.recourse import Dispatch, fefo_dispatch
from bioplan.results.evaluation import PER_SAMPLE_COLUMNS, Evaluation
from bioplan.robust.kept import kept_from, with_kept
from bioplan.robust.samples import batch_factors
from bioplan.scenario.schema import YIELD_UNCERTAINTY

if TYPE_CHECKING:
    from bioplan.results.plan import Plan
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

WASTE_TERM = next(t.name for t in COST_TERMS if t.driver is Driver.EXPIRED_UNITS)
"""The cost term of wasted units (the registry's term driven by expired units)."""
SHORTAGE_TERM = next(t.name for t in COST_TERMS if t.driver is Driver.SHORT_UNITS)
"""The cost term of unmet demand (the registry's term driven by short units)."""
FIRST_STAGE_TERMS = tuple(t.name for t in COST_TERMS
                          if t.name not in (WASTE_TERM, SHORTAGE_TERM))
"""Cost terms fixed once the batches and reactors are decided."""


@dataclass
class ProductInputs:
    """What one product's recourse needs (cohorts aggregated by day)."""

    cohort_days: np.ndarray
    """(M,) release days [day]."""
    releases: np.ndarray
    """(N, M) units released [unit]."""
    demand: np.ndarray
    """(H,) demand per day [unit/day]."""
    life_days: int
    storage_units: float | None
    shortage_usd: float
    """Penalty per unit short [USD/unit]."""
    waste_usd: float
    """Cost per unit wasted [USD/unit]."""


BAG_TOL = 1e-6
"""Pooled cells within this share of a unit of the next bag fill it [unit] (rounding of the
plan's own whole pools)."""


def grown_units(scenario: Scenario, batches: pd.DataFrame) -> np.ndarray:
    """(batches,) units each batch's cells make at its nominal yield [unit]: seed cells × the
    recipe's product cells per seed cell / cells per unit, never below the batch's packaged units
    (a batch whose recipe the scenario no longer offers keeps its packaged units)."""
    packaged = batches["product_units"].to_numpy(float)
    if batches.empty:
        return packaged
    per_seed = scenario.recipe_table()["product_cells_per_seed_cell"]
    yield_per_seed = per_seed.reindex(batches["recipe"].astype(str)).to_numpy(float)
    cells = {str(p): prod.cells_per_unit for p, prod in scenario.products.items()}
    per_unit = np.array([cells[str(p)] for p in batches["product"]])
    grown = batches["seed_cells"].to_numpy(float) * yield_per_seed / per_unit
    return np.where(np.isfinite(grown), np.maximum(grown, packaged), packaged)


def whole_bags(grown: np.ndarray, packaged: np.ndarray, realised: np.ndarray) -> np.ndarray:
    """Whole bags a release-day pool packages [unit]: ``max(0, K + ⌊R⌋ − ⌊G⌋)`` for a pool
    the plan grows ``G`` units of cells in, packages ``K`` bags of, and that realises ``R``
    (see :func:`product_inputs`)."""
    return np.maximum(packaged + np.floor(realised + BAG_TOL) - np.floor(grown + BAG_TOL), 0.0)


def release_pools(scenario: Scenario, batches: pd.DataFrame) -> dict[tuple[str, int], np.ndarray]:
    """(product, release day) -> positions of the batches (rows of ``batches``) pooled then."""
    delay = {str(p): prod.release_delay_days for p, prod in scenario.products.items()}
    keys = [(str(p), int(h) + delay[str(p)])
            for p, h in zip(batches["product"], batches["harvest_day"], strict=True)]
    out: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(keys):
        out.setdefault(key, []).append(i)
    return {k: np.asarray(v, dtype=int) for k, v in out.items()}


def product_inputs(scenario: Scenario, batches: pd.DataFrame, factors: np.ndarray
                   ) -> dict[str, ProductInputs]:
    """Per product: cohorts and their realised releases, daily demand, life and prices.
    ``batches`` is one row per batch.

    A release day's batches pool their cells and fill whole bags, as the plan does
    (docs/planning-model.md, "Whole units"). The plan packages ``K`` bags of a pool whose cells
    fill ``⌊G⌋`` (``G = Σ`` units grown; more than ``K`` where a minimum fill grows cells it
    discards). A realisation with ``R = Σ`` grown × factor packages ``max(0, K + ⌊R⌋ − ⌊G⌋)``:
    every whole bag gained or lost, and the plan's own discard kept — so factors of 1 give the
    plan's ``K`` exactly. The initial stock adds its whole units on day 0.
    """
    demand = scenario.demand_table()["units"].unstack("product")
    horizon = scenario.horizon.days
    grown = grown_units(scenario, batches)
    packaged = batches["product_units"].to_numpy(float)
    out: dict[str, ProductInputs] = {}
    for name, prod in scenario.products.items():
        mine = np.flatnonzero(batches["product"].to_numpy() == name)
        days = (batches["harvest_day"].to_numpy(int)[mine] + prod.release_delay_days)
        if prod.initial_inventory_units > 0:
            days = np.concatenate([days, [0]])
        cohorts, where = np.unique(days, return_inverse=True)
        pool = np.zeros((len(mine), len(cohorts)))
        pool[np.arange(len(mine)), where[:len(mine)]] = 1.0  # batch -> its release day
        releases = whole_bags(grown[mine] @ pool, packaged[mine] @ pool,
                              factors[:, mine] * grown[mine] @ pool)
        if prod.initial_inventory_units > 0:
            releases[:, cohorts == 0] += prod.initial_inventory_units
        daily = (demand[name].to_numpy(float) if name in demand.columns else np.zeros(horizon))
        out[str(name)] = ProductInputs(
            cohort_days=cohorts, releases=releases, demand=daily,
            life_days=prod.shelf_life_days - prod.release_delay_days,
            storage_units=prod.storage_capacity_units,
            shortage_usd=prod.shortage_penalty_usd_per_unit,
            waste_usd=prod.expiry_cost_usd_per_unit)
    return out


def dispatch(inputs: ProductInputs, detail: bool = False) -> Dispatch:
    """The optimal recourse of one product (see :mod:`bioplan.optimisation.recourse`)."""
    return fefo_dispatch(inputs.cohort_days, inputs.releases, inputs.demand, inputs.life_days,
                         inputs.storage_units, detail=detail)


def _quantiles(stock: np.ndarray) -> np.ndarray:
    """(H, 4): mean, P10, P50, P90 over samples of (N, H) stock."""
    return np.column_stack([stock.mean(axis=0), *np.percentile(stock, [10, 50, 90], axis=0)])


def first_stage_usd(plan: Plan) -> float:
    """What the plan's batches and reactors cost [USD] (its cost terms except penalty and waste)."""
    return float(sum(float(plan.cost_breakdown.get(t, 0.0)) for t in FIRST_STAGE_TERMS))


def evaluate(plan: Plan, samples: int = 1000, seed: int = 0, variability: bool = True, *,
             yield_cv: Mapping[str, float] | None = None,
             kept: pd.DataFrame | None = None, uncertainty: str | None = None) -> Evaluation:
    """Sample ``samples`` yield realisations of every batch of ``plan`` and re-dispatch each.

    ``variability=False`` uses the means (every batch yields as planned): the result then
    reproduces the plan's own KPIs. ``yield_cv`` maps a card name to a lognormal lot-to-lot
    coefficient of variation [-] for recipes whose card declares no variability (hand-made
    tables); default: the scenario's ``uncertainty.yield_cv``. ``kept``: kept (running)
    batches that release their own forecast draws instead of lot draws
    (:func:`bioplan.robust.kept.kept_batches`); default: those a robust plan drew
    (``plan.robust["kept_batches"]``). ``uncertainty``: what the draws take from the cards,
    ``both`` (lot-to-lot spread and the calibration's parameter uncertainty, one fit draw per
    sample), ``lot`` or ``fit``; default: what a robust plan's program drew
    (``plan.robust["yield_uncertainty"]``), else the scenario's ``uncertainty.yield_uncertainty``.
    """
    if samples < 1:
        msg = f"samples = {samples} must be >= 1"
        raise InputError(msg, field="--samples",
                         fix="ask for at least one sample, e.g. --samples 1000")
    if not plan.has_solution:
        msg = f"the plan has no solution (status {plan.status})"
        raise InputError(msg, field="plan",
                         fix="evaluate a plan with status optimal or feasible")
    sc = plan.scenario
    unc = getattr(sc, "uncertainty", None)
    if yield_cv is None:
        yield_cv = dict(getattr(unc, "yield_cv", {}) or {})
    if uncertainty is None:
        uncertainty = str((plan.robust or {}).get("yield_uncertainty")
                          or getattr(unc, "yield_uncertainty", "both"))
    if uncertainty not in YIELD_UNCERTAINTY:
        msg = f"uncertainty {uncertainty!r} is not one of {', '.join(YIELD_UNCERTAINTY)}"
        raise InputError(msg, field="--uncertainty",
                         fix="use both (the default), lot (the cards taken as right) or fit")
    t0 = time.perf_counter()
    table, factors = batch_factors(sc, plan.batches, samples, seed, variability=variability,
                                   yield_cv=yield_cv, uncertainty=uncertainty)
    if kept is None:
        kept = kept_from(plan.robust)
    if variability:
        factors = with_kept(table.index, factors, kept, samples, seed)
    t1 = time.perf_counter()
    inputs = product_inputs(sc, table, factors)
    rows: list[pd.DataFrame] = []
    stock_rows: list[pd.DataFrame] = []
    recourse = np.zeros(samples)
    for name, inp in inputs.items():
        d = dispatch(inp)
        wasted = d.expired.sum(axis=1) + d.discarded.sum(axis=1)
        short = d.short.sum(axis=1)
        demanded = float(inp.demand.sum())
        delivered = d.delivered.sum(axis=1)
        service = delivered / demanded if demanded > 0 else np.full(samples, np.nan)
        recourse += inp.shortage_usd * short + inp.waste_usd * wasted
        frame = pd.DataFrame(np.column_stack([np.full(samples, demanded), delivered, short, wasted,
                                              d.discarded.sum(axis=1), service]),
                             columns=PER_SAMPLE_COLUMNS)
        frame.insert(0, "product", name)
        frame.insert(0, "sample", np.arange(samples))
        rows.append(frame)
        q = pd.DataFrame(_quantiles(d.stock), columns=["mean", "p10", "p50", "p90"])
        q.insert(0, "product", name)
        q.insert(0, "day", np.arange(len(inp.demand)))
        stock_rows.append(q)
    fixed = first_stage_usd(plan)
    costs = pd.DataFrame({"first_stage_usd": fixed, "recourse_usd": recourse,
                          "cost_usd": fixed + recourse},
                         index=pd.RangeIndex(samples, name="sample"))
    per_sample = pd.concat(rows).set_index(["sample", "product"]).sort_index()
    stock = pd.concat(stock_rows).set_index(["day", "product"]).sort_index()
    factor_frame = pd.DataFrame(factors, columns=table.index.astype(str),
                                index=pd.RangeIndex(samples, name="sample"))
    t2 = time.perf_counter()
    log.info("evaluated %s on %d samples: %.2f s sampling, %.2f s dispatch", sc.name, samples,
             t1 - t0, t2 - t1)
    return Evaluation(samples=samples, seed=seed, variability=variability, per_sample=per_sample,
                      costs=costs, stock=stock, factors=factor_frame,
                      timings={"sample": t1 - t0, "dispatch": t2 - t1, "total": t2 - t0},
                      uncertainty=uncertainty)


def summary_line(ev: Evaluation) -> dict[str, Any]:
    """Flat per-product P10 / mean service and cost mean (for side-by-side reports)."""
    products = ev.products()
    return {"cost_usd_mean": ev.cost_summary()["mean"],
            **{f"service_p10:{p}": products.loc[p, "service_level_p10"] for p in products.index},
            **{f"service_mean:{p}": products.loc[p, "service_level_mean"] for p in products.index}}
