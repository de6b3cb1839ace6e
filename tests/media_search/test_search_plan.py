"""The searched plan on the built-in default scenario: no dearer than the plain plan (it offers
the scenario's own recipes too), every generated recipe inside its card's validity domain and
checked by the independent plan checker, and the saving, rounds and times reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bioplan.cli import main
from bioplan.media_search import evaluate_settings, search_space
from bioplan.planning import plan
from bioplan.results.checker import check_plan
from bioplan.scenario import load_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def searched():  # type: ignore[no-untyped-def]
    return plan(None, marginal_values=False, search_media=True, media_rounds=2)


def test_searched_plan_costs_no_more_than_the_plain_plan(searched) -> None:  # type: ignore[no-untyped-def]
    s = searched.media_search["summary"]
    gap = load_scenario(None).solver.mip_gap
    assert s["plain_objective_usd"] is not None
    assert searched.objective_usd <= s["plain_objective_usd"] * (1 + gap) + 1e-6
    assert s["saving_usd"] == pytest.approx(s["plain_objective_usd"] - searched.objective_usd)
    assert 1 <= s["rounds"] <= 2
    assert s["search_seconds"] > 0 and s["plain_solve_seconds"] > 0
    # the final MIP's gap and seconds are reported beside the saving (its own, not the baseline's)
    assert s["searched_gap"] == searched.gap
    assert s["final_solve_seconds"] == pytest.approx(searched.timings["solve"])
    assert s["time_ratio"] == pytest.approx(
        (s["search_seconds"] + s["final_solve_seconds"]) / s["plain_solve_seconds"])
    assert len(s["lp_objective_usd_by_round"]) == s["rounds"]
    # the plan offers the scenario's own recipes as well as the generated ones
    own = set(load_scenario(None).recipe_table().index)
    assert own <= set(searched.scenario.recipe_table().index)


def test_generated_recipes_inside_the_validity_domain_and_checked(searched) -> None:  # type: ignore[no-untyped-def]
    recipes = searched.media_search["tables"]["media_search_recipes"]
    assert len(recipes) >= 1
    table = searched.scenario.recipe_table()
    for name, row in recipes.iterrows():
        space = search_space(row["card"])
        x = np.array([row[f"set:{k}"] for k in space.keys])
        assert (x >= space.lower - 1e-9).all() and (x <= space.upper + 1e-9).all()
        again = evaluate_settings(space, x[None, :])
        assert not bool(again["extrapolates"].iloc[0]), again["extrapolation"].iloc[0]
        assert not bool(table.loc[name, "extrapolates"])
        # the recipe the plan carries is the yield model's output for those settings
        assert table.loc[name, "product_cells_per_seed_cell"] == pytest.approx(
            float(again["product_cells_per_seed_cell"].iloc[0]), rel=1e-9)
    assert check_plan(searched) == []
    used = recipes[recipes["units_in_plan"] > 0]
    assert set(used.index) <= set(searched.batches["recipe"])


def test_written_with_the_plan(searched, tmp_path) -> None:  # type: ignore[no-untyped-def]
    searched.write(tmp_path)
    for name in ("media_search_recipes", "media_search_rounds", "media_search_duals"):
        assert (tmp_path / f"{name}.csv").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["media_search"]["recipes_generated"] == len(
        searched.media_search["tables"]["media_search_recipes"])


def test_cli_rejects_bad_rounds_and_unknown_card_in_scenario(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", "--search-media", "--rounds", "0"]) == 2
    assert main(["media", "erythroid-cb-giarratana", "--search", "platelets-only"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "offers no recipe of card" in err[-1]
