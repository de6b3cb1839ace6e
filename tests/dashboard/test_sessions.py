"""A browser reload keeps the session: scenarios and plans are saved under the URL's session id;
the named what-ifs are solved together and land on the Compare page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from bioplan.app.sessions import SessionFolder
from tests.dashboard import fakes, jobfuncs
from tests.dashboard.apptest import APP, open_page, wait_for_solve


def test_session_folder_round_trip_and_bad_ids(tmp_path: Path) -> None:
    folder = SessionFolder(tmp_path)
    folder.save("abcdefgh12", {"plans": {"#1": fakes.plan()}})
    assert folder.load("abcdefgh12")["plans"]["#1"].objective_usd == fakes.plan().objective_usd
    assert folder.load("unknown-id-123") is None
    folder.save("../../etc", {"x": 1})  # not an id: ignored, nothing written outside
    assert folder.load("../../etc") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abcdefgh12.pkl"]


def test_a_reload_with_the_session_id_restores_scenario_and_plans() -> None:
    at = open_page("scenario")
    at.file_uploader(key="scenario_upload").upload("standalone.yaml", fakes.standalone_yaml(),
                                                   "application/x-yaml")
    at.run()
    sid = at.session_state["session_id"]
    assert at.query_params["session"] == [sid] or at.query_params["session"] == sid
    at.switch_page("views/plan.py").run()
    at.session_state["solve_func"] = jobfuncs.fake_solve
    at.button(key="run_solve").click().run()
    wait_for_solve(at)
    assert list(at.session_state["plans"]) == ["#1 standalone.yaml"]

    again = AppTest.from_file(APP, default_timeout=30)  # a reload: a new session, same URL
    again.query_params["session"] = sid
    again.run()
    assert not again.exception, again.exception
    assert again.session_state["scenario_label"] == "standalone.yaml"
    assert again.session_state["scenario"].name == "standalone"
    assert list(again.session_state["plans"]) == ["#1 standalone.yaml"]
    assert again.session_state["plan_label"] == "#1 standalone.yaml"
    fresh = AppTest.from_file(APP, default_timeout=30)  # no id: the built-in default
    fresh.run()
    assert fresh.session_state["scenario_label"] == "default"
    assert fresh.session_state["session_id"] != sid


def test_named_what_ifs_are_offered_solved_together_and_compared() -> None:
    at = open_page("plan")
    picker = at.multiselect(key="whatif_pick")
    shown = set(picker.options)  # AppTest lists the formatted labels: name (what it changes)
    assert {"growth (high-demand)", "growth-without-rentals (high-demand + no-rental)",
            "bank-only (no-cord-blood)", "screened-platelets (seven-day-platelets)"} <= shown
    picker.set_value(["(as in the file)", "growth"])
    at.session_state["solve_many_func"] = jobfuncs.fake_solve_many
    at.button(key="run_whatifs").click().run()
    wait_for_solve(at)
    assert list(at.session_state["plans"]) == ["#1 default", "#2 growth"]
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="cmp_session").value == ["#1 default", "#2 growth"]
    table = at.dataframe[0].value  # the fake plan's cost follows demand.scale (growth: 1.5)
    assert table.loc["Total cost [USD]", "Δ #2 growth"] == "$2,000"
    diff = at.dataframe[1].value
    assert diff.loc[("#2 growth", "demand.scale"), "here"] == "1.5"


def test_a_named_what_if_can_be_loaded_on_the_scenario_page() -> None:
    at = open_page("scenario")
    at.selectbox(key="named_choice").set_value("bank-only")
    at.button(key="load_named_btn").click().run()
    assert not at.exception, at.exception
    assert at.session_state["scenario_label"] == "default · bank-only"
    assert at.session_state["scenario"].sources["cord_blood"].lots_per_week == 0
