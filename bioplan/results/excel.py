"""``plan.xlsx``: a first sheet with the plan's facts (scenario, horizon dates, status, gap,
cost, warnings), then one formatted sheet per table: date cells, number formats by unit (whole
units, litres, cells in scientific notation, dollars), a frozen header and index, widths that fit.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from pathlib import Path

    from openpyxl.worksheet.worksheet import Worksheet

    from bioplan.results.plan import Plan

FACTS_SHEET = "plan"
DATE_FORMAT = "yyyy-mm-dd"
FORMATS: tuple[tuple[str, str], ...] = (
    ("date", DATE_FORMAT),
    ("usd", '"$"#,##0'),
    ("cells", "0.00E+00"),
    ("units", "#,##0.##"),
    ("_L", "#,##0.0"),
    ("_mg", "#,##0.00"),
    ("_kU", "#,##0.00"),
    ("level", "0.0%"),
    ("utilisation", "0.0%"),
    ("_day", "0"),
    ("day", "0"),
    ("days", "0"),
    ("reactor_unit", "0"),
)
"""(column-name fragment, Excel number format), first match wins."""
GENERAL_NUMBER = "#,##0.###"
MAX_WIDTH = 40


def number_format(column: str) -> str:
    """The Excel number format of a column, chosen by its name (units in the name)."""
    for fragment, fmt in FORMATS:
        if column == fragment or column.endswith(fragment) or fragment in column.split("_"):
            return fmt
    return GENERAL_NUMBER


def facts(plan: Plan) -> list[tuple[str, Any]]:
    """(label, value) rows of the first sheet."""
    summary = plan.summary()
    horizon = summary["horizon"]
    rows: list[tuple[str, Any]] = [
        ("scenario", plan.scenario.name),
        ("horizon start", dt.date.fromisoformat(horizon["start_date"])),
        ("horizon end", dt.date.fromisoformat(horizon["end_date"])),
        ("horizon days", horizon["days"]),
        ("status", summary["status"]),
        ("gap", summary["gap"]),
        ("objective [USD]", summary["objective"]),
        ("message", summary["message"]),
    ]
    for product, level in summary["service_level"].items():
        rows.append((f"service level {product}", level))
    warnings = summary["warnings"] or ["none"]
    rows.extend((f"warning {i}" if len(warnings) > 1 else "warnings", w)
                for i, w in enumerate(warnings, start=1))
    return rows


def _facts_sheet(ws: Worksheet, plan: Plan) -> None:
    from openpyxl.styles import Font

    ws.append(["field", "value"])
    for label, value in facts(plan):
        ws.append([label, value])
        cell = ws.cell(row=ws.max_row, column=2)
        if isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT
        elif label == "gap" or label.startswith("service level"):
            cell.number_format = "0.00%"
        elif label.endswith("[USD]"):
            cell.number_format = '"$"#,##0'
        if label.startswith("warning") and value != "none":
            cell.font = Font(bold=True, color="9C0006")
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 90


def _table_sheet(ws: Worksheet, table: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    frame = table.reset_index() if _has_named_index(table) else table.reset_index(drop=True)
    ws.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for j, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(j)
        fmt = number_format(str(column))
        is_number = pd.api.types.is_numeric_dtype(frame[column]) or fmt == DATE_FORMAT
        if is_number:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        widest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
        ws.column_dimensions[letter].width = min(max(widest, 10) + 2, MAX_WIDTH)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    levels = len(table.index.names) if _has_named_index(table) else 0
    ws.freeze_panes = ws.cell(row=2, column=levels + 1)


def _has_named_index(table: pd.DataFrame) -> bool:
    return any(n is not None for n in table.index.names)


def _cell(value: Any) -> Any:
    """A value openpyxl writes natively (dates as dates, missing values as empty)."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None  # missing (NaN, pandas' NA of nullable columns, NaT) -> empty cell
    return value


def write_workbook(plan: Plan, tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write ``plan.xlsx`` at ``path``: the facts sheet, then one sheet per table."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = FACTS_SHEET
    _facts_sheet(ws, plan)
    for name, table in tables.items():
        _table_sheet(wb.create_sheet(name[:31]), table)
    wb.save(path)
