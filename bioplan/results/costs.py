"""Cost by term and by (product, term) [USD] from a plan's tables, by the cost-term registry.

Every term is the registry's coefficient function applied to what the plan did (each batch's use,
the fleet, expired and short units): the same functions the objective is built from. Reactor
capital is shared between products in proportion to the reactor-days (phase + turnaround) their
batches hold on each type; a type no batch used is shared by all reactor-days, else evenly.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from bioplan.contracts import COST_TERMS, TERM_NAMES, Driver, batch_usd
from bioplan.optimisation.fixed import fixed_batch_use
from bioplan.optimisation.options import per_seed_cytokines

if TYPE_CHECKING:
    from bioplan.optimisation.data import PlanData
    from bioplan.scenario import Scenario

Sums = dict[tuple[str, str], float]


def _batch_costs(data: PlanData, batches: pd.DataFrame, recipes: pd.DataFrame, by: Sums,
                 type_days: Sums) -> dict[str, float]:
    """Add each batch's terms into ``by`` and its reactor-days into ``type_days``; returns the
    sub-rows (``cytokine:<F>``) summed over batches [USD]."""
    parts: dict[str, float] = defaultdict(float)
    per_seed: dict[str, Any] = {}
    main = set(TERM_NAMES)
    turnaround = {t: r.turnaround_days for t, r in data.reactors.items()}
    for frame in _batch_columns(batches):
        recipe, product = str(frame["recipe"][0]), str(frame["product"][0])
        if recipe not in per_seed:
            per_seed[recipe] = per_seed_cytokines(recipes.loc[recipe].to_dict(), data.cytokines)
        use = fixed_batch_use(frame, str(recipes.at[recipe, "source"]), per_seed[recipe])
        for row, usd in batch_usd(data.prices, use).items():
            if row in main:
                by[(product, row)] += usd
            else:
                parts[row] += usd
        for t, days in use.reactor_days.items():
            type_days[(product, t)] += days
        for t in frame["reactor_type"]:
            type_days[(product, str(t))] += turnaround[str(t)]
    return dict(parts)


_USE_COLUMNS = ("recipe", "product", "reactor_type", "start_day", "end_day", "seed_cells",
                "medium_L", "reactor_unit")


def _batch_columns(batches: pd.DataFrame) -> list[dict[str, list[Any]]]:
    """Each batch's phase rows as plain column lists, batches in order of first appearance.

    Plain lists, not a frame per batch (``groupby`` iteration): per-batch pandas indexing was
    most of the benchmark M's extraction time (docs/outside-highs.md).
    """
    rows = batches.reset_index()
    columns = {c: rows[c].tolist() for c in _USE_COLUMNS if c in rows.columns}
    groups = rows.groupby("batch_id", sort=False).indices
    return [{c: [v[i] for i in groups[b]] for c, v in columns.items()}
            for b in pd.unique(rows["batch_id"])]


def _per_product(table: pd.DataFrame) -> dict[str, float]:
    if table.empty:
        return {}
    units = table["units"].groupby(level="product").sum()
    return {str(p): float(u) for p, u in units.items()}


def _capital(data: PlanData, capacity: pd.DataFrame, products: list[str], type_days: Sums,
             by: Sums) -> None:
    term = next(t for t in COST_TERMS if t.driver is Driver.REACTOR_UNITS)
    for name in data.reactors:
        row: Any = capacity.loc[name]
        usd = (int(row["units_owned"]) + int(row["units_added"])) * term.usd(data.prices, name)
        use = {p: type_days.get((p, name), 0.0) for p in products}
        if sum(use.values()) <= 0:
            use = {p: sum(type_days.get((p, t), 0.0) for t in data.reactors) for p in products}
        if sum(use.values()) <= 0:
            use = dict.fromkeys(products, 1.0)
        norm = sum(use.values())
        for p in products:
            by[(p, term.name)] += usd * use[p] / norm


def plan_costs(data: PlanData, scenario: Scenario, recipes: pd.DataFrame, batches: pd.DataFrame,
               shortages: pd.DataFrame, expiries: pd.DataFrame, capacity: pd.DataFrame
               ) -> tuple[pd.Series, pd.DataFrame]:
    """(``cost_breakdown`` by term, ``cost_by_product`` by (product, term)) [USD]."""
    by: Sums = defaultdict(float)
    type_days: Sums = defaultdict(float)
    parts = _batch_costs(data, batches, recipes, by, type_days) if not batches.empty else {}
    products = [str(p) for p in scenario.products]
    counted = {Driver.EXPIRED_UNITS: _per_product(expiries),
               Driver.SHORT_UNITS: _per_product(shortages)}
    for term in COST_TERMS:
        for p, units in counted.get(term.driver, {}).items():
            by[(p, term.name)] += units * term.usd(data.prices, p)
    _capital(data, capacity, products, type_days, by)
    terms = {t: sum(v for (_p, name), v in by.items() if name == t) for t in TERM_NAMES}
    breakdown = pd.Series({**terms, **parts}, name="usd", dtype=float)
    breakdown.index.name = "term"
    rows = [(p, t, by.get((p, t), 0.0)) for p in products for t in TERM_NAMES]
    by_product = pd.DataFrame(rows, columns=["product", "term", "usd"]).set_index(
        ["product", "term"]).sort_index()
    return breakdown, cast(pd.DataFrame, by_product)
