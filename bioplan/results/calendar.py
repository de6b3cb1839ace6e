"""Calendar dates beside day numbers, and the warnings a plan must not keep quiet about.

Plan tables are computed on the day grid (day 0 = ``scenario.horizon.start_date``); what users
read — ``Plan.tables()``, every export sheet, ``summary.json``, the CLI, the report and the
dashboard — carries a date beside each day number: ``day`` -> ``date``, ``cohort_day`` ->
``cohort_date``, ``start_day`` -> ``start_date``, ``end_day`` -> ``end_date`` (the first day
*after* a phase, like ``end_day``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import pandas as pd

from bioplan.results.packaging import batch_stays

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

DATE_OF: dict[str, str] = {"day": "date", "cohort_day": "cohort_date",
                           "start_day": "start_date", "end_day": "end_date"}
"""Day-number column (or index level) -> the date column written beside it."""

SERVICE_TOL = 1e-9
"""Service levels within this of the target count as met [-]."""


def date_of(start: dt.date, day: int) -> dt.date:
    """The calendar date of plan day ``day`` (day 0 = ``start``)."""
    return start + dt.timedelta(days=int(day))


def horizon_dates(plan: Plan) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the plan's horizon, both inclusive."""
    start = plan.scenario.horizon.start_date
    return start, date_of(start, plan.scenario.horizon.days - 1)


def with_dates(frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """``frame`` with a date column (datetime64, midnight) beside every day-number column or
    index level named in :data:`DATE_OF`, placed first (index levels) or right after its day
    column; the index is kept. A table that already has the date column keeps its own."""
    out = frame.copy()
    origin = pd.Timestamp(start)
    dated: list[str] = []
    for level in [n for n in (out.index.names or [])
                  if n in DATE_OF and DATE_OF[n] not in out.columns]:
        days = out.index.get_level_values(level).to_numpy(dtype=int)
        out.insert(len(dated), DATE_OF[level], origin + pd.to_timedelta(days, unit="D"))
        dated.append(DATE_OF[level])
    for col in [c for c in list(out.columns) if c in DATE_OF and DATE_OF[c] not in out.columns]:
        days = pd.to_numeric(out[col]).to_numpy(dtype=int)
        out.insert(list(out.columns).index(col) + 1, DATE_OF[col],
                   origin + pd.to_timedelta(days, unit="D"))
    return out


def batches_view(plan: Plan) -> pd.DataFrame:
    """``Plan.batches`` with dates and how each phase starts: ``vessel`` = ``seeded`` (the
    batch's first phase), ``continued`` (same vessel as the phase before: no transfer, no
    turnaround) or ``transferred`` (a real transfer to another reactor type or unit)."""
    batches = plan.batches
    if batches.empty:
        return with_dates(batches.assign(vessel=pd.Series(dtype=str)),
                          plan.scenario.horizon.start_date)
    stays = batch_stays(batches)
    first_day = {(str(st["batch_id"]), int(st["start_day"])): bool(st["transfer_in"])
                 for st in stays.reset_index().to_dict("records")}
    frame = batches.reset_index()
    kinds = []
    for b, start in zip(frame["batch_id"], frame["start_day"], strict=True):
        key = (str(b), int(start))
        kinds.append("continued" if key not in first_day
                     else ("transferred" if first_day[key] else "seeded"))
    frame["vessel"] = kinds
    return with_dates(frame.set_index("batch_id"), plan.scenario.horizon.start_date)


def dated_tables(plan: Plan, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every table of ``tables`` (``Plan.tables()`` order) with its dates; batches also get the
    ``vessel`` column of :func:`batches_view`."""
    start = plan.scenario.horizon.start_date
    out = {}
    for name, table in tables.items():
        out[name] = batches_view(plan) if name == "batches" else with_dates(table, start)
    return out


def plan_warnings(plan: Plan) -> list[str]:
    """One line per shortfall: demand not met in full, a product below its
    ``min_service_level``, or a plan without a solution. Empty list: nothing to flag."""
    if not plan.has_solution:
        return [f"no plan: status {plan.status}" + (f" ({plan.message})" if plan.message else "")]
    found: list[str] = []
    kpis = plan.kpis()
    for product, row in kpis.iterrows():
        demanded, short = float(row["units_demanded"]), float(row["units_short"])
        if demanded <= 0 or short <= 0:
            continue
        service = float(row["service_level"])
        first = _first_short_date(plan, str(product))
        found.append(f"{product}: {short:g} of {demanded:g} units short (service "
                     f"{service:.1%}), first on {first}")
        target = plan.scenario.products[str(product)].min_service_level  # type: ignore[index]
        if target is not None and not math.isnan(service) and service < target - SERVICE_TOL:
            found.append(f"{product}: service {service:.1%} is below its min_service_level "
                         f"{target:.1%}")
    return found


def _first_short_date(plan: Plan, product: str) -> str:
    short = plan.shortages
    days = [int(d) for d, p in short.index if str(p) == product] if not short.empty else []
    if not days:
        return "-"
    return date_of(plan.scenario.horizon.start_date, min(days)).isoformat()
