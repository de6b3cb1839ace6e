"""Bad scenario files give one clear error naming the file, the field and the fix."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bioplan.errors import ExitCode, InputError
from bioplan.scenario import load_scenario

DATA = Path(__file__).parent / "data"


def _broken(tmp_path: Path, edit: Callable[[dict], None]) -> Path:
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    data = yaml.safe_load((DATA / "tiny.yaml").read_text())
    edit(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _error(path: Path) -> str:
    with pytest.raises(InputError) as err:
        load_scenario(path).recipe_table()
    assert err.value.exit_code == ExitCode.BAD_INPUT
    text = str(err.value)
    assert str(path.name) in text or "csv" in text
    return text


def test_missing_field(tmp_path: Path) -> None:
    text = _error(_broken(tmp_path, lambda d: d["products"]["rbc"].pop("shelf_life_days")))
    assert "products.rbc.shelf_life_days" in text and "Field required" in text
    assert "Fix: add this field" in text


def test_negative_volume(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        d["reactors"]["stirred-500L"]["working_volume_max_L"] = -5

    text = _error(_broken(tmp_path, edit))
    assert "reactors.stirred-500L.working_volume_max_L" in text
    assert "-5" in text and "positive" in text


def test_unit_typo_suggests_the_right_field(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        r = d["reactors"]["stirred-500L"]
        r["working_volume_max_mL"] = r.pop("working_volume_max_L")

    text = _error(_broken(tmp_path, edit))
    assert "unknown field 'working_volume_max_mL'" in text
    assert "did you mean 'working_volume_max_L'" in text


def test_recipe_card_no_source_feeds(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        d["sources"]["cord_blood"]["cards"] = ["another-card"]

    text = _error(_broken(tmp_path, edit))
    assert "tiny-card" in text and "sources" in text and "Fix:" in text


def test_demand_csv_with_bad_date(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: None)
    (tmp_path / "tiny-demand.csv").write_text("date,product,units\n2027-13-45,rbc,1\n")
    text = _error(path)
    assert "tiny-demand.csv" in text and "row 2" in text and "'2027-13-45' is not a date" in text
    assert "YYYY-MM-DD" in text


def test_demand_for_unknown_product(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: None)
    (tmp_path / "tiny-demand.csv").write_text("date,product,units\n2027-01-10,plasma,1\n")
    text = _error(path)
    assert "demand.records.0.product" in text and "'plasma'" in text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nhorizon: {start_date: 2027-01-01, days: 10\n")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert "bad.yaml" in str(err.value) and "line" in str(err.value)


def test_missing_scenario_file() -> None:
    with pytest.raises(InputError) as err:
        load_scenario("no/such/file.yaml")
    assert "no/such/file.yaml" in str(err.value) and "Fix:" in str(err.value)
