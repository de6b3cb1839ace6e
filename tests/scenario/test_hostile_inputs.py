"""Issue 11, one regression test per class of bad scenario input: each gives an InputError (exit 2)
naming the file and the field, with a fix; none is accepted silently or escapes as exit 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bioplan.errors import InputError
from bioplan.scenario import load_scenario, read_demand_csv
from bioplan.yaml_files import MAX_INPUT_BYTES, MAX_NESTING
from tests.fuzz.oracle import assert_input_error

DATA = Path(__file__).parent / "data"
TINY = (DATA / "tiny.yaml").read_text(encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _fails(path: Path, field: str, *, scenario: str | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        load_scenario(path, scenario=scenario)
    err = caught.value
    assert_input_error(err)
    assert field in err.describe(), err.describe()
    return err


def _edited(folder: Path, old: str, new: str) -> Path:
    assert old in TINY
    path = folder / "edited.yaml"
    path.write_text(TINY.replace(old, new), encoding="utf-8")
    return path


# class 1: undecodable bytes (scenario and demand CSV)
def test_undecodable_scenario(folder: Path) -> None:
    path = folder / "s.yaml"
    path.write_bytes(b"\xffname: x\n")
    err = _fails(path, "line 1")
    assert err.file == str(path) and "UTF-8" in err.message


def test_undecodable_demand_csv(folder: Path) -> None:
    (folder / "tiny-demand.csv").write_bytes(b"date,product,units\n2027-01-15,rbc,\xff\n")
    err = _fails(folder / "tiny.yaml", "line 2")
    assert err.file is not None and err.file.endswith("tiny-demand.csv")


# class 2: deeply nested YAML (the parser's recursion) and a merely deep document
@pytest.mark.parametrize("text", ["[" * 10_000, "a: " + "[" * (MAX_NESTING + 5) + "]" * (MAX_NESTING + 5)])
def test_deep_nesting(folder: Path, text: str) -> None:
    path = folder / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    assert "nested more than" in _fails(path, "(top level)").message


# class 3: an impossible date in the YAML
def test_impossible_date(folder: Path) -> None:
    err = _fails(_edited(folder, "2027-01-04", "2027-02-30"), "horizon.start_date")
    assert "2027-02-30" in err.describe() and "YYYY-MM-DD" in err.describe()


# class 4: wrong types the loader used to walk into
@pytest.mark.parametrize(("old", "new", "field"), [
    ("{file: tiny-demand.csv}", "{file: 123}", "demand.file"),
    ("recipes:\n  - table: tiny-recipes.csv", "recipes: 5", "recipes"),
    ("recipes:\n  - table: tiny-recipes.csv", "recipes: [5]", "recipes.0"),
    ("recipes:\n  - table: tiny-recipes.csv", "recipes: [{table: 7}]", "recipes.0.table"),
    ("double-demand: {demand.scale: 2}", "double-demand: [1, 2]", "overrides.double-demand"),
])
def test_wrong_types(folder: Path, old: str, new: str, field: str) -> None:
    _fails(_edited(folder, old, new), field)


# class 5: infinite or huge numbers, in YAML and in the CSV
@pytest.mark.parametrize(("old", "new", "field"), [
    ("shortage_penalty_usd_per_unit: 50000", "shortage_penalty_usd_per_unit: .inf",
     "products.rbc.shortage_penalty_usd_per_unit"),
    ("capital_cost_usd_per_unit_day: 100", "capital_cost_usd_per_unit_day: 1.0e+308",
     "reactors.stirred-500L.capital_cost_usd_per_unit_day"),
    ("{file: tiny-demand.csv}", "{file: tiny-demand.csv, scale: 1e308}", "demand.scale"),
    ("cells_per_unit: 2.0e12", "cells_per_unit: 'inf'", "products.rbc.cells_per_unit"),
    ("shelf_life_days: 42", "shelf_life_days: .nan", "products.rbc.shelf_life_days"),
])
def test_non_finite_or_huge_numbers(folder: Path, old: str, new: str, field: str) -> None:
    _fails(_edited(folder, old, new), field)


def test_solver_time_limit_infinite(folder: Path) -> None:
    path = _edited(folder, "scenarios:", "solver: {time_limit_s: .inf}\nscenarios:")
    _fails(path, "solver.time_limit_s")


@pytest.mark.parametrize("units", ["inf", "1e308", "-1", "nan"])
def test_demand_csv_units_out_of_range(folder: Path, units: str) -> None:
    (folder / "tiny-demand.csv").write_text(f"date,product,units\n2027-01-15,rbc,{units}\n")
    err = _fails(folder / "tiny.yaml", "units")
    assert "row 2" in err.message


# class 6 and 10: variants no card can evaluate
@pytest.mark.parametrize(("values", "why"), [("[10000]", "phase length"), ("[0]", "phase length"),
                                              ("[2.5]", "phase length"), ("[]", "no values")])
def test_variant_days_out_of_range(folder: Path, values: str, why: str) -> None:
    text = TINY.replace("recipes:\n  - table: tiny-recipes.csv",
                        f"recipes:\n  - card: erythroid-cb-giarratana\n    variants: "
                        f"{{maturation.days: {values}}}")
    text = text.replace("cards: [tiny-card]", "cards: [erythroid-cb-giarratana]")
    path = folder / "variants.yaml"
    path.write_text(text, encoding="utf-8")
    err = _fails(path, "recipes.0.variants.maturation.days")
    assert why in err.message


# class 10: accepted silently before
def test_granularity_that_contradicts_the_csv(folder: Path) -> None:
    path = _edited(folder, "{file: tiny-demand.csv}", "{file: tiny-demand.csv, granularity: month}")
    _fails(path, "demand.granularity")


def test_csv_with_date_and_week(folder: Path) -> None:
    (folder / "tiny-demand.csv").write_text("date,week,product,units\n2027-01-15,2027-01-15,rbc,1\n")
    _fails(folder / "tiny.yaml", "week")


@pytest.mark.parametrize(("old", "new", "field"), [
    ("overrides:\n  double-demand: {demand.scale: 2}\n  big-tank: {reactors: {stirred-500L: "
     "{working_volume_max_L: 1000}}}\nscenarios:\n  stress: [double-demand, big-tank]\n",
     "overrides: 5\n", "overrides"),
    ("scenarios:\n  stress: [double-demand, big-tank]\n", "scenarios: [a, b]\n", "scenarios"),
    ("stress: [double-demand, big-tank]", "stress: [double-demand, nope]", "scenarios.stress"),
    ("double-demand: {demand.scale: 2}", "double-demand: {demand.scael: 2}",
     "overrides.double-demand -> demand.scael"),
    ("double-demand: {demand.scale: 2}", "double-demand: {demand.scale: -2}",
     "overrides.double-demand -> demand.scale"),
])
def test_overrides_checked_before_use(folder: Path, old: str, new: str, field: str) -> None:
    """A broken override is reported when the file is loaded, not on the night it is used."""
    _fails(_edited(folder, old, new), field)


# class 12: every message has a field and a fix
@pytest.mark.parametrize(("old", "new"), [
    ("days: 28", "days: abc"), ("reactors:\n", "reactors: {}\nunused:\n"),
    ("vessel_classes: [stirred]", "vessel_classes: []"),
    ("  - table: tiny-recipes.csv", "  - {table: tiny-recipes.csv, card: tiny-card}"),
    ("working_volume_min_L: 10", "working_volume_min_L: 1000"),
])
def test_every_schema_message_has_a_fix(folder: Path, old: str, new: str) -> None:
    with pytest.raises(InputError) as caught:
        load_scenario(_edited(folder, old, new))
    assert_input_error(caught.value)


def test_a_folder_instead_of_a_file(folder: Path) -> None:
    err = _fails(folder, str(folder))
    assert "folder" in err.message


# input size cap
def test_dev_zero_as_demand_file(folder: Path) -> None:
    path = _edited(folder, "{file: tiny-demand.csv}", "{file: /dev/zero}")
    err = _fails(path, "/dev/zero")
    assert f"{MAX_INPUT_BYTES // 2**20} MiB" in err.message


def test_demand_csv_reader_directly() -> None:
    with pytest.raises(InputError) as caught:
        read_demand_csv("/dev/zero")
    assert_input_error(caught.value)
