"""AppTest of the Biology page: a shipped yield card simulates, settings change the outcome, and
a plan's searched protocol is shown beside the card's default."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest import open_page


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_biology_page_simulates_a_card() -> None:
    at = open_page("biology", timeout_s=60)
    assert at.selectbox(key="bio_card").options, "no yield cards offered"
    assert float(metric(at, "Product per seed cell")) > 0
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(spec["data"]) >= 3  # stages + all cells
    assert len(at.dataframe) == 1


def test_changing_a_phase_duration_changes_the_outcome() -> None:
    at = open_page("biology", timeout_s=60)
    name = at.selectbox(key="bio_card").value
    before = metric(at, "Product per seed cell")
    days_inputs = [n for n in at.number_input if n.key.startswith(f"bio_{name}_") and n.key.endswith(".days")]
    days_inputs[0].set_value(days_inputs[0].value + 3)
    at.button(key="bio_simulate").click().run()
    assert not at.exception, at.exception
    assert metric(at, "Product per seed cell") != before


def test_every_shipped_card_renders() -> None:
    at = open_page("biology", timeout_s=60)
    for name in at.selectbox(key="bio_card").options:
        at.selectbox(key="bio_card").set_value(name).run()
        assert not at.exception, (name, at.exception)
        assert not at.error, (name, [e.value for e in at.error])
        assert float(metric(at, "Product per seed cell")) > 0, name


def test_without_a_searched_plan_the_page_says_how_to_get_one() -> None:
    at = open_page("biology", timeout_s=60)
    assert any("Search media" in c.value for c in at.caption)
    assert not [s for s in at.selectbox if s.key.startswith("bio_searched_")]


@pytest.mark.slow
def test_the_searched_protocol_is_shown_beside_the_default() -> None:
    """A real media search on the default (one round); the Biology page of the card the plan
    uses most shows the generated settings beside the card's defaults and both time courses."""
    from bioplan.planning import plan

    searched = plan(None, marginal_values=False, search_media=True, media_rounds=1)
    recipes = searched.media_search["tables"]["media_search_recipes"]
    assert len(recipes), "the search generated nothing on the default"
    best = recipes["units_in_plan"].idxmax()
    card = recipes.at[best, "card"]
    at = open_page("biology", timeout_s=90, plan=searched, plan_label="#1 default")
    at.selectbox(key="bio_card").set_value(card).run()
    assert not at.exception, at.exception
    picker = at.selectbox(key=f"bio_searched_{card}")
    assert picker.value == best  # the recipe the plan uses most comes first
    table = at.dataframe[-1].value  # the protocol table comes last
    moved = {k[len("set:"):]: v for k, v in recipes.loc[best].items()
             if k.startswith("set:") and v == v}
    for key, value in moved.items():
        phase, setting = key.split(".", 1)
        assert table.loc[(phase, setting), "searched"] == pytest.approx(value)
    assert (table["searched"] != table["default"]).any()  # the search moved something
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert {t["name"] for t in spec["data"]} == {"default: all cells", "searched: all cells"}
