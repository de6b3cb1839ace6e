"""AppTest of the Compare page: session plans and stored runs side by side with KPI deltas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioplan.runs import RunStore
from bioplan.runs.rolling import batches_to_records
from tests.dashboard import fakes
from tests.dashboard.apptest import open_page


def test_needs_two_plans() -> None:
    at = open_page("compare", plans={"#1": fakes.plan()})
    assert any("Pick two or more" in i.value for i in at.info)


def test_two_session_plans_side_by_side() -> None:
    at = open_page("compare", plans={"#1 base": fakes.plan(), "#2 dear lots": fakes.plan(scale=2.0)})
    table = at.dataframe[0].value
    assert table.loc["objective_usd [USD]", "Δ #2 dear lots"] == pytest.approx(4000.0)
    assert "service_level:rbc [fraction]" in table.index  # every KPI row names its unit
    assert len(at.get("plotly_chart")) == 2
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert "dear lots" in spec["layout"]["title"]["text"]


def _store_run(url: str, run_id: str, scale: float) -> None:
    plan = fakes.plan(scale=scale)
    store = RunStore(url)
    store.start_run(run_id=run_id, name="nightly", inputs_hash="h",
                    scenario=json.loads(plan.scenario.model_dump_json()), options={}, versions={},
                    plan_start_date="2027-01-04")
    store.finish_run(run_id, status="optimal", exit_code=0,
                     objective_usd=plan.objective_usd, gap=0.0, kpis=plan.summary(),
                     batches=batches_to_records(plan.batches))
    store.dispose()


def test_stored_run_joins_the_comparison(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    _store_run(url, "20270104-nightly-abc", 3.0)
    at = open_page("compare", plans={"#1 base": fakes.plan()})
    at.toggle(key="cmp_use_store").set_value(True).run()
    at.text_input(key="cmp_store_url").set_value(url).run()
    runs = at.multiselect(key="cmp_runs")
    assert runs.options, "the stored run should be listed"
    runs.select("20270104-nightly-abc").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    delta = next(c for c in table.columns if c.startswith("Δ run 20270104-nightly-abc"))
    assert table.loc["objective_usd [USD]", delta] == pytest.approx(8000.0)
    assert len(at.get("plotly_chart")) == 2


def test_two_stored_runs_of_one_day_are_told_apart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    _store_run(url, "20270104T020000Z-nightly-aaaaaa", 2.0)
    _store_run(url, "20270104T020500Z-nightly-bbbbbb", 3.0)
    at = open_page("compare", plans={})
    at.toggle(key="cmp_use_store").set_value(True).run()
    at.text_input(key="cmp_store_url").set_value(url).run()
    runs = at.multiselect(key="cmp_runs")
    assert len(set(runs.options)) == 2, runs.options  # AppTest lists the shown labels
    runs.set_value(["20270104T020000Z-nightly-aaaaaa", "20270104T020500Z-nightly-bbbbbb"]).run()
    assert not at.exception, at.exception
    assert not any("Pick two or more" in i.value for i in at.info)
    table = at.dataframe[0].value
    delta = next(c for c in table.columns if c.startswith("Δ run"))
    assert table.loc["objective_usd [USD]", delta] != 0
