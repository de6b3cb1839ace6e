"""Shadow prices as tables: ``bottlenecks.csv`` (resource × day) and their horizon values.

``bottlenecks`` (index ``resource``, ``day``; columns ``date``, ``shadow_price`` [USD per the
row's unit], ``unit``) lists every capacity row that binds in the plan with its dual from the
fixed-integer LP (see :mod:`bioplan.optimisation.duals` for what such a price does and does not
tell). Rows not listed are not binding: their price is 0.

The horizon value of a resource is the sum of its daily (weekly) prices: what one more unit of
capacity *on every day* (every week) of the horizon saves, at the margin. It goes into
``marginal_values`` beside the exact re-solves, told apart by the ``method`` column.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from bioplan.contracts import PLAN_TABLES

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

BOTTLENECK_COLUMNS = list(PLAN_TABLES["bottlenecks"].columns)
MARGINAL_COLUMNS = list(PLAN_TABLES["marginal_values"].columns)
MARGINAL_DOC = """Columns of ``Plan.marginal_values`` (index ``resource``): ``usd_per_unit`` cost
saved over the horizon by one more unit of the resource [USD]; ``unit`` what "one more unit" is; ``gap`` the
relative MIP gap that bounds the noise of a re-solve (0 for a dual: an LP dual is exact for its
LP); ``above_noise`` whether the value exceeds ``gap`` × objective (a re-solve's difference
smaller than that may be solver noise); ``method`` ``dual`` (fixed-integer LP) or ``resolve``."""

HORIZON_UNITS = {
    "reactor": "USD saved over the horizon per extra unit (before its own capital cost)",
    "media_prep": "USD saved over the horizon per extra L/day of media preparation",
    "labour": "USD saved over the horizon per extra operation/day",
    "source": "USD saved over the horizon per extra lot/week",
    "storage": "USD saved over the horizon per extra unit of storage",
}
"""What a horizon value means, by resource kind (the part of the name before ``:``)."""


def bottleneck_table(records: list[tuple[str, int, float, str]], start: dt.date) -> pd.DataFrame:
    """The ``bottlenecks`` table from (resource, day, USD, unit) records; day 0 is ``start``."""
    frame = pd.DataFrame(records, columns=["resource", "day", "shadow_price", "unit"])
    frame["date"] = [start + dt.timedelta(days=int(d)) for d in frame["day"]]
    frame = frame.set_index(["resource", "day"]).sort_index()
    return frame[BOTTLENECK_COLUMNS]


def empty_bottlenecks() -> pd.DataFrame:
    return bottleneck_table([], dt.date(2000, 1, 1))


def priced_resources(scenario: Scenario) -> list[str]:
    """Every capacity a dual can price in ``scenario``: reactor types, and media preparation,
    labour, sources and storage where they are limited."""
    names = [f"reactor:{t}" for t in scenario.reactors]
    if scenario.media.prep_capacity_L_per_day is not None:
        names.append("media_prep")
    if scenario.labour.operations_per_day is not None:
        names.append("labour")
    names += [f"source:{q}" for q, src in scenario.sources.items() if src.lots_per_week is not None]
    names += [f"storage:{p}" for p, prod in scenario.products.items()
              if prod.storage_capacity_units is not None]
    return names


def dual_marginal_values(bottlenecks: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per resource the horizon value of its shadow prices (``method`` = ``dual``)."""
    totals = (bottlenecks["shadow_price"].groupby(level="resource").sum()
              if len(bottlenecks) else pd.Series(dtype=float))
    rows = []
    for name in priced_resources(scenario):
        value = round(float(totals.get(name, 0.0)), 6)
        rows.append((name, value, HORIZON_UNITS[name.split(":", 1)[0]], 0.0, value > 0, "dual"))
    return marginal_frame(rows)


def marginal_frame(rows: list[tuple[str, float, str, float, bool, str]]) -> pd.DataFrame:
    """``Plan.marginal_values`` from (resource, usd_per_unit, unit, gap, above_noise, method)."""
    frame = pd.DataFrame(rows, columns=["resource", *MARGINAL_COLUMNS])
    frame["above_noise"] = frame["above_noise"].astype(bool)
    return frame.set_index("resource")
