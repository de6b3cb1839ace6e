"""AppTest of the dashboard wiring of shadow prices and robust plans, with the real planner:
the Costs page draws the resource × day heatmap of the default plan's shadow prices, and the
Plan page's Robust toggle solves the tiny scenario as a robust plan and shows its figures."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bioplan import bottleneck_charts
from bioplan.planning import plan as make_plan
from bioplan.results.bottlenecks import priced_resources
from bioplan.scenario import load_scenario
from bioplan.scenario.schema import Uncertainty
from tests.dashboard.apptest import open_page, wait_for_solve
from tests.optimisation.builders import base, build, demand

pytestmark = pytest.mark.slow

TINY = Path(__file__).parents[1] / "scenario" / "data" / "tiny.yaml"


def _array(value: object) -> np.ndarray:
    """A plotly JSON array: a nested list, or plotly 6's typed form ``{dtype, bdata, shape}``."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", flat.size)).split(",")]
        return flat.reshape(shape).astype(float)
    return np.array(value, dtype=float)


def specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def heatmap_of(at: AppTest) -> dict:
    (heatmap,) = [s for s in specs(at) if s["layout"]["title"]["text"] == bottleneck_charts.TITLE]
    return heatmap


def test_costs_page_shows_the_heatmap_panel_and_dual_values_of_the_default_plan() -> None:
    plan = make_plan(None, time_limit_s=10)
    assert plan.has_solution
    at = open_page("costs", plan=plan, plan_label="#1 default", plans={"#1 default": plan})
    heatmap = heatmap_of(at)
    table = at.dataframe[-1].value
    assert set(table["method"]) == {"dual"}
    assert any("whole reactor" in c.value for c in at.caption)
    if plan.bottlenecks.empty:  # nothing binds with the default plan's batches fixed
        assert not heatmap["data"]
        assert heatmap["layout"]["annotations"][0]["text"] == bottleneck_charts.NO_PRICES
    else:
        assert heatmap["data"][0]["type"] == "heatmap"


def test_costs_page_draws_the_price_of_a_binding_media_preparation() -> None:
    """The 612.5 USD per L/day case of tests/optimisation/test_prices.py: media preparation
    capped at 10 L/day binds on one day; the single tank never binds with the batch fixed."""
    raw = base(8, penalty=1000)
    raw["media"]["prep_capacity_L_per_day"] = 10
    plan = make_plan(build(demand(raw, {7: 10})))
    at = open_page("costs", plan=plan, plan_label="#1 media", plans={"#1 media": plan})
    (trace,) = heatmap_of(at)["data"]
    assert trace["type"] == "heatmap"
    assert trace["y"] == priced_resources(plan.scenario) == ["reactor:tank", "media_prep"]
    z = _array(trace["z"])
    assert z.shape == (2, 8)  # one column per horizon day
    assert z[1].sum() == pytest.approx(612.5) and z[0].sum() == 0
    table = at.dataframe[-1].value
    assert table.loc["media_prep", "usd_per_unit"] == pytest.approx(612.5)


def test_robust_toggle_solves_the_tiny_scenario_as_a_robust_plan() -> None:
    tiny = load_scenario(TINY)
    tiny = tiny.model_copy(update={"uncertainty": Uncertainty(samples=4, seed=3,
                                                              yield_cv={"tiny-card": 0.3})})
    at = open_page("plan", timeout_s=120, scenario=tiny, scenario_label="tiny")
    assert at.checkbox(key="solve_marginal").value, "prices are on by default"
    at.toggle(key="solve_robust").set_value(True)
    at.number_input(key="solve_samples").set_value(4)
    at.radio(key="solve_yield_uncertainty").set_value("lot")
    at.number_input(key="solve_time_limit").set_value(20.0)
    at.button(key="run_solve").click().run()
    wait_for_solve(at, 240)
    assert not at.error, [e.value for e in at.error]
    plan = at.session_state["plan"]
    assert plan.has_solution and plan.robust is not None
    assert plan.robust["samples"] == 4 and plan.robust["engine"] == "ef"
    assert plan.robust["yield_uncertainty"] == "lot"
    labels = {m.label for m in at.metric}
    assert {"Price of robustness", "VSS", "EVPI"} <= labels
    titles = [s["layout"]["title"]["text"] for s in specs(at)]
    assert any(t.startswith("Stock by day over 500") for t in titles)
    fan = next(s for s in specs(at) if s["layout"]["title"]["text"].startswith("Stock by day"))
    assert {t["name"] for t in fan["data"]} == {"rbc P10–P90", "rbc median"}
    assert any(t.startswith("Service level over 500") for t in titles)
