"""AppTest of the Biology page: a shipped yield card simulates, settings change the outcome."""

from __future__ import annotations

import json

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
