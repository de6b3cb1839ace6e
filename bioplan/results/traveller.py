"""A batch traveller: one batch followed across its phases — vessels and dates, volumes, medium
and cytokines per phase, seed source and lot, harvest and release, and where its units went.

Units of one product released on the same day (a *cohort*) are interchangeable, so the plan
delivers cohorts, not batches. The traveller allocates a cohort's deliveries to its members in a
fixed order — initial stock first, then batches by id — and what is left of each member expired
(or is still in stock at the horizon end). Totals per cohort are the plan's own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.contracts import cytokine_keys, last_usable_day
from bioplan.errors import InputError
from bioplan.results.batches import phase_cytokines
from bioplan.results.calendar import batches_view, date_of

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

log = logging.getLogger(__name__)

INITIAL_STOCK = "initial stock"
"""Member name of a cohort's initial inventory (cohort day 0)."""


def _recipes(plan: Plan) -> pd.DataFrame:
    """The recipe table the plan was made from (``Plan.recipes``), else the scenario's; an
    empty table when neither can be built (then volumes and cytokines show as missing)."""
    if plan.recipes is not None:
        return plan.recipes
    try:
        return plan.scenario.recipe_table()
    except InputError as err:
        log.warning("traveller without recipe facts: %s", err)
        return pd.DataFrame(index=pd.Index([], name="recipe"))


def batch_ids(plan: Plan) -> list[str]:
    """The plan's batches in id order."""
    if plan.batches.empty:
        return []
    return sorted({str(b) for b in plan.batches.index})


def _rows(plan: Plan, batch_id: str) -> pd.DataFrame:
    if batch_id not in set(batch_ids(plan)):
        msg = f"no batch {batch_id!r} in the plan"
        raise InputError(msg, field="batch_id",
                         fix="pick one of the plan's batch ids (Plan.batches index)")
    view = batches_view(plan)
    return view.loc[[batch_id]].sort_values("start_day").reset_index()


def phases(plan: Plan, batch_id: str) -> pd.DataFrame:
    """One row per phase of ``batch_id`` (index ``phase``): reactor type and unit, ``vessel``
    (seeded / continued / transferred), dates, ``days``, ``culture_volume_L`` (peak culture
    volume of the phase), ``medium_L`` and one ``<FACTOR>_<unit>`` column per cytokine [mg or kU]."""
    rows = _rows(plan, batch_id)
    recipes = _recipes(plan)
    recipe = str(rows.at[0, "recipe"])
    keys = cytokine_keys(recipes.columns)
    uses = phase_cytokines(recipes, keys, [recipe]).get(recipe, [])
    rec: Any = recipes.loc[recipe] if recipe in recipes.index else {}
    seed = float(rows["seed_cells"].iloc[0])
    out = rows[["phase", "reactor_type", "reactor_unit", "vessel", "start_day", "start_date",
                "end_day", "end_date", "medium_L"]].copy()
    out["days"] = (rows["end_day"] - rows["start_day"]).astype(int)
    out["culture_volume_L"] = [
        seed * float(rec.get(f"phase{k}_peak_volume_L_per_seed_cell", float("nan")))
        for k in range(1, len(rows) + 1)]
    for key in keys:
        out[key.label] = [seed * (uses[k].get(key, 0.0) if k < len(uses) else 0.0)
                          for k in range(len(rows))]
    return out.set_index("phase")


def header(plan: Plan, batch_id: str) -> dict[str, Any]:
    """The batch's facts: product, recipe, seed source and lot, seeding / harvest / release /
    expiry dates, seed cells, cells grown and units packaged [unit], waste [unit]."""
    rows = _rows(plan, batch_id)
    sc = plan.scenario
    first = rows.iloc[0]
    product, recipe = str(first["product"]), str(first["recipe"])
    recipes = _recipes(plan)
    source = str(recipes.at[recipe, "source"]) if recipe in recipes.index else "?"
    prod = sc.products[product]  # type: ignore[index]
    seed_day, harvest = int(rows["start_day"].min()), int(rows["end_day"].max())
    release = harvest + prod.release_delay_days
    per_seed = (float(recipes["product_cells_per_seed_cell"].loc[recipe])
                if recipe in recipes.index else float("nan"))
    seed = float(first["seed_cells"])
    grown = seed * per_seed / prod.cells_per_unit
    start = sc.horizon.start_date
    lots = seed / sc.sources[source].cells_per_lot if source in sc.sources else float("nan")
    seed_date = date_of(start, seed_day)
    iso = seed_date.isocalendar()
    last = last_usable_day(release, prod.shelf_life_days, prod.release_delay_days)
    return {
        "batch_id": batch_id, "product": product, "recipe": recipe, "seed_source": source,
        "lot": f"{source}-{iso.year}W{iso.week:02d}-{batch_id}", "lots_used": lots,
        "seed_cells": seed, "seed_day": seed_day, "seed_date": seed_date,
        "harvest_day": harvest, "harvest_date": date_of(start, harvest),
        "release_day": release, "release_date": date_of(start, release),
        "last_usable_date": date_of(start, last),
        "cells_grown_units": grown, "units_packaged": float(first["product_units"]),
        "waste_units": max(grown - float(first["product_units"]), 0.0),
        "transfers": int((rows["vessel"] == "transferred").sum()),
    }


