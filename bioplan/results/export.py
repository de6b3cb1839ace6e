"""Export a plan: one CSV per table, an Excel workbook with all of them, and ``summary.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

WORKBOOK = "plan.xlsx"
SUMMARY = "summary.json"


def write_plan(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write every table of ``plan`` into ``out_dir`` (created if needed); returns the files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = plan.tables()
    for name, table in tables.items():
        path = out / f"{name}.csv"
        table.to_csv(path)
        written.append(path)
    workbook = out / WORKBOOK
    with pd.ExcelWriter(workbook, engine="openpyxl") as xl:
        for name, table in tables.items():
            table.to_excel(xl, sheet_name=name[:31], merge_cells=False)
    written.append(workbook)
    summary_path = out / SUMMARY
    summary_path.write_text(json.dumps(plan.summary(), indent=2) + "\n", encoding="utf-8")
    written.append(summary_path)
    return written
