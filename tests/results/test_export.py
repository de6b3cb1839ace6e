"""``Plan.write`` and ``Plan.summary`` on the hand-made plan (no solver needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bioplan.results import Plan, PlanStatus
from tests.results import handmade


def test_write_gives_one_csv_per_table_a_workbook_and_a_summary(tmp_path: Path) -> None:
    plan = handmade.plan()
    files = plan.write(tmp_path / "out")
    names = {f.name for f in files}
    assert {f"{t}.csv" for t in plan.tables()} | {"plan.xlsx", "summary.json", "scenario.yaml"} == names
    batches = pd.read_csv(tmp_path / "out" / "batches.csv", index_col="batch_id")
    assert list(batches.columns[:4]) == ["product", "recipe", "phase", "reactor_type"]
    assert batches.loc["R1", "medium_L"].sum() == pytest.approx(210.0)
    deliveries = pd.read_csv(tmp_path / "out" / "deliveries.csv")
    assert list(deliveries.columns) == ["day", "product", "cohort_day", "date", "cohort_date",
                                        "units"]
    # day 0 is 2027-01-04: the platelet delivered on day 6 from cohort 5
    row = deliveries[(deliveries["day"] == 6)].iloc[0]
    assert (row["date"], row["cohort_date"]) == ("2027-01-10", "2027-01-09")
    sheets = pd.read_excel(tmp_path / "out" / "plan.xlsx", sheet_name=None)
    assert set(plan.tables()) | {"plan"} == set(sheets)
    assert next(iter(sheets)) == "plan"


def test_summary_holds_the_documented_fields() -> None:
    summary = handmade.plan().summary()
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(handmade.OBJECTIVE)
    assert sum(summary["cost_breakdown"].values()) == pytest.approx(handmade.OBJECTIVE)
    assert summary["units_delivered"] == {"rbc": 1.0, "platelet": 2.0}
    assert summary["units_short"] == {"rbc": 0.0, "platelet": 1.0}
    assert summary["units_expired"] == {"rbc": 0.0, "platelet": 1.0}
    assert summary["shelf_life_days"] == {"rbc": 42, "platelet": 5}
    assert summary["reactors_added"] == {"rocking-50L": 0, "stirred-500L": 1, "turbulent-8L": 0}
    assert "solve_seconds" in summary
    json.dumps(summary)  # JSON-safe


def test_kpis_by_hand() -> None:
    kpis = handmade.plan().kpis()
    assert kpis.loc["platelet", "service_level"] == pytest.approx(2 / 3)
    # rbc: 1 unit delivered, allocated costs 600 + 6300 + 2706 + 1540 + 310 + 600 = 12 056
    assert kpis.loc["rbc", "cost_usd_per_delivered_unit"] == pytest.approx(12056.0)
    # platelet: 2 delivered; 60 + 360 + 90 + 840 + 80 + 800 + 50 = 2 280 spent making it, the
    # 5 000 USD shortage penalty is reported apart, not as a cost of the delivered doses
    assert kpis.loc["platelet", "cost_usd"] == pytest.approx(2280.0)
    assert kpis.loc["platelet", "cost_usd_per_delivered_unit"] == pytest.approx(1140.0)
    assert kpis.loc["platelet", "shortage_penalty_usd"] == pytest.approx(5000.0)


def test_a_plan_without_solution_still_writes_its_summary(tmp_path: Path) -> None:
    plan = Plan(scenario=handmade.scenario(), status=PlanStatus.NO_SOLUTION, message="time limit")
    plan.write(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "no_solution" and summary["objective"] is None


def test_workbook_has_a_facts_sheet_dates_formats_and_frozen_headers(tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import load_workbook

    plan = handmade.plan()
    plan.write(tmp_path)
    wb = load_workbook(tmp_path / "plan.xlsx")
    facts = {r[0]: r[1] for r in wb["plan"].iter_rows(min_row=2, values_only=True)}
    assert facts["scenario"] == plan.scenario.name
    assert facts["horizon start"] == dt.datetime(2027, 1, 4)
    assert facts["horizon end"] == dt.datetime(2027, 1, 17)  # 14 days
    assert facts["status"] == "optimal"
    assert "platelet: 1 of 3 units short" in str(facts["warnings"])
    ws = wb["deliveries"]
    header = [c.value for c in ws[1]]
    date_col = header.index("date") + 1
    cell = ws.cell(row=2, column=date_col)
    assert isinstance(cell.value, dt.datetime) and cell.number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "D2"  # header row and the three index columns stay in view
    batches = wb["batches"]
    header = [c.value for c in batches[1]]
    assert batches.cell(row=2, column=header.index("seed_cells") + 1).number_format == "0.00E+00"
    costs = wb["cost_breakdown"]
    assert costs.cell(row=2, column=2).number_format == '"$"#,##0'


def test_summary_carries_horizon_dates_and_warnings() -> None:
    summary = handmade.plan().summary()
    assert summary["horizon"] == {"start_date": "2027-01-04", "end_date": "2027-01-17",
                                  "days": 14}
    # the platelet demand of day 3 (2027-01-07) is short: 1 of 3 doses
    assert summary["warnings"] == [
        "platelet: 1 of 3 units short (service 66.7%), first on 2027-01-07"]
