"""AppTest of the Scenario page: upload, edit through the data editors, invalid input keeps the
last valid scenario (and the user's edits)."""

from __future__ import annotations

import yaml
from streamlit.testing.v1 import AppTest

from tests.dashboard import fakes
from tests.dashboard.apptest import open_page


def upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="scenario_upload").upload(name, data, "application/x-yaml")
    at.run()
    assert not at.exception, at.exception


def editor_key(at: AppTest, name: str) -> str:
    return f"ed_{name}_{at.session_state['edit_count']}"


def test_upload_then_invalid_upload_keeps_previous_scenario() -> None:
    at = open_page("scenario")
    upload(at, "standalone.yaml", fakes.standalone_yaml())
    assert at.session_state["scenario"].name == "standalone"
    assert at.session_state["scenario_label"] == "standalone.yaml"
    assert len(at.data_editor) == 7  # demand, fleet, maintenance, prices, sources, recipes, products

    bad = fakes.standalone_dict()
    bad["reactors"]["vrb-10L"]["working_volume_max_L"] = -1
    upload(at, "bad.yaml", yaml.safe_dump(bad).encode())
    assert any("Upload rejected" in e.value and "working_volume_max_L" in e.value for e in at.error)
    assert at.session_state["scenario"].name == "standalone"
    assert at.session_state["scenario_label"] == "standalone.yaml"


