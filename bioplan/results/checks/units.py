"""Independent checks of whole units, same-vessel continuation and calendar dates (part of the
plan checker, :func:`bioplan.results.checker.check_plan`; same rules: scenario and tables only).

- Whole units: every batch packages a whole number of units (bags); the batches of one product
  harvested on one day are pooled, and each pool packages at most what its cells make
  (seed cells × the recipe's product cells per seed cell / cells per unit), every batch at most
  one bag more than its own cells make (topped up from the pool); deliveries, shortages and
  expiries are whole units (when the initial stock is whole).
- Same vessel: a batch's consecutive phases on one reactor type run on one unit, back to back.
- Dates: every date column of ``Plan.tables()`` is the horizon's start date + its day number.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.results.checks.view import listed

if TYPE_CHECKING:
    from bioplan.results.checks.view import PlanView as _PlanView

WHOLE_TOL = 1e-6
"""How far from a whole number a unit count may be (solver noise) [unit]."""
DAY_OF_DATE: dict[str, str] = {"date": "day", "cohort_date": "cohort_day",
                               "start_date": "start_day", "end_date": "end_day"}


def _whole(x: float) -> bool:
    return abs(x - round(x)) <= WHOLE_TOL


def check_whole_units(v: _PlanView) -> list[str]:
    """Batches package whole units, each release-day pool no more than its cells make, a batch at
    most one bag more than its own cells; deliveries, shortages and expiries are whole units
    (when the initial stock is whole)."""
    found: list[str] = []
    pools: dict[tuple[str, int], list[float]] = {}
    for b in v.batches:
        if not _whole(b.product_units):
            found.append(f"batch {b.batch_id} packages {b.product_units:g} units (not whole)")
        made = _made(v, b)
        if made is None:
            continue
        pool = pools.setdefault((b.product, b.production_day), [0.0, 0.0])
        pool[0] += b.product_units
        pool[1] += made
        if b.product_units > made + 1 + WHOLE_TOL:
            found.append(f"batch {b.batch_id} packages {b.product_units:g} units but its cells "
                         f"make {made:.3f} (more than one bag from the pool)")
    for (product, harvest), (packed, made) in sorted(pools.items()):
        if packed > made * (1 + 1e-6) + WHOLE_TOL:
            found.append(f"{product} batches harvested on day {harvest} package {packed:g} units "
                         f"but their cells make {made:.3f}")
    stock_whole = all(_whole(p.initial_inventory_units) for p in v.products.values())
    tables = {"shortages": v.plan.shortages, "expiries": v.plan.expiries}
    if stock_whole:
        tables["deliveries"] = v.plan.deliveries
    for name, table in tables.items():
        if table.empty:
            continue
        bad = [(k, float(u)) for k, u in table["units"].items() if not _whole(float(u))]
        found.extend(f"{name} {k}: {u:g} units (not whole)" for k, u in bad)
    return listed("whole units", found)


def _made(v: _PlanView, b: Any) -> float | None:
    """Units batch ``b``'s cells make, or None when its recipe does not say [unit]."""
    rec = v.recipes.get(b.recipe, {})
    per_seed = float(rec.get("product_cells_per_seed_cell", math.nan))
    cells_per_unit = v.products[b.product].cells_per_unit if b.product in v.products else None
    if not cells_per_unit or not math.isfinite(per_seed):
        return None
    return float(b.seed_cells * per_seed / cells_per_unit)


def check_same_vessel(v: _PlanView) -> list[str]:
    """A batch's consecutive phases on the same reactor type continue on the same unit, back to
    back (no transfer, no turnaround in between)."""
    found: list[str] = []
    for b in v.batches:
        for prev, nxt in zip(b.phases, b.phases[1:], strict=False):
            if prev.reactor_type != nxt.reactor_type:
                continue
            if prev.reactor_unit != nxt.reactor_unit:
                found.append(f"batch {b.batch_id}: {prev.name} on {prev.reactor_type}"
                             f"#{prev.reactor_unit}, then {nxt.name} on #{nxt.reactor_unit} "
                             "(same reactor type: should stay in its vessel)")
            elif nxt.start_day != prev.end_day:
                found.append(f"batch {b.batch_id}: {nxt.name} starts on day {nxt.start_day}, "
                             f"not when {prev.name} ends (day {prev.end_day})")
    return listed("batches", found)


def _day_numbers(table: pd.DataFrame, day: str) -> Any:
    if day in table.columns:
        return pd.to_numeric(table[day]).to_numpy()
    return table.index.get_level_values(day).to_numpy()


def check_dates(v: _PlanView) -> list[str]:
    """Every date of ``Plan.tables()`` equals the horizon's start date + its day number."""
    found: list[str] = []
    start = v.scenario.horizon.start_date
    for name, table in v.plan.tables().items():
        names = set(table.columns) | {n for n in table.index.names if n}
        for date_col, day_col in DAY_OF_DATE.items():
            if date_col not in table.columns:
                continue
            if day_col not in names:
                found.append(f"{name}: {date_col} without {day_col}")
                continue
            days = _day_numbers(table, day_col)
            for date, day in zip(pd.to_datetime(table[date_col]), days, strict=True):
                want = start + dt.timedelta(days=int(day))
                if date.date() != want:
                    found.append(f"{name}: {date_col} {date.date()} but {day_col} {int(day)} is "
                                 f"{want}")
                    break
        if {"day", "start_day", "cohort_day"} & names and not (set(DAY_OF_DATE) & set(table.columns)):
            found.append(f"{name}: day numbers without dates")
    return listed("dates", found)


UNIT_CHECKS: list[Callable[[_PlanView], list[str]]] = [
    check_whole_units, check_same_vessel, check_dates,
]
"""This module's checks, appended to :data:`bioplan.results.checker.CHECKS`."""
