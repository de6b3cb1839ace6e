"""Re-plan on forecasts: the batches a nightly run keeps (started, committed) carry the units their
records forecast instead of the recipe's nominal yield.

A kept batch keeps its decisions (recipe, reactor, days). With records, its rows become those of
the *seed equivalent* of its forecast: seed cells, product units, medium and cytokines are scaled
by P50 / planned units. The kinetics are linear, so a culture forecast at f × its planned units
is, for everything that scales with cells (product, and the dilution medium and cytokines of the
phases still to run), the culture of f × its seed cells; the planner then releases the forecast
units on the batch's harvest day and plans the rest around them (extra batches, another recipe),
and the plan checker's per-batch balances still hold. A culture cannot outgrow its vessels, and the
plan checker holds every phase to its reactor's working volumes, so the seed equivalent is kept
below the maximum working volume (and, for a batch seeded on or after day 0, above the minimum;
``planned_with`` and ``note`` in the forecast table say where it was held).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bioplan.records.batches import check_records, planned_batches
from bioplan.records.forecast import forecast
from bioplan.records.table import read_records
from bioplan.results.packaging import pool_bags

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

SCALED_COLUMNS = ("seed_cells", "product_units", "medium_L", "cytokine_mg", "epo_kU")
"""Columns of a batch's rows that scale with its cells."""
AS_PLANNED_TOL = 1e-6
"""A forecast within this share of the planned units is the plan itself (rounding only) [-]."""
MOVE_TOL = 0.01
"""A forecast moves the plan when it differs from the planned units by more than this share [-]."""


def _volume_bounds(rows: pd.DataFrame, recipe: pd.Series, scenario: Scenario
                   ) -> tuple[float, float]:
    """(lowest, highest) factor on a batch's seed cells that keeps every phase's peak volume
    within its reactor type's working volumes [-]."""
    low, high = 0.0, float("inf")
    for k, (_, row) in enumerate(rows.sort_values("start_day").iterrows(), start=1):
        peak = float(row["seed_cells"]) * float(recipe[f"phase{k}_peak_volume_L_per_seed_cell"])
        reactor = scenario.reactors[str(row["reactor_type"])]
        if peak > 0:
            high = min(high, reactor.working_volume_max_L / peak)
            low = max(low, reactor.working_volume_min_L / peak)
    return low, high


def forecast_kept_batches(fixed: pd.DataFrame, previous: pd.DataFrame, previous_start: dt.date,
                          records_file: str | Path, scenario: Scenario,
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``fixed`` with the forecast units, the forecast table with a ``moved`` column).

    ``previous`` is the previous plan's batches table (day 0 = ``previous_start``), ``fixed`` the
    batches of it a new run keeps (any grid: only their ids and rows are used). Every record is
    checked against the previous plan (unknown batch, dates outside the batch), except records of
    batches the previous plan no longer carries dated before it started (history: a records file
    may be cumulative); records of batches that are not kept are checked, not forecast."""
    records = read_records(records_file)
    batches = planned_batches(previous, scenario, previous_start)
    history = ~records["batch_id"].isin(list(batches)) & (records["date"] < previous_start)
    if history.any():  # a cumulative records file: batches that ended before the previous plan
        log.info("%d records of batches finished before %s skipped", int(history.sum()),
                 previous_start)
        records = records[~history]
    check_records(records, batches)
    kept = {str(b) for b in fixed.index}
    table = forecast(records[records["batch_id"].isin(kept)], batches)
    moved = (table["change_pct"].abs() > 100 * MOVE_TOL).fillna(False)
    table["moved"] = moved
    table["planned_with"] = table["forecast_p50"]
    table["note"] = ""
    out = fixed.copy()
    recipes = scenario.recipe_table()
    for batch_id, row in table.iterrows():
        if row["planned_units"] <= 0:
            continue
        factor = float(row["forecast_p50"]) / float(row["planned_units"])
        if abs(factor - 1.0) <= AS_PLANNED_TOL:
            continue  # as planned: keep the rows bit for bit
        mask = out.index == batch_id
        low, high = _volume_bounds(out.loc[mask], recipes.loc[str(row["recipe"])], scenario)
        if int(out.loc[mask, "start_day"].min()) < 0:
            low = 0.0  # a culture seeded before day 0 may run below the vessel minimum
        if not low <= factor <= high:
            factor = min(max(factor, low), high)
            side = "maximum" if factor == high else "minimum"
            table.loc[batch_id, "note"] = f"held at the vessels' {side} working volume"
            log.warning("batch %s: forecast %.3g units held at %.3g (the vessels' %s working "
                        "volume)", batch_id, row["forecast_p50"], factor * row["planned_units"],
                        side)
        table.loc[batch_id, "planned_with"] = factor * float(row["planned_units"])
        for column in SCALED_COLUMNS:
            if column in out.columns:
                out.loc[mask, column] = out.loc[mask, column].astype(float) * factor
        out.loc[mask, "product_units"] = factor * float(row["planned_units"])
    _whole_bags(out, table)
    for batch_id, row in table[moved].iterrows():
        log.info("batch %s forecast %.3g units (planned %.3g, %+.1f %%)", batch_id,
                 row["forecast_p50"], row["planned_units"], row["change_pct"])
    return out, table


def _whole_bags(out: pd.DataFrame, table: pd.DataFrame) -> None:
    """Package the forecast batches' cells in whole bags, as the planner packages its own
    (:func:`bioplan.results.packaging.pool_bags`): the batches of one product harvested on one
    day pool their cells and fill ``floor(sum of units made)`` bags. Batches kept as planned keep
    their bags."""
    ids = set(map(str, out.index))
    pools: dict[tuple[str, int], list[str]] = {}
    for b, row in table.iterrows():
        if (str(b) in ids and row["planned_units"] > 0
                and abs(row["planned_with"] / row["planned_units"] - 1.0) > AS_PLANNED_TOL):
            rows = out.loc[out.index == b]
            key = (str(rows["product"].iloc[0]), int(rows["end_day"].max()))
            pools.setdefault(key, []).append(str(b))
    for members in pools.values():
        grown = [float(table.at[b, "planned_with"]) for b in members]  # type: ignore[arg-type]
        for b, bags in zip(members, pool_bags(grown, math.floor(sum(grown) + 1e-9)), strict=True):
            out.loc[out.index == b, "product_units"] = bags
