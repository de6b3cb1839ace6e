"""Turn a solution (variable values in scaled units) into the ``Plan`` tables.

Works from :class:`PlanData`, the recipe table and the values alone (no Pyomo), in the parent
process: the batches (:mod:`bioplan.results.batches`, with reactor units assigned), deliveries,
shortages, expiries, inventory by cohort, occupancy, media use, capacity and the costs
(:mod:`bioplan.results.costs`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.contracts import maintenance_days
from bioplan.optimisation.data import PlanData
from bioplan.results.batches import batch_table, fixed_ids, phase_cytokines
from bioplan.results.costs import plan_costs
from bioplan.results.packaging import released_units, stay_spans, whole_unit_recourse

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

Values = dict[str, dict[Any, float]]
TOL = 1e-7
"""Values below this are treated as zero [unit, L, batch]."""

log = logging.getLogger(__name__)


@dataclass
class Tables:
    batches: pd.DataFrame
    deliveries: pd.DataFrame
    shortages: pd.DataFrame
    expiries: pd.DataFrame
    inventory: pd.DataFrame
    occupancy: pd.DataFrame
    media_use: pd.DataFrame
    capacity: pd.DataFrame
    cost_breakdown: pd.Series
    cost_by_product: pd.DataFrame


def _frame(rows: list[tuple[Any, ...]], index: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*index, *columns])
    for col in index:
        if col in ("day", "cohort_day", "start_day", "end_day"):
            frame[col] = frame[col].astype(int)
    return frame.set_index(index if len(index) > 1 else index[0]).sort_index()


def extract_tables(data: PlanData, values: Values, scenario: Scenario, recipes: pd.DataFrame,
                   fixed_batches: pd.DataFrame | None = None) -> Tables:
    """All result tables of a solved model (``recipes``: the table ``data`` was prepared from)."""
    horizon = data.horizon_days
    batches = batch_table(data, values, scenario, recipes, fixed_batches)
    released = released_units(data, batches, fixed_ids(fixed_batches))
    dispatch = whole_unit_recourse(data, released)
    delivered = dispatch.delivered
    deliveries = _frame([(d, p, c, u) for (p, c, d), u in delivered.items()],
                        ["day", "product", "cohort_day"], ["units"])
    shortages = _frame([(d, p, u) for (p, d), u in dispatch.short.items()],
                       ["day", "product"], ["units"])
    expiries = _frame([(d, p, u) for (p, d), u in dispatch.expired.items() if d < horizon],
                      ["day", "product"], ["units"])
    inventory = _inventory(data, released, delivered)
    capacity = _capacity(data, values, scenario)
    occupancy = _occupancy(batches, capacity, scenario, horizon)
    media_use = _media_use(batches, data, recipes)
    breakdown, by_product = plan_costs(data, scenario, recipes, batches, shortages, expiries,
                                       capacity)
    return Tables(batches, deliveries, shortages, expiries, inventory, occupancy, media_use,
                  capacity, breakdown, by_product)


def _inventory(data: PlanData, released: dict[tuple[str, int], float],
               delivered: dict[tuple[str, int, int], float]) -> pd.DataFrame:
    """Stock by cohort: released − delivered so far, until the cohort's last usable day."""
    horizon = data.horizon_days
    out_by: dict[tuple[str, int], dict[int, float]] = defaultdict(dict)
    for (p, c, d), u in delivered.items():
        out_by[(p, c)][d] = u
    rows = []
    for (p, c), units in sorted(released.items()):
        if c >= horizon or units <= TOL:
            continue
        stock = units
        for d in range(max(c, 0), min(data.products[p].expiry_day(c), horizon)):
            stock -= out_by[(p, c)].get(d, 0.0)
            if stock > TOL:
                rows.append((d, p, c, stock))
    return _frame(rows, ["day", "product", "cohort_day"], ["units"])


def _capacity(data: PlanData, values: dict[str, dict[Any, float]], scenario: Scenario) -> pd.DataFrame:
    added = values.get("reactor_added", {})
    rows = [(t, scenario.reactors[t].units_owned, round(added.get(t, 0.0)), r.acquisition)
            for t, r in data.reactors.items()]
    frame = pd.DataFrame(rows, columns=["reactor_type", "units_owned", "units_added", "acquisition"])
    return frame.set_index("reactor_type")


def _occupancy(batches: pd.DataFrame, capacity: pd.DataFrame, scenario: Scenario,
               horizon: int) -> pd.DataFrame:
    busy: dict[tuple[int, str], set[int]] = defaultdict(set)
    for st in stay_spans(batches.reset_index()) if not batches.empty else []:
        turnaround = scenario.reactors[st.reactor_type].turnaround_days
        for day in range(max(st.start, 0), min(st.end + turnaround, horizon)):
            busy[(day, st.reactor_type)].add(st.unit)
    rows = []
    for name, rt in scenario.reactors.items():
        row: Any = capacity.loc[name]
        fleet = int(row["units_owned"]) + int(row["units_added"])
        down = np.zeros(horizon, dtype=int)
        for w in rt.maintenance:
            if w.unit <= fleet:
                days = maintenance_days(scenario.horizon.day_of(w.start_date), w.days, horizon)
                down[days.start:days.stop] += 1
        for day in range(horizon):
            rows.append((day, name, len(busy.get((day, name), ())), fleet - int(down[day])))
    return _frame(rows, ["day", "reactor_type"], ["units_busy", "units_available"])


def _phases(batches: pd.DataFrame) -> pd.DataFrame:
    """One row per batch phase with ``days`` and the batch's first-row facts alongside."""
    ph = batches.reset_index()
    ph["days"] = (ph["end_day"] - ph["start_day"]).astype(int)
    return ph


def _media_use(batches: pd.DataFrame, data: PlanData, recipes: pd.DataFrame) -> pd.DataFrame:
    """Medium and cytokines per day: each phase's own use spread evenly over its culture days.

    A phase's cytokines are the batch's seed cells x the recipe's use per seed cell in that phase
    (for a hand-made recipe table without per-phase columns, the recipe's total split by the
    phases' medium; see :func:`~bioplan.optimisation.data.phase_cytokines_per_seed`).
    """
    columns = ["medium_L", *(k.label for k in data.cytokines)]
    if batches.empty:
        return _frame([], ["day"], columns)
    ph = _phases(batches).sort_values(["batch_id", "start_day"], kind="stable")
    ph["position"] = ph.groupby("batch_id").cumcount()
    ph = ph[ph["days"] > 0].reset_index(drop=True)
    amounts = np.zeros((len(ph), len(columns)))
    amounts[:, 0] = ph["medium_L"].to_numpy(dtype=float)
    phase_use = phase_cytokines(recipes, data.cytokines, ph["recipe"].unique())
    for j, (recipe, k, seed) in enumerate(zip(ph["recipe"], ph["position"], ph["seed_cells"],
                                              strict=True)):
        uses = phase_use.get(str(recipe), [])
        use = uses[int(k)] if int(k) < len(uses) else {}
        for i, key in enumerate(data.cytokines, start=1):
            amounts[j, i] = float(seed) * use.get(key, 0.0)
    days = ph["days"].to_numpy(dtype=int)
    row = np.repeat(np.arange(len(ph)), days)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(days) - days, days)
    day = ph["start_day"].to_numpy(dtype=int)[row] + offset
    daily = pd.DataFrame(amounts[row] / days[row][:, None], columns=columns)
    daily["day"] = day
    return daily.groupby("day").sum().sort_index()
