"""The dashboard with the real planner (AppTest): solve the built-in default scenario, edit its
demand on the Scenario page, re-run, and see a different plan; compare the two."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest import APP, wait_for_solve

pytestmark = pytest.mark.slow

TIME_LIMIT_S = 10.0


def solve(at: AppTest, timeout_s: float = 240) -> None:
    at.switch_page("views/plan.py").run()
    assert not at.exception, at.exception
    at.number_input(key="solve_time_limit").set_value(TIME_LIMIT_S)  # keep the tier short
    at.button(key="run_solve").click().run()
    wait_for_solve(at, timeout_s)
    assert not at.error, [e.value for e in at.error]


def test_edit_demand_and_rerun_changes_the_plan() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["scenario_label"] == "default"
    solve(at)
    first = at.session_state["plan"]
    assert first.has_solution
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"].startswith(("optimal", "feasible"))
    assert {"Total cost", "Service level", "Expired units", "Reactors added"} <= set(metrics)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(len(t.get("y", [])) for t in spec["data"]) > 0, "the Gantt chart has bars"

    at.switch_page("views/scenario.py").run()
    v = at.session_state["edit_count"]
    at.number_input(key=f"demand_scale_{v}").set_value(first.scenario.demand.scale * 1.5)
    at.button(key="apply_edits").click().run()
    assert not at.exception, at.exception
    assert at.session_state["scenario"].demand.scale == pytest.approx(first.scenario.demand.scale * 1.5)

    solve(at)
    second = at.session_state["plan"]
    assert second is not first and second.has_solution
    demanded = [p.kpis()["units_demanded"].sum() for p in (first, second)]
    assert demanded[1] == pytest.approx(1.5 * demanded[0])
    assert second.objective_usd != pytest.approx(first.objective_usd)
    assert len(at.session_state["plans"]) == 2

    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table.filter(like="Δ").loc["Total cost [USD]"].iloc[0] not in ("$0", "—")
