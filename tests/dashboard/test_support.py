"""UI-agnostic dashboard logic: scenario tables round-trip, uploads, errors by field, comparisons."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from bioplan.app import biology, compare, editing, files, overview, problems, tables
from bioplan.errors import InputError
from tests.dashboard import fakes


def test_unchanged_tables_round_trip_to_an_equal_scenario() -> None:
    scn = editing.validate_raw(fakes.standalone_dict())
    raw = tables.scenario_raw(scn)
    edited = editing.apply_tables(
        raw, demand=tables.demand_frame(raw), reactors=tables.reactors_frame(raw),
        products=tables.products_frame(raw), sources=tables.sources_frame(raw),
        cytokines=tables.cytokines_frame(raw), recipe_options=tables.recipe_options_frame(raw))
    assert editing.validate_raw(edited).model_dump_json() == scn.model_dump_json()
    assert raw == tables.scenario_raw(scn), "apply_tables must not mutate its input"


def test_edits_land_in_the_scenario() -> None:
    raw = tables.scenario_raw(editing.validate_raw(fakes.standalone_dict()))
    demand = tables.demand_frame(raw)
    demand.loc[0, "units"] = 12.0
    reactors = tables.reactors_frame(raw)
    reactors.loc["vrb-10L", "vessel_classes"] = "turbulent, static"
    scn = editing.validate_raw(editing.apply_tables(raw, demand=demand, reactors=reactors,
                                          scalars={"demand.scale": 2.0}))
    assert scn.demand.records[0].units == 12.0 and scn.demand.scale == 2.0
    assert scn.reactors["vrb-10L"].vessel_classes == ["turbulent", "static"]


def test_invalid_edit_lists_problems_by_field() -> None:
    raw = tables.scenario_raw(editing.validate_raw(fakes.standalone_dict()))
    reactors = tables.reactors_frame(raw)
    reactors.loc["vrb-10L", "working_volume_max_L"] = -5.0
    demand = tables.demand_frame(raw)
    demand.loc[1, "units"] = -1.0
    with pytest.raises(InputError) as info:
        editing.validate_raw(editing.apply_tables(raw, reactors=reactors, demand=demand))
    found = problems.field_problems(info.value)
    fields = {p.field for p in found}
    assert "reactors.vrb-10L.working_volume_max_L" in fields
    assert "demand.records.1.units" in fields
    assert {p.section for p in found} == {"reactors", "demand"}


def test_upload_yaml_zip_and_bad_files() -> None:
    assert files.load_upload("s.yaml", fakes.standalone_yaml())[0].name == "standalone"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("scn/s.yaml", fakes.standalone_yaml())
    assert files.load_upload("s.zip", buf.getvalue())[0].name == "standalone"
    with pytest.raises(InputError) as info:
        files.load_upload("bad.yaml", b"horizon: [unclosed")
    assert info.value.file == "bad.yaml" and "YAML" in info.value.message
    with pytest.raises(InputError, match="zip"):
        files.load_upload("bad.zip", b"not a zip")
    with pytest.raises(InputError, match="unsupported"):
        files.load_upload("s.txt", b"x")


def test_scenario_download_is_re_uploadable() -> None:
    scn = editing.validate_raw(fakes.standalone_dict())
    again, _ = files.load_upload("again.yaml", files.scenario_yaml(scn))
    assert again.model_dump_json() == scn.model_dump_json()


def test_plan_files_and_comparison() -> None:
    plan = fakes.plan()
    out = files.plan_files(plan)
    assert out.xlsx[:2] == b"PK"
    assert json.loads(out.summary_json)["status"] == "optimal"
    with zipfile.ZipFile(io.BytesIO(out.csv_zip)) as zf:
        assert "batches.csv" in zf.namelist()
    table = compare.compare_kpis({"a": plan, "b": fakes.plan(scale=2.0)})
    # the run store's key format (`bioplan compare`): objective_usd, <kpi>:<product or term>
    assert table.loc["objective_usd", "Δ b"] == pytest.approx(4000.0)
    assert table.loc["cost_breakdown:starting_material", "Δ b"] == pytest.approx(4000.0)
    shown = dict((k, v) for k, v, _ in overview.plan_overview(plan))
    assert shown["Status"].startswith("optimal") and shown["Reactors added"] == "1"


def test_every_bundled_scenario_round_trips_through_the_editor_tables() -> None:
    from bioplan.scenario import list_scenarios, load_scenario

    for name in list_scenarios():
        scn = load_scenario(name)
        raw = tables.scenario_raw(scn)
        edited = editing.apply_tables(
            raw, demand=tables.demand_frame(raw), reactors=tables.reactors_frame(raw),
            products=tables.products_frame(raw), sources=tables.sources_frame(raw),
            cytokines=tables.cytokines_frame(raw), recipe_options=tables.recipe_options_frame(raw))
        assert editing.validate_raw(edited).model_dump_json() == scn.model_dump_json(), name


def test_unit_economics_prices_mg_and_kU_cytokines_and_lists_unpriced() -> None:
    summary = {"cytokine_mg_per_unit": {"SCF": 2.0, "IL3": 1.0}, "cytokine_kU_per_unit": {"EPO": 10.0},
               "medium_L_per_unit": 3.0, "seed_cells_per_unit": 1e6, "product_cells_per_seed_cell": 100.0}
    econ = biology.unit_economics(summary, fakes.scenario())  # SCF $300/mg, EPO $8/kU, basal $50/L
    assert econ["cytokine_usd_per_unit"] == pytest.approx(2.0 * 300 + 10.0 * 8)
    assert econ["medium_usd_per_unit"] == pytest.approx(3.0 * 50)
    assert econ["unpriced"] == ["IL3"]
    bare = biology.unit_economics(summary, None)
    assert bare["cytokine_usd_per_unit"] == 0.0 and bare["unpriced"] == ["SCF", "IL3", "EPO"]
