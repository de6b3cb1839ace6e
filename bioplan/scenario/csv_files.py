"""The CSV tables a scenario references: demand (``date``/``week``, ``product``, ``units``) and
hand-made recipe tables. Every problem is an :class:`~bioplan.errors.InputError` naming the file,
the column or row, and the fix."""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from bioplan.errors import InputError
from bioplan.yaml_files import read_text_file

MAX_DEMAND_UNITS = 1e7
"""Largest demand of one record [units]: ten million units on one day is beyond any blood
service (England issues about 1.5 million RBC units a year)."""

_DEMAND_EXAMPLE = "models/scenarios/default-demand.csv"


def _frame(path: Path | str | io.StringIO, kind: str, example: str, **read: Any) -> tuple[
        pd.DataFrame, str]:
    """The CSV as a DataFrame and the name to report it by."""
    if isinstance(path, io.StringIO):
        name, text = kind, path.getvalue()
    else:
        name, text = str(path), read_text_file(path, kind=kind, example=example)
    try:
        frame = pd.read_csv(io.StringIO(text), comment="#", skipinitialspace=True, **read)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        msg = f"cannot read {kind} ({first})"
        raise InputError(msg, file=name,
                         field="(table)",
                         fix=f"save it as comma-separated text with a header row, like {example}",
                         ) from None
    return frame, name


def read_demand_csv(path: Path | str | io.StringIO) -> tuple[list[dict[str, Any]], str]:
    """Demand rows from a CSV with columns ``date`` (daily) or ``week`` (first day of the week),
    ``product`` and ``units``. Returns the records and the granularity."""
    frame, name = _frame(path, "demand CSV", _DEMAND_EXAMPLE, dtype=str)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "date" in frame.columns and "week" in frame.columns:
        msg = "has both a 'date' and a 'week' column"
        raise InputError(msg, file=name, field="week",
                         fix="keep 'date' for daily demand or 'week' for weekly demand, not both")
    date_col = "date" if "date" in frame.columns else "week" if "week" in frame.columns else None
    missing = [c for c in ("product", "units") if c not in frame.columns]
    if date_col is None or missing:
        need = (["date (or week)"] if date_col is None else []) + missing
        msg = f"missing column(s) {', '.join(need)}"
        raise InputError(msg, file=name, field=need[0],
                         fix="use the header: date,product,units (or week,product,units)")
    records = [_demand_record(row_no, row, date_col, name)
               for row_no, row in enumerate(frame.itertuples(index=False), start=2)]
    return records, ("week" if date_col == "week" else "day")


def _demand_record(row_no: int, row: Any, date_col: str, name: str) -> dict[str, Any]:
    raw_date = str(getattr(row, date_col)).strip()
    try:
        date = dt.date.fromisoformat(raw_date)
    except ValueError:
        msg = f"row {row_no}: {raw_date!r} is not a date"
        raise InputError(msg, file=name,
                         field=date_col, fix="write dates as YYYY-MM-DD, e.g. 2027-01-04") from None
    try:
        units = float(str(row.units))
    except ValueError:
        units = float("nan")
    if not (math.isfinite(units) and 0 <= units <= MAX_DEMAND_UNITS):
        msg = f"row {row_no}: units {row.units!r} is not a number from 0 to {MAX_DEMAND_UNITS:g}"
        raise InputError(
            msg,
            file=name, field="units",
            fix="give demand as a finite, non-negative number of units")
    return {"date": date, "product": str(row.product).strip(), "units": units}


def read_recipe_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of a hand-made recipe table (columns as ``bioplan.yields.recipe_table``)."""
    frame, name = _frame(path, "recipe CSV", "tests/cli/data/small-recipes.csv")
    rows = [{str(k): _plain(v) for k, v in rec.items()} for rec in frame.to_dict("records")]
    for row_no, rec in enumerate(rows, start=2):
        for column, value in rec.items():
            if isinstance(value, float) and math.isinf(value):
                msg = f"row {row_no}: {column} is infinite"
                raise InputError(msg, file=name, field=column,
                                 fix="give a finite number")
    return rows


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars, so the scenario stays JSON-serialisable."""
    return value.item() if hasattr(value, "item") else value