def test_edit_demand_and_apply() -> None:
    at = open_page("scenario")
    upload(at, "standalone.yaml", fakes.standalone_yaml())
    at.session_state[editor_key(at, "demand")] = {
        "edited_rows": {0: {"units": "11"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="apply_edits").click().run()
    assert not at.exception, at.exception
    scn = at.session_state["scenario"]
    assert scn.demand.records[0].units == 11.0
    assert at.session_state["scenario_label"] == "standalone.yaml (edited)"
    assert any("Scenario updated" in s.value for s in at.success)


def _tab_titles(at: AppTest) -> list[str]:
    return [t.label for t in at.tabs]


def test_a_typed_cell_is_checked_at_once_beside_its_field_and_on_its_tab() -> None:
    at = open_page("scenario")
    upload(at, "standalone.yaml", fakes.standalone_yaml())
    before = at.session_state["scenario"].model_dump_json()
    at.session_state[editor_key(at, "reactors")] = {
        "edited_rows": {1: {"units_owned": "-5"}, 0: {"turnaround_days": "twelve"}},
        "added_rows": [], "deleted_rows": []}
    at.run()  # no Apply: the cells are checked as typed
    assert not at.exception, at.exception
    texts = [e.value for e in at.error]
    assert any("reactors.vrb-10L.units_owned" in t and "must be ≥ 0, not -5" in t for t in texts), texts
    assert any("reactors.rocking-50L.turnaround_days" in t and "'twelve' is not a number" in t
               for t in texts), texts
    assert "Bioreactor fleet ⚠ 2" in _tab_titles(at)
    assert "Demand" in _tab_titles(at)  # tabs without problems carry no marker
    at.button(key="apply_edits").click().run()
    assert not at.exception, at.exception
    assert at.session_state["scenario"].model_dump_json() == before  # refused
    assert any("problem(s) in the last edit" in e.value for e in at.error)
    shown = at.data_editor(key=editor_key(at, "reactors")).value  # the kept draft
    assert shown.loc["vrb-10L", "units_owned"] == "-5"  # not turned into 5
    assert shown.loc["rocking-50L", "turnaround_days"] == "twelve"  # not blanked


def test_invalid_edit_shows_error_beside_field_and_keeps_last_valid() -> None:
    at = open_page("scenario")
    upload(at, "standalone.yaml", fakes.standalone_yaml())
    before = at.session_state["scenario"].model_dump_json()
    key = editor_key(at, "reactors")
    at.session_state[key] = {
        "edited_rows": {1: {"working_volume_max_L": "-5"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="apply_edits").click().run()
    assert not at.exception, at.exception
    assert at.session_state["scenario"].model_dump_json() == before
    texts = [e.value for e in at.error]
    assert any("problem(s) in the last edit" in t for t in texts)
    assert any("reactors.vrb-10L.working_volume_max_L" in t for t in texts)
    # the edit is still in the editor, so the user can correct it ...
    assert at.data_editor[1].value.loc["vrb-10L", "working_volume_max_L"] == "-5"
    # ... also after visiting another page
    at.switch_page("views/plan.py").run()
    assert at.session_state["scenario"].model_dump_json() == before  # plans use the last valid one
    at.switch_page("views/scenario.py").run()
    assert not at.exception, at.exception
    assert at.data_editor[1].value.loc["vrb-10L", "working_volume_max_L"] == "-5"
    assert any("reactors.vrb-10L.working_volume_max_L" in e.value for e in at.error)
    at.button(key="discard_edits").click().run()
    assert not at.error
    assert at.session_state["scenario"].model_dump_json() == before
    assert at.data_editor[1].value.loc["vrb-10L", "working_volume_max_L"] == "10"


def test_default_scenario_is_loaded_and_another_bundled_one_can_be_picked() -> None:
    at = open_page("scenario")
    assert at.session_state["scenario_label"] == "default"
    options = at.selectbox(key="bundled_choice").options
    others = [o for o in options if o != "default"]
    if not others:
        return  # only the default is shipped
    at.selectbox(key="bundled_choice").set_value(others[0])
    at.button(key="load_bundled_btn").click().run()
    assert not at.exception, at.exception
    assert at.session_state["scenario_label"] == others[0]
    assert at.session_state["scenario"].name != "default" or others[0] == "default"
    # the editors restart from the newly loaded scenario
    assert at.data_editor[0].value.shape[0] == len(at.session_state["scenario"].demand.records)


def test_fixing_a_rejected_edit_applies_it() -> None:
    at = open_page("scenario")
    upload(at, "standalone.yaml", fakes.standalone_yaml())
    at.session_state[editor_key(at, "reactors")] = {
        "edited_rows": {1: {"working_volume_max_L": "-5"}}, "added_rows": [], "deleted_rows": []}
    at.session_state[editor_key(at, "demand")] = {
        "edited_rows": {0: {"units": "9"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="apply_edits").click().run()
    assert at.session_state["scenario_problems"]
    # correct the bad cell only; the demand edit made together with it is still there
    at.session_state[editor_key(at, "reactors")] = {
        "edited_rows": {1: {"working_volume_max_L": "12"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="apply_edits").click().run()
    assert not at.exception, at.exception
    scn = at.session_state["scenario"]
    assert scn.reactors["vrb-10L"].working_volume_max_L == 12.0
    assert scn.demand.records[0].units == 9.0
    assert not at.session_state["scenario_problems"]


def test_applying_without_changes_says_so() -> None:
    at = open_page("scenario")
    before = at.session_state["scenario"]
    at.button(key="apply_edits").click().run()
    assert not at.exception, at.exception
    assert any("No changes" in s.value for s in at.success)
    assert at.session_state["scenario"] is before
    assert at.session_state["scenario_label"] == "default"


def test_zip_upload_with_a_csv_table() -> None:
    import io
    import zipfile

    data = fakes.standalone_dict()
    data["demand"] = {"file": "demand.csv"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("my-scenario/scenario.yaml", yaml.safe_dump(data))
        zf.writestr("my-scenario/demand.csv", "date,product,units\n2027-01-20,rbc,6\n2027-01-25,platelet,2\n")
    at = open_page("scenario")
    upload(at, "my-scenario.zip", buf.getvalue())
    scn = at.session_state["scenario"]
    assert at.session_state["scenario_label"] == "my-scenario.zip"
    assert [(r.product, r.units) for r in scn.demand.records] == [("rbc", 6.0), ("platelet", 2.0)]
    assert at.data_editor[0].value["units"].tolist() == ["6", "2"]
