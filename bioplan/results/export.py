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
SCENARIO = "scenario.yaml"
"""The validated scenario, self-contained, so a plan folder can be read back
(:func:`bioplan.results.plan_io.read_plan`) and evaluated without its original files."""


def write_plan(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write every table of ``plan``, ``summary.json`` and the scenario (``scenario.yaml``) into
    ``out_dir`` (created if needed); returns the files."""
    from bioplan.scenario import scenario_to_yaml

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
    scenario_path = out / SCENARIO
    scenario_path.write_text(scenario_to_yaml(plan.scenario), encoding="utf-8")
    written.append(scenario_path)
    return written
