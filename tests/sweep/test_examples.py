"""The shipped examples validate, and yield-parameter points change the recipes they should."""

from __future__ import annotations

import pytest

from bioplan.errors import InputError
from bioplan.paths import scenarios_dir
from bioplan.runs.config import load_run_config
from bioplan.runs.runner import _load_scenario
from bioplan.scenario import load_scenario
from bioplan.sweeps import load_sweep
from bioplan.sweeps.spec import _CardDraw
from bioplan.sweeps.yields_bridge import perturbed_recipe_overrides

KEY = "yield:erythroid-cb-giarratana:stages.BFU.proliferation_per_day"


def test_nightly_run_example_validates() -> None:
    config = load_run_config(scenarios_dir() / "nightly-run.yaml")
    assert config.plan_line() == "nightly" and config.demand_path() is not None
    scenario = _load_scenario(config, None)
    assert scenario.demand.file == str(config.demand_path())
    assert scenario.demand_table()["units"].sum() > 0  # the example's demand lies in its horizon


def test_sweep_example_points() -> None:
    spec = load_sweep(scenarios_dir() / "sweep-example.yaml")
    points = spec.points()
    assert len(points) == 6
    assert all(isinstance(p.values[KEY], _CardDraw) for p in points)
    assert len({p.values[KEY].seed for p in points[:3]}) == 3


def test_yield_parameter_changes_only_that_card() -> None:
    scenario = load_scenario("default")
    base = scenario.recipe_table()
    overrides, used = perturbed_recipe_overrides(scenario, {KEY: 1.0})
    assert used == {KEY: 1.0}
    changed = load_scenario("default", overrides=overrides).recipe_table()
    giarratana = base["card"] == "erythroid-cb-giarratana"
    assert list(changed.index) == list(base.index)
    lower = changed.loc[giarratana, "product_cells_per_seed_cell"]
    assert (lower < base.loc[giarratana, "product_cells_per_seed_cell"]).all()
    others = base.index[~giarratana]
    assert changed.loc[others, "product_cells_per_seed_cell"].equals(
        base.loc[others, "product_cells_per_seed_cell"])
    _, used = perturbed_recipe_overrides(scenario, {KEY: load_sweep(
        scenarios_dir() / "sweep-example.yaml").points()[0].values[KEY]})
    assert used[KEY] > 0 and used[KEY] != 1.0


def test_yield_parameter_errors() -> None:
    scenario = load_scenario("default")
    with pytest.raises(InputError, match="no recipes from yield card"):
        perturbed_recipe_overrides(scenario, {"yield:no-such-card:x": 1.0})
    with pytest.raises(InputError, match="unknown yield parameter key"):
        perturbed_recipe_overrides(scenario, {"yield:erythroid-cb-giarratana:stages.XX.rate": 1.0})
    spec_draw = _CardDraw(spec=None, seed=1)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="declares no variability"):
        perturbed_recipe_overrides(scenario, {"yield:erythroid-cb-giarratana:seed.HSPC": spec_draw})


def test_broken_base_scenario_is_a_bad_input_not_failed_points() -> None:
    import bioplan

    with pytest.raises(InputError, match=r"horizon\.days"):
        bioplan.sweep({"scenario": "default", "overrides": {"horizon.days": -1},
                       "grid": {"demand.scale": [1, 2]}}, progress=False)


def test_bad_dask_address() -> None:
    import bioplan

    with pytest.raises(InputError, match="not a Dask address"):
        bioplan.sweep({"scenario": "default"}, dask="localhost:8786", progress=False)
