"""The dashboard's logic package: top of the layer order, and its forms generated from the schema."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import Field

from bioplan.app import fields, tables
from bioplan.scenario.schema import Horizon, Product, ReactorType

ROOT = Path(__file__).resolve().parents[2] / "bioplan"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_in_the_library_imports_the_app_package() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if "app" not in p.relative_to(ROOT).parts[:1]
                 and any(n == "bioplan.app" or n.startswith("bioplan.app.") for n in _imports(p))]
    assert not offenders


def test_the_app_package_has_no_streamlit_and_the_root_no_dashboard_helpers() -> None:
    for path in (ROOT / "app").glob("*.py"):
        assert not any(n.split(".")[0] == "streamlit" for n in _imports(path)), path.name
    assert not (ROOT / "dashboard_support.py").exists()
    assert not (ROOT / "solve_job.py").exists()
    assert "dashboard_support" not in _imports(ROOT / "charts.py")


def test_bounds_labels_units_and_help_come_from_the_schema() -> None:
    days = fields.field_spec(Horizon, "days")
    assert days.maximum == 1096.0 and days.integer  # Field(le=1096) on PositiveInt
    assert days.help == "Length of the planning horizon [days]."  # the attribute docstring
    turnaround = fields.field_spec(ReactorType, "turnaround_days")
    assert (turnaround.header, turnaround.minimum) == ("turnaround [days]", 0.0)
    level = fields.field_spec(Product, "min_service_level")
    assert (level.unit, level.minimum, level.maximum, level.optional) == ("fraction", 0.0, 1.0, True)
    assert fields.field_spec(ReactorType, "acquisition").choices == ("buy", "rent")
    # the editor's columns are the schema's fields, in schema order
    assert [f.name for f in tables.REACTOR_FIELDS][:3] == [
        "working_volume_min_L", "working_volume_max_L", "units_owned"]


def test_one_edit_of_the_schema_changes_the_form() -> None:
    class Longer(Horizon):
        days: int = Field(default=30, ge=1, le=2000)
        """Length of a longer horizon [weeks]."""

    spec = fields.field_spec(Longer, "days")
    assert (spec.maximum, spec.minimum, spec.unit) == (2000.0, 1.0, "weeks")
    assert spec.parse("1500") == 1500
    with pytest.raises(ValueError, match="≤ 2000"):
        spec.parse("2001")


@pytest.mark.parametrize(("text", "reason"), [
    ("-5", "must be ≥ 0, not -5"),
    ("twelve", "'twelve' is not a number"),
    ("2.5", "must be a whole number"),
])
def test_a_bad_cell_is_refused_not_repaired(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        fields.field_spec(ReactorType, "units_owned").parse(text)


def test_good_cells_parse_to_the_field_type() -> None:
    assert fields.field_spec(ReactorType, "units_owned").parse(" 12 ") == 12
    assert fields.field_spec(Product, "cells_per_unit").parse("2e12") == 2e12
    assert fields.field_spec(Product, "cells_per_unit").parse("2,000,000") == 2e6
    assert fields.field_spec(Product, "storage_capacity_units").parse("") is None  # optional
    with pytest.raises(ValueError, match="required"):
        fields.field_spec(Product, "cells_per_unit").parse("")
    with pytest.raises(ValueError, match="> 0"):
        fields.field_spec(Product, "cells_per_unit").parse("0")
