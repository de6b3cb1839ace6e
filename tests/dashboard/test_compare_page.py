"""AppTest of the Compare page: session plans and stored runs side by side with KPI deltas."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert table.loc["Total cost [USD]", "Δ #2 dear lots"] == "$4,000"  # money with $
    assert table.loc["Service level: rbc [fraction]", "#1 base"] == "100.0%"  # every row names its unit
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # KPI small multiples, then one schedule per plan
    kpis = json.loads(charts[0].proto.spec)
    panels = [a["text"] for a in kpis["layout"]["annotations"]]
    assert panels[0] == "Total cost [USD]" and "Service level: rbc [fraction]" in panels
    assert {t["name"] for t in kpis["data"]} == {"#1 base", "#2 dear lots"}  # one bar per plan
    spec = json.loads(charts[2].proto.spec)
    assert "dear lots" in spec["layout"]["title"]["text"]


def test_four_plans_get_one_panel_per_kpi_and_the_input_diff() -> None:
    plans = {f"#{i} p{i}": fakes.plan(scale=float(i)) for i in range(1, 5)}
    plans["#4 p4"].scenario.products["rbc"].shelf_life_days = 35
    at = open_page("compare", plans=plans, compare_pick=list(plans))
    kpis = json.loads(at.get("plotly_chart")[0].proto.spec)
    totals = [t for t in kpis["data"] if t["xaxis"] == "x"]
    assert [t["y"][0] for t in totals] == [14400.0, 18400.0, 22400.0, 26400.0]  # +$4000 per scale step
    diff = at.dataframe[1].value
    assert diff.loc[("#4 p4", "products.rbc.shelf_life_days"), "here"] == "35"
    assert diff.loc[("#4 p4", "products.rbc.shelf_life_days"), "in #1 p1"] == "42"


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
    assert table.loc["Total cost [USD]", delta] == "$8,000"
    assert len(at.get("plotly_chart")) == 3


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
    assert table.loc["Total cost [USD]", delta] == "$4,000"


def test_the_store_toggle_on_a_fresh_start_says_there_are_no_runs_yet(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never-created.sqlite'}"
    at = open_page("compare", plans={})
    at.toggle(key="cmp_use_store").set_value(True).run()
    at.text_input(key="cmp_store_url").set_value(url).run()
    assert not at.exception, at.exception
    assert any("No finished runs in the store yet" in c.value for c in at.caption)
    assert not any("unavailable" in c.value for c in at.caption)
    assert not (tmp_path / "never-created.sqlite").exists()
