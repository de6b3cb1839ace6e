"""AppTest of the result pages against a hand-made plan (no solver needed)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from bioplan import bottleneck_charts
from bioplan.results import PlanStatus
from tests.dashboard import fakes
from tests.dashboard.apptest import open_page


def result_page(page: str, plan: object | None) -> AppTest:
    return open_page(page, plan=plan, plan_label="#1 tiny",
                     plans={"#1 tiny": plan} if plan is not None else {})


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


@pytest.mark.parametrize("page", ["schedule", "inventory", "costs"])
def test_result_pages_without_a_plan_say_so(page: str) -> None:
    at = result_page(page, None)
    assert any("No plan yet" in i.value for i in at.info)


def test_schedule_page_draws_gantt_with_batches() -> None:
    at = result_page("schedule", fakes.plan())
    (spec,) = plotly_specs(at)
    names = {t["name"] for t in spec["data"]}
    assert {"rbc", "platelet", "turnaround"} <= names
    assert len(at.dataframe) >= 1
    assert len(at.get("download_button")) == 3


def test_inventory_page() -> None:
    at = result_page("inventory", fakes.plan())
    (spec,) = plotly_specs(at)
    assert any(t["name"] == "platelet shortage" for t in spec["data"])
    kpis = at.dataframe[0].value
    assert kpis.loc["rbc", "units_delivered"] == 4.0


def test_costs_page() -> None:
    plan = fakes.plan()
    plan.cost_breakdown["cytokine:EPO"] = 1500.0  # a part of "cytokines", not another term
    at = result_page("costs", plan)
    spec, heatmap = plotly_specs(at)
    # the hand-made plan carries no shadow prices: the heatmap panel says so instead of drawing
    assert heatmap["layout"]["title"]["text"] == bottleneck_charts.TITLE
    assert not heatmap["data"]
    steps = [t for t in spec["data"] if t.get("xaxis", "x") == "x"]  # the waterfall panel
    assert steps[0]["base"] == [0.0] and steps[-1]["name"] == "Total"
    assert steps[-1]["y"] == [pytest.approx(fakes.plan().objective_usd)]  # sub-rows not added on top
    terms = at.dataframe[0].value
    assert terms.loc["total", "usd"] == pytest.approx(fakes.plan().objective_usd)
    # the total closes the cost terms; cytokine sub-rows come after it
    assert list(terms.index)[-2:] == ["total", "cytokine:EPO"]


@pytest.mark.parametrize("page", ["schedule", "inventory", "costs"])
def test_result_pages_explain_infeasible_plans(page: str) -> None:
    plan = fakes.plan(status=PlanStatus.INFEASIBLE)
    plan.batches = plan.batches.iloc[0:0]
    at = result_page(page, plan)
    assert at.warning, "an infeasible plan should be explained"


def test_plan_page_explains_an_infeasible_plan() -> None:
    import pandas as pd

    plan = fakes.plan(status=PlanStatus.INFEASIBLE)
    plan.batches = plan.batches.iloc[0:0]
    plan.message = "platelet demand cannot be met on days 3-5"
    plan.explanation = pd.DataFrame({"resource": ["vrb-10L units"], "short_by": [2.0]},
                                    index=pd.Index(["platelet"], name="product"))
    at = open_page("plan", scenario=plan.scenario, scenario_label="tiny", plan=plan,
                   plan_label="#1 tiny")
    assert any("days 3-5" in w.value for w in at.warning)
    assert at.dataframe[0].value.loc["platelet", "resource"] == "vrb-10L units"
    assert {m.label for m in at.metric} == {"Status", "Gap"}
