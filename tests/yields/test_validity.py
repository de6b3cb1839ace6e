"""Validity domains are enforced (issue 9): simulate warns, recipe tables flag each row, and a
scenario offering a recipe outside its card's domain is refused (exit 2) unless it sets
allow_extrapolation: true."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bioplan.errors import InputError
from bioplan.paths import scenarios_dir
from bioplan.scenario.load import read_yaml, scenario_from_dict
from bioplan.yields import recipe_table, simulate


def test_recipe_table_flags_each_extrapolating_row() -> None:
    t = recipe_table("erythroid-cb-giarratana", {"expansion.days": [8, 30], "expansion.IL3": [5, 0]})
    assert not t["extrapolates"].iloc[0]  # the default protocol lies inside its domain
    days30 = t[t["set:expansion.days"] == 30]
    assert days30["extrapolates"].all()
    assert days30["extrapolation"].str.contains("expansion.days = 30 days").all()
    il3_0 = t[(t["set:expansion.IL3"] == 0) & (t["set:expansion.days"] == 8)]
    assert il3_0["extrapolation"].str.contains("expansion.IL3 = 0").all()


def test_the_issue_example_is_bounded_and_warned() -> None:
    # issue 9: expansion.days=47 gave ~2e33-fold; published CB cultures plateau near 1e9 (PF-B)
    sim = simulate("erythroid-cb-giarratana", settings={"expansion.days": 47})
    assert sim.per_seed["fold_expansion"] < 1.1e9
    assert any("expansion.days = 47 days" in w for w in sim.warnings)


def _default_with(variants: dict[str, list[float]], allow: bool | None) -> dict:
    data = copy.deepcopy(read_yaml(scenarios_dir() / "default.yaml"))
    data["recipes"] = [{"card": "erythroid-cb-giarratana", "variants": variants},
                       {"card": "mk-cb-tpo"}]
    if allow is not None:
        data["allow_extrapolation"] = allow
    return data


def test_scenario_with_an_extrapolating_recipe_is_refused() -> None:
    with pytest.raises(InputError) as err:
        scenario_from_dict(_default_with({"expansion.days": [30]}, None), base_dir=scenarios_dir(),
                           file="s.yaml")
    text = str(err.value)
    for part in ("erythroid-cb-giarratana/1", "expansion.days = 30", "5-12", "allow_extrapolation"):
        assert part in text


def test_allow_extrapolation_accepts_it() -> None:
    sc = scenario_from_dict(_default_with({"expansion.days": [30]}, True), base_dir=scenarios_dir(),
                            file="s.yaml")
    table = sc.recipe_table()
    assert table.loc["erythroid-cb-giarratana/1", "extrapolates"]


def test_cli_refuses_with_one_line_and_exit_2(tmp_path: Path) -> None:
    data = _default_with({"expansion.days": [30]}, None)
    demand = scenarios_dir() / "default-demand.csv"
    data["demand"]["file"] = str(demand)
    path = tmp_path / "extrapolating.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "bioplan", "plan", str(path), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "extrapolates" in lines[0] and "Fix:" in lines[0]


def test_plan_lists_the_chosen_recipes_that_extrapolate(tmp_path: Path) -> None:
    """issue 9, item 6: with allow_extrapolation the plan says which chosen recipes extrapolate:
    the recipes_used table, summary.json warnings and the CLI summary. A 13-day expansion (domain
    5-12 days) gives more cells per seed cell, so the optimiser picks it here."""
    import json

    import pandas as pd

    data = _default_with({"expansion.days": [13]}, True)
    data["demand"]["file"] = str(scenarios_dir() / "default-demand.csv")
    path = tmp_path / "extrapolating.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "bioplan", "plan", str(path), "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    used = pd.read_csv(out / "recipes_used.csv", index_col="recipe")
    batches = pd.read_csv(out / "batches.csv")
    assert set(used.index) == set(batches["recipe"])
    assert (used["batches"] == batches.groupby("recipe")["batch_id"].nunique()).all()
    flagged = used[used["extrapolates"]]
    assert list(flagged.index) == ["erythroid-cb-giarratana/1"], used
    assert flagged["extrapolation"].str.contains("expansion.days = 13 days").all()
    warnings = json.loads((out / "summary.json").read_text(encoding="utf-8"))["warnings"]
    extrapolating = [w for w in warnings if "extrapolates" in w]  # beside any shortfall lines
    assert len(extrapolating) == 1 and "erythroid-cb-giarratana/1" in extrapolating[0]
    assert "WARNING   recipe erythroid-cb-giarratana/1" in res.stdout
