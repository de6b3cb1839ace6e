"""AppTest of the Batches and Operations pages against the hand-made plan (no solver)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from bioplan.results import PlanStatus
from bioplan.results.operations import daily_operations
from bioplan.results.traveller import batch_ids
from tests.dashboard import fakes
from tests.dashboard.apptest import open_page


def _page(page: str, plan: object) -> AppTest:
    return open_page(page, plan=plan, plan_label="#1 tiny", plans={"#1 tiny": plan})


def test_batches_page_shows_the_traveller_of_the_picked_batch() -> None:
    plan = fakes.plan()
    at = _page("batches", plan)
    ids = batch_ids(plan)
    (pick,) = at.selectbox
    assert pick.options == ids and pick.value == ids[0]
    phases = at.dataframe[0].value
    assert list(phases.index) == list(plan.batches.loc[[ids[0]], "phase"])
    assert {"start_date", "end_date", "medium_L", "vessel"} <= set(phases.columns)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Traveller (CSV)", "Printable traveller (HTML)"]
    (spec,) = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    opacities = [o for t in spec["data"] for o in (t.get("marker", {}).get("opacity") or [])]
    assert 1.0 in opacities and 0.25 in opacities  # the picked batch's bars stand out

    pick.set_value(ids[-1]).run()
    assert not at.exception
    assert list(at.dataframe[0].value.index) == list(plan.batches.loc[[ids[-1]], "phase"])


def test_operations_page_shows_the_daily_sheet() -> None:
    plan = fakes.plan()
    at = _page("operations", plan)
    sheet = at.dataframe[0].value
    expected = daily_operations(plan)
    busy = expected[(expected["operations"] > 0) | (expected["medium_L"] > 0)]
    assert list(sheet.index) == list(busy.index)
    assert {"date", "medium_L", "seedings", "transfers", "harvests", "labour_limit"} <= set(sheet.columns)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Operations"] == str(int(expected["operations"].sum()))
    assert [b.proto.label for b in at.get("download_button")] == ["Daily operations sheet (CSV)"]


def test_pages_without_a_solution_say_so() -> None:
    for page in ("batches", "operations"):
        at = _page(page, fakes.plan(PlanStatus.INFEASIBLE))
        assert any("no solution" in w.value.lower() or "schedules no batches" in w.value
                   for w in at.warning), page