def _members(plan: Plan) -> dict[tuple[str, int], list[tuple[str, float]]]:
    """(product, cohort day) -> [(member, units)] in allocation order."""
    sc = plan.scenario
    members: dict[tuple[str, int], list[tuple[str, float]]] = defaultdict(list)
    for name, prod in sc.products.items():
        if prod.initial_inventory_units > 0:
            members[(str(name), 0)].append((INITIAL_STOCK, float(prod.initial_inventory_units)))
    if not plan.batches.empty:
        per = plan.batches.groupby(level="batch_id").agg(
            product=("product", "first"), units=("product_units", "first"),
            harvest=("end_day", "max"))
        for b, row in per.sort_index().iterrows():
            p = str(row["product"])
            c = int(row["harvest"]) + sc.products[p].release_delay_days  # type: ignore[index]
            members[(p, c)].append((str(b), float(row["units"])))
    return members


def destinations(plan: Plan, batch_id: str) -> pd.DataFrame:
    """Where the units of ``batch_id`` went: one row per delivery day (``fate`` = delivered),
    then what expired (``fate`` = expired, on its expiry day) or is still in stock at the
    horizon end (``fate`` = in stock); columns ``day, date, fate, units``."""
    info = header(plan, batch_id)
    key = (str(info["product"]), int(info["release_day"]))
    cohort = plan.deliveries
    days: list[tuple[int, float]] = []
    if not cohort.empty:
        for r in cohort.reset_index().to_dict("records"):
            if (str(r["product"]), int(r["cohort_day"])) == key:
                days.append((int(r["day"]), float(r["units"])))
    remaining = {m: u for m, u in _members(plan).get(key, [])}
    order = list(remaining)
    rows: list[tuple[int, str, float]] = []
    for day, units in sorted(days):
        for member in order:
            take = min(units, remaining[member])
            if take <= 1e-9:
                continue
            remaining[member] -= take
            units -= take
            if member == batch_id:
                rows.append((day, "delivered", take))
            if units <= 1e-9:
                break
    left = remaining.get(batch_id, 0.0)
    if left > 1e-9:
        prod = plan.scenario.products[key[0]]  # type: ignore[index]
        expiry = last_usable_day(key[1], prod.shelf_life_days, prod.release_delay_days) + 1
        inside = expiry < plan.scenario.horizon.days
        rows.append((expiry if inside else plan.scenario.horizon.days - 1,
                     "expired" if inside else "in stock", left))
    start = plan.scenario.horizon.start_date
    frame = pd.DataFrame(rows, columns=["day", "fate", "units"])
    frame.insert(1, "date", [pd.Timestamp(date_of(start, d)) for d in frame["day"]])
    return frame


def traveller_table(plan: Plan, batch_id: str) -> pd.DataFrame:
    """The whole traveller as one long table for CSV export: ``section, item, value`` rows
    (header facts, then each phase's figures, then each destination)."""
    out: list[tuple[str, str, Any]] = [("batch", k, _text(v))
                                       for k, v in header(plan, batch_id).items()]
    for name, row in phases(plan, batch_id).iterrows():
        out.extend((f"phase {name}", str(col), _text(v)) for col, v in row.items())
    for _i, row in destinations(plan, batch_id).iterrows():
        out.append(("units", f"{row['fate']} {_text(row['date'])}", _text(row["units"])))
    return pd.DataFrame(out, columns=["section", "item", "value"])


def _text(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
