"""A plan's second stage for one yield realisation, as an ordinary :class:`Plan`.

Given a plan's first stage (its batches, reactors and their costs) and one yield factor per batch,
:func:`realised_plan` re-dispatches first-expiry-first and writes the deliveries, shortages,
expiries, inventory and the second-stage costs into a copy of the plan. With factors other than 1 the
copy's scenario carries one recipe per batch, ``<recipe>@<batch_id>``, whose yield is the realised
one, so the independent checker (``bioplan.check_plan``) can verify every realisation like a plan.

Units discarded for lack of storage have no column in the Plan tables: they are written as
expiries (wasted) on the day they are thrown away, and :func:`realised_with_discards` returns them
as a ``discards`` table beside the plan, so the recourse checker
(:func:`bioplan.results.checks.recourse.check_recourse`) can verify the realisation, discards
included. ``check_plan`` alone reports such a realisation (it expects units to leave only at the end
of their shelf life); realisations without discards pass both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.results.packaging import pool_bags
from bioplan.results.plan import COST_TERMS
from bioplan.robust.evaluate import (
    SHORTAGE_TERM,
    WASTE_TERM,
    dispatch,
    grown_units,
    product_inputs,
    release_pools,
    whole_bags,
)
from bioplan.robust.samples import batch_table

if TYPE_CHECKING:
    from bioplan.results.plan import Plan
    from bioplan.scenario import Scenario

TOL = 1e-9
"""Units below this are left out of the tables [unit]."""


def realised_scenario(plan: Plan, factors: np.ndarray) -> tuple[Scenario, pd.DataFrame]:
    """(scenario with one recipe per batch at its realised yield, batches pointing to them)."""
    from bioplan.scenario.schema import RecipeSource

    sc = plan.scenario
    recipes = sc.recipe_table()
    table = batch_table(plan.batches)
    rows = []
    rename: dict[str, str] = {}
    for (batch_id, b), f in zip(table.iterrows(), factors, strict=True):
        row = recipes.loc[str(b["recipe"])].to_dict()
        row.pop("source", None)
        name = f"{b['recipe']}@{batch_id}"
        row["recipe"] = name
        row["product_cells_per_seed_cell"] = float(row["product_cells_per_seed_cell"]) * float(f)
        rows.append(row)
        rename[str(batch_id)] = name
    realised = sc.model_copy(update={"recipes": [RecipeSource(table="realised", rows=rows)]})
    batches = plan.batches.copy()
    ids = batches.index.astype(str)
    batches["recipe"] = [rename[i] for i in ids]
    bags = pd.Series(realised_bags(sc, table, np.asarray(factors, dtype=float)),
                     index=table.index.astype(str))
    batches["product_units"] = bags.reindex(ids).to_numpy()
    return realised, batches


def realised_bags(scenario: Scenario, table: pd.DataFrame, factors: np.ndarray) -> np.ndarray:
    """(batches,) whole bags each batch of ``table`` packages when it yields ``factors`` (B,)
    × nominal: each release-day pool's bags (:func:`~bioplan.robust.evaluate.whole_bags`, as the
    dispatch releases them) shared over its batches as the plan shares them (``pool_bags``)."""
    grown = grown_units(scenario, table)
    packaged = table["product_units"].to_numpy(float)
    out = np.zeros(len(table))
    for rows in release_pools(scenario, table).values():
        realised = factors[rows] * grown[rows]
        total = whole_bags(grown[rows].sum(), packaged[rows].sum(), realised.sum())
        out[rows] = pool_bags(realised.tolist(), float(total))
    return out


def _frame(rows: Sequence[tuple[Any, ...]], index: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*index, "units"])
    return frame.set_index(index).sort_index()


def realised_plan(plan: Plan, factors: np.ndarray | None = None) -> Plan:
    """A copy of ``plan`` whose batches yield ``factors`` (B,) × nominal [-] (None: nominal), with
    its second stage re-dispatched optimally and its objective the realised total cost [USD]."""
    return realised_with_discards(plan, factors)[0]


def realised_with_discards(plan: Plan, factors: np.ndarray | None = None
                           ) -> tuple[Plan, pd.DataFrame]:
    """(:func:`realised_plan`, its discards: index ``day, product, cohort_day``, column ``units``,
    the units thrown away at the end of each day for lack of storage [unit])."""
    table = batch_table(plan.batches)
    f = np.ones(len(table)) if factors is None else np.asarray(factors, dtype=float)
    nominal = bool(np.all(f == 1.0))
    sc, batches = (plan.scenario, plan.batches) if nominal else realised_scenario(plan, f)
    inputs = product_inputs(plan.scenario, table, f[None, :])
    deliveries, shortages, expiries, inventory, discards = [], [], [], [], []
    by_product: dict[tuple[str, str], float] = {}
    for product, inp in inputs.items():
        d = dispatch(inp, detail=True)
        assert d.by_cohort is not None and d.discarded_by_cohort is not None
        for j, c in enumerate(inp.cohort_days):
            stock = float(inp.releases[0, j])
            for day in range(max(int(c), 0), min(int(c) + inp.life_days, len(inp.demand))):
                out = float(d.by_cohort[0, j, day])
                thrown = float(d.discarded_by_cohort[0, j, day])
                stock -= out + thrown
                if out > TOL:
                    deliveries.append((day, product, int(c), out))
                if thrown > TOL:
                    discards.append((day, product, int(c), thrown))
                if stock > TOL:
                    inventory.append((day, product, int(c), stock))
        for day in range(len(inp.demand)):
            if d.short[0, day] > TOL:
                shortages.append((day, product, float(d.short[0, day])))
            wasted = float(d.expired[0, day] + d.discarded[0, day])
            if wasted > TOL:
                expiries.append((day, product, wasted))
        by_product[(product, SHORTAGE_TERM)] = inp.shortage_usd * float(d.short.sum())
        by_product[(product, WASTE_TERM)] = inp.waste_usd * float(
            d.expired.sum() + d.discarded.sum())
    # the realised scenario has its own recipes (one per batch): drop the plan's cached table
    out_plan = dataclasses.replace(plan, scenario=sc, batches=batches,
                                   recipes=plan.recipes if nominal else None)
    out_plan.deliveries = _frame(deliveries, ["day", "product", "cohort_day"])
    out_plan.shortages = _frame(shortages, ["day", "product"])
    out_plan.expiries = _frame(expiries, ["day", "product"])
    out_plan.inventory = _frame(inventory, ["day", "product", "cohort_day"])
    breakdown = plan.cost_breakdown.copy()
    for term in (WASTE_TERM, SHORTAGE_TERM):
        breakdown[term] = sum(v for (_p, t), v in by_product.items() if t == term)
    out_plan.cost_breakdown = breakdown
    if not plan.cost_by_product.empty:
        alloc = plan.cost_by_product.copy()
        for key, usd in by_product.items():
            alloc.loc[key, "usd"] = usd
        out_plan.cost_by_product = alloc.sort_index()
    out_plan.objective_usd = float(sum(float(breakdown.get(t, 0.0)) for t in COST_TERMS))
    return out_plan, _frame(discards, ["day", "product", "cohort_day"])
