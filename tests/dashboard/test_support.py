"""UI-agnostic dashboard logic: scenario tables round-trip, uploads, errors by field, comparisons."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from bioplan import dashboard_support as ds
from bioplan.errors import InputError
from tests.dashboard import fakes


def test_unchanged_tables_round_trip_to_an_equal_scenario() -> None:
    scn = ds.validate_raw(fakes.standalone_dict())
    raw = ds.scenario_raw(scn)
    edited = ds.apply_tables(
        raw, demand=ds.demand_frame(raw), reactors=ds.reactors_frame(raw),
        products=ds.products_frame(raw), sources=ds.sources_frame(raw),
        cytokines=ds.cytokines_frame(raw), recipe_options=ds.recipe_options_frame(raw))
    assert ds.validate_raw(edited).model_dump_json() == scn.model_dump_json()
    assert raw == ds.scenario_raw(scn), "apply_tables must not mutate its input"


def test_edits_land_in_the_scenario() -> None:
    raw = ds.scenario_raw(ds.validate_raw(fakes.standalone_dict()))
    demand = ds.demand_frame(raw)
    demand.loc[0, "units"] = 12.0
    reactors = ds.reactors_frame(raw)
    reactors.loc["vrb-10L", "vessel_classes"] = "turbulent, static"
    scn = ds.validate_raw(ds.apply_tables(raw, demand=demand, reactors=reactors,
                                          scalars={"demand.scale": 2.0}))
    assert scn.demand.records[0].units == 12.0 and scn.demand.scale == 2.0
    assert scn.reactors["vrb-10L"].vessel_classes == ["turbulent", "static"]


def test_invalid_edit_lists_problems_by_field() -> None:
    raw = ds.scenario_raw(ds.validate_raw(fakes.standalone_dict()))
    reactors = ds.reactors_frame(raw)
    reactors.loc["vrb-10L", "working_volume_max_L"] = -5.0
    demand = ds.demand_frame(raw)
    demand.loc[1, "units"] = -1.0
    with pytest.raises(InputError) as info:
        ds.validate_raw(ds.apply_tables(raw, reactors=reactors, demand=demand))
    problems = ds.field_problems(info.value)
    fields = {p.field for p in problems}
    assert "reactors.vrb-10L.working_volume_max_L" in fields
    assert "demand.records.1.units" in fields
    assert {p.section for p in problems} == {"reactors", "demand"}


def test_upload_yaml_zip_and_bad_files() -> None:
    assert ds.load_upload("s.yaml", fakes.standalone_yaml()).name == "standalone"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("scn/s.yaml", fakes.standalone_yaml())
    assert ds.load_upload("s.zip", buf.getvalue()).name == "standalone"
    with pytest.raises(InputError) as info:
        ds.load_upload("bad.yaml", b"horizon: [unclosed")
    assert info.value.file == "bad.yaml" and "YAML" in info.value.message
    with pytest.raises(InputError, match="zip"):
        ds.load_upload("bad.zip", b"not a zip")
    with pytest.raises(InputError, match="unsupported"):
        ds.load_upload("s.txt", b"x")


def test_scenario_download_is_re_uploadable() -> None:
    scn = ds.validate_raw(fakes.standalone_dict())
    again = ds.load_upload("again.yaml", ds.scenario_yaml(scn))
    assert again.model_dump_json() == scn.model_dump_json()


def test_plan_files_and_comparison() -> None:
    plan = fakes.plan()
    files = ds.plan_files(plan)
    assert files.xlsx[:2] == b"PK"
    assert json.loads(files.summary_json)["status"] == "optimal"
    with zipfile.ZipFile(io.BytesIO(files.csv_zip)) as zf:
        assert "batches.csv" in zf.namelist()
    table = ds.compare_kpis({"a": plan, "b": fakes.plan(scale=2.0)})
    assert table.loc["objective", "Δ b"] == pytest.approx(4000.0)
    assert table.loc["cost_breakdown.starting_material", "Δ b"] == pytest.approx(4000.0)
    overview = dict((k, v) for k, v, _ in ds.plan_overview(plan))
    assert overview["Status"].startswith("optimal") and overview["Reactors added"] == "1"


def test_every_bundled_scenario_round_trips_through_the_editor_tables() -> None:
    from bioplan.scenario import list_scenarios, load_scenario

    for name in list_scenarios():
        scn = load_scenario(name)
        raw = ds.scenario_raw(scn)
        edited = ds.apply_tables(
            raw, demand=ds.demand_frame(raw), reactors=ds.reactors_frame(raw),
            products=ds.products_frame(raw), sources=ds.sources_frame(raw),
            cytokines=ds.cytokines_frame(raw), recipe_options=ds.recipe_options_frame(raw))
        assert ds.validate_raw(edited).model_dump_json() == scn.model_dump_json(), name


def test_unit_economics_prices_mg_and_kU_cytokines_and_lists_unpriced() -> None:
    summary = {"cytokine_mg_per_unit": {"SCF": 2.0, "IL3": 1.0}, "cytokine_kU_per_unit": {"EPO": 10.0},
               "medium_L_per_unit": 3.0, "seed_cells_per_unit": 1e6, "product_cells_per_seed_cell": 100.0}
    econ = ds.unit_economics(summary, fakes.scenario())  # SCF $300/mg, EPO $8/kU, basal $50/L
    assert econ["cytokine_usd_per_unit"] == pytest.approx(2.0 * 300 + 10.0 * 8)
    assert econ["medium_usd_per_unit"] == pytest.approx(3.0 * 50)
    assert econ["unpriced"] == ["IL3"]
    bare = ds.unit_economics(summary, None)
    assert bare["cytokine_usd_per_unit"] == 0.0 and bare["unpriced"] == ["SCF", "IL3", "EPO"]
