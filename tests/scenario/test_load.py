"""Scenario loading: CSV tables, overrides, named scenarios, round trip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bioplan.errors import InputError
from bioplan.scenario import load_scenario, scenario_from_dict, scenario_to_yaml

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.yaml"


def test_tiny_scenario_reads_its_csv_tables() -> None:
    sc = load_scenario(TINY)
    assert sc.horizon.days == 28
    assert [r.units for r in sc.demand.records] == [1.0, 1.0]
    demand = sc.demand_table()
    assert demand.index.names == ["day", "product"]
    # 2027-01-15 is day 11 after the 2027-01-04 start
    assert demand.loc[(11, "rbc"), "units"] == 1.0
    assert demand["units"].sum() == 2.0
    recipes = sc.recipe_table()
    assert recipes.index.name == "recipe"
    assert recipes.loc["tiny/0", "source"] == "cord_blood"
    assert recipes.loc["tiny/0", "phase1_days"] == 10


def test_named_scenario_combines_overrides() -> None:
    sc = load_scenario(TINY, scenario="stress")
    assert sc.demand.scale == 2
    assert sc.reactors["stirred-500L"].working_volume_max_L == 1000
    assert sc.demand_table()["units"].sum() == 4.0


def test_dotted_overrides_from_python() -> None:
    sc = load_scenario(TINY, overrides={"reactors.stirred-500L.units_owned": 3})
    assert sc.reactors["stirred-500L"].units_owned == 3


def test_weekly_demand_spreads_over_seven_days(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("week,product,units\n2027-01-04,rbc,7\n")
    data = load_yaml_dict()
    data["demand"] = {"file": str(tmp_path / "d.csv")}
    sc = scenario_from_dict(data, base_dir=DATA)
    table = sc.demand_table()["units"]
    assert sc.demand.granularity == "week"
    assert table.loc[(0, "rbc")] == pytest.approx(1.0)
    assert table.loc[(6, "rbc")] == pytest.approx(1.0)
    assert table.loc[(7, "rbc")] == 0.0


def test_yaml_round_trip_is_equal() -> None:
    sc = load_scenario(TINY)
    again = scenario_from_dict(__import__("yaml").safe_load(scenario_to_yaml(sc)))
    assert again == sc
    assert again.demand.records[0].date == dt.date(2027, 1, 15)


def test_unknown_named_scenario_lists_choices() -> None:
    with pytest.raises(InputError) as err:
        load_scenario(TINY, scenario="nope")
    assert "stress" in str(err.value) and "tiny.yaml" in str(err.value)


def test_override_typo_is_reported_with_suggestion() -> None:
    with pytest.raises(InputError) as err:
        load_scenario(TINY, overrides={"reactor.stirred-500L.units_owned": 2})
    assert "did you mean 'reactors'" in str(err.value)


def load_yaml_dict() -> dict:
    import yaml

    return yaml.safe_load(TINY.read_text())
