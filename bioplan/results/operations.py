"""Daily operations of a plan: what the floor does each day.

- :func:`operations_list`: every seeding, transfer (to another vessel), harvest and release, one
  row each, with the batch, vessel and date;
- :func:`daily_operations`: per day, media to prepare [L] and cytokines [mg or kU] against the
  preparation capacity, operations (seedings + transfers + harvests) against the labour limit,
  units released and delivered per product — the daily operations sheet.

Operations are counted as the model and the checker count them: one per vessel stay start
(seeding or transfer) and one per harvest; a phase continuing in the same vessel is none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.results.calendar import with_dates
from bioplan.results.packaging import batch_stays

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

OPERATIONS = ("seeding", "transfer", "harvest")
"""What counts against the labour limit."""
LIST_COLUMNS = ["operation", "batch_id", "product", "phase", "reactor_type", "reactor_unit",
                "units"]


def operations_list(plan: Plan) -> pd.DataFrame:
    """One row per seeding, transfer, harvest and release (index ``day``, with ``date``)."""
    rows: list[tuple[object, ...]] = []
    batches = plan.batches
    if not batches.empty:
        stays = batch_stays(batches).reset_index().to_dict("records")
        per = batches.groupby(level="batch_id").agg(
            product=("product", "first"), units=("product_units", "first"),
            harvest=("end_day", "max"))
        first = {str(r["batch_id"]): r for r in per.reset_index().to_dict("records")}
        last: dict[str, dict[Any, Any]] = {}
        for st in stays:
            b = first[str(st["batch_id"])]
            rows.append((int(st["start_day"]), "transfer" if st["stay"] else "seeding",
                         str(st["batch_id"]), b["product"], st["phases"], st["reactor_type"],
                         int(st["reactor_unit"]), float(b["units"])))
            last[str(st["batch_id"])] = st
        for batch_id, b in first.items():
            end = last[batch_id]
            harvest = int(b["harvest"])
            delay = plan.scenario.products[str(b["product"])].release_delay_days  # type: ignore[index]
            for day, what in ((harvest, "harvest"), (harvest + delay, "release")):
                rows.append((day, what, batch_id, b["product"], end["phases"],
                             end["reactor_type"], int(end["reactor_unit"]), float(b["units"])))
    frame = pd.DataFrame(rows, columns=["day", *LIST_COLUMNS])
    frame["day"] = frame["day"].astype(int)
    order = {name: i for i, name in enumerate([*OPERATIONS, "release"])}
    frame = frame.assign(_o=frame["operation"].map(order)).sort_values(
        ["day", "_o", "batch_id"], kind="stable").drop(columns="_o")
    return with_dates(frame.set_index("day"), plan.scenario.horizon.start_date)


def _per_day(values: pd.Series, horizon: int) -> np.ndarray:
    out = np.zeros(horizon)
    for day, v in values.items():
        if 0 <= int(day) < horizon:  # type: ignore[call-overload]
            out[int(day)] += float(v)  # type: ignore[call-overload]
    return out


def daily_operations(plan: Plan) -> pd.DataFrame:
    """The daily operations sheet (index ``day``, with ``date``): ``medium_L`` and each cytokine
    to prepare, ``media_prep_capacity_L`` (NaN: unlimited), ``seedings``, ``transfers``,
    ``harvests``, ``operations`` and ``labour_limit`` (NaN: unlimited), then per product
    ``released_<p>_units`` and ``delivered_<p>_units``."""
    sc = plan.scenario
    horizon = sc.horizon.days
    frame = pd.DataFrame(index=pd.RangeIndex(horizon, name="day"))
    media = plan.media_use
    for col in media.columns:
        frame[str(col)] = _per_day(media[col], horizon)
    if "medium_L" not in frame.columns:
        frame["medium_L"] = 0.0
    cap = sc.media.prep_capacity_L_per_day
    frame["media_prep_capacity_L"] = float("nan") if cap is None else float(cap)
    ops = operations_list(plan).reset_index()
    for what, column in zip(OPERATIONS, ("seedings", "transfers", "harvests"), strict=True):
        frame[column] = _per_day(ops.loc[ops["operation"] == what, "day"].value_counts(),
                                 horizon).astype(int)
    frame["operations"] = frame[["seedings", "transfers", "harvests"]].sum(axis=1)
    limit = sc.labour.operations_per_day
    frame["labour_limit"] = float("nan") if limit is None else float(limit)
    released = ops[ops["operation"] == "release"]
    delivered = plan.deliveries
    for product in sc.products:
        p = str(product)
        mine = released[released["product"] == p].groupby("day")["units"].sum()
        frame[f"released_{p}_units"] = _per_day(mine, horizon)
        out = (delivered["units"].xs(p, level="product").groupby(level="day").sum()
               if not delivered.empty and p in delivered.index.get_level_values("product")
               else pd.Series(dtype=float))
        frame[f"delivered_{p}_units"] = _per_day(out, horizon)
    return with_dates(frame, sc.horizon.start_date)


def over_capacity(sheet: pd.DataFrame) -> pd.DataFrame:
    """Days of a :func:`daily_operations` sheet where media or operations exceed their limits."""
    media = sheet["medium_L"] > sheet["media_prep_capacity_L"] * (1 + 1e-9) + 1e-6
    labour = sheet["operations"] > sheet["labour_limit"]
    return sheet[media.fillna(False) | labour.fillna(False)]
