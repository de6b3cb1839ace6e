"""Export a plan: one CSV per table, an Excel workbook with all of them (a first sheet with the
plan's facts; see :mod:`bioplan.results.excel`), and ``summary.json``. Every table carries dates
beside its day numbers (:mod:`bioplan.results.calendar`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from bioplan.results.excel import write_workbook

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
        table.to_csv(path, date_format="%Y-%m-%d")
        written.append(path)
    workbook = out / WORKBOOK
    write_workbook(plan, tables, workbook)
    written.append(workbook)
    summary_path = out / SUMMARY
    summary_path.write_text(json.dumps(plan.summary(), indent=2) + "\n", encoding="utf-8")
    written.append(summary_path)
    return written
