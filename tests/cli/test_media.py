"""``bioplan media`` and :mod:`bioplan.media_options`: per-unit criteria and the Pareto set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bioplan.cli import main
from bioplan.media_options import CRITERIA, media_options, options_from_recipes, pareto_efficient
from bioplan.scenario import scenario_from_dict
from tests.results import handmade


def test_pareto_mask_keeps_non_dominated_rows() -> None:
    points = np.array([[1.0, 5.0, 1.0],   # cheapest
                       [2.0, 3.0, 1.0],   # faster
                       [2.0, 5.0, 1.0],   # dominated by row 0
                       [3.0, 3.0, 0.5],   # least reactor time
                       [np.nan, 1.0, 1.0]])  # unknown: never efficient
    assert pareto_efficient(points).tolist() == [True, True, False, True, False]


def test_criteria_follow_from_the_recipe_table_by_hand() -> None:
    """Hand-made RBC recipe ``rbc/a`` of tests/results/handmade.py: 1e6 RBC per seed cell, so
    2e6 seed cells per 2e12-cell unit."""
    sc = handmade.scenario()
    recipes = sc.recipe_table().loc[["rbc/a"]]
    row = options_from_recipes(recipes, sc).loc["rbc/a"]
    assert row["seed_cells_per_unit"] == pytest.approx(2e6)
    assert row["starting_material_usd_per_unit"] == pytest.approx(0.4 * 1500)  # 2e6/5e6 lots
    assert row["basal_medium_usd_per_unit"] == pytest.approx(210 * 30)         # 1.05e-4 L × 2e6
    assert row["cytokines_usd_per_unit"] == pytest.approx(200 * 13.33 + 0.02 * 2000)
    assert row["cost_usd_per_unit"] == pytest.approx(9606)
    assert row["days"] == 8
    # expansion: 10 L peak in the 50-L rocking bag for 3 + 1 turnaround days -> 0.8;
    # maturation: 200 L in the 500-L tank for 5 + 1 days -> 2.4
    assert row["reactor_days_per_unit"] == pytest.approx(3.2)
    assert bool(row["efficient"])


def test_media_options_of_a_shipped_card_against_a_small_scenario() -> None:
    data = {**handmade.SCENARIO,
            "reactors": {**handmade.SCENARIO["reactors"],
                         "bag-500L": {"working_volume_min_L": 1, "working_volume_max_L": 500,
                                      "units_owned": 1, "turnaround_days": 2,
                                      "vessel_classes": ["rocking-bag"]}},
            "sources": {**handmade.SCENARIO["sources"],
                        "cb": {"cells_per_lot": 5e6, "cost_usd_per_lot": 1000,
                               "cards": ["mk-cb-tpo"]}}}
    sc = scenario_from_dict(data)
    options = media_options("mk-cb-tpo", sc, {"maturation.days": [5, 9]})
    assert len(options) == 3 and options.index.name == "recipe"
    assert set(CRITERIA) <= set(options.columns)
    row = options.iloc[0]
    parts = (row["starting_material_usd_per_unit"] + row["basal_medium_usd_per_unit"]
             + row["cytokines_usd_per_unit"])
    assert row["cost_usd_per_unit"] == pytest.approx(parts)
    assert row["starting_material_usd_per_unit"] == pytest.approx(
        row["seed_cells_per_unit"] / 5e6 * 1000)
    assert row["basal_medium_usd_per_unit"] == pytest.approx(row["medium_L_per_unit"] * 30)
    assert options["efficient"].any()
    assert options["cost_usd_per_unit"].is_monotonic_increasing
    # efficient rows are not dominated by any row
    crit = options[list(CRITERIA)].to_numpy()
    for i in np.flatnonzero(options["efficient"].to_numpy()):
        worse_or_equal = (crit <= crit[i]).all(axis=1) & (crit < crit[i]).any(axis=1)
        assert not worse_or_equal.any()
    assert options.attrs["unhosted_vessel_classes"] == []


def test_unhosted_vessel_class_gives_unknown_reactor_days() -> None:
    sc = handmade.scenario()
    options = media_options("mk-imkcl-vermes", sc)
    assert options["reactor_days_per_unit"].isna().all()
    assert "VerMES" in options.attrs["unhosted_vessel_classes"]
    assert options.attrs["source"] is None
    assert options.attrs["unpriced_cytokines"] == ["DOX (mg)"]
    assert (options["starting_material_usd_per_unit"] == 0).all()


def test_media_command_prints_the_efficient_recipes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["media", "erythroid-cb-giarratana", "--vary", "maturation.days=8,10"])
    out = capsys.readouterr().out
    assert code == 0
    assert "card erythroid-cb-giarratana:" in out and "efficient" in out
    assert "cost $/unit" in out and "reactor-days/unit" in out
    assert "erythroid-cb-giarratana/" in out


def test_media_command_all_lists_dominated_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["media", "erythroid-cb-giarratana", "--all", "--vary",
                 "maturation.days=8,12", "--vary", "expansion.EPO=1,2"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("erythroid-cb-giarratana/")]
    assert len(rows) == 5  # default protocol + 2 × 2 variants
    assert pd.Series([r.split()[-1] for r in rows]).isin(["True", "False"]).all()


def test_media_command_shows_only_this_cards_settings(capsys: pytest.CaptureFixture[str]) -> None:
    """The default scenario varies erythroid-cb-giarratana's maturation.density_setpoint only:
    another card's table has no such (all-NaN) settings column."""
    assert main(["media", "erythroid-bela"]) == 0
    out = capsys.readouterr().out
    assert "density_setpoint" not in out and "NaN" not in out
    assert main(["media", "erythroid-cb-giarratana", "--all"]) == 0
    assert "maturation.density_setpoint" in capsys.readouterr().out
