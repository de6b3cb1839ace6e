"""The shipped example scenarios: every number carries its source, every switch a comment, and
the independent plan checker passes on the plan of each scenario (named ones in the slow tier)."""

from __future__ import annotations

import inspect
import re
import time
from typing import Any

import pytest
import yaml

from bioplan.paths import scenarios_dir
from bioplan.results import PlanStatus
from bioplan.results.checker import check_plan
from bioplan.scenario import list_scenarios, load_scenario

SHIPPED = list_scenarios()
NAMED = [
    (name, combo)
    for name in SHIPPED
    for combo in (yaml.safe_load((scenarios_dir() / f"{name}.yaml").read_text()).get("scenarios")
                  or {})
]
RESERVED = {"nightly-run", "sweep-example"}
"""Files in models/scenarios owned by the runs/sweep engineer (not planning scenarios)."""

SOURCED_KEYS = {
    "cells_per_unit", "shelf_life_days", "release_delay_days", "shortage_penalty_usd_per_unit",
    "expiry_cost_usd_per_unit", "storage_capacity_units", "initial_inventory_units",
    "min_service_level", "cells_per_lot", "lots_per_week", "cost_usd_per_lot",
    "working_volume_min_L", "working_volume_max_L", "units_owned", "max_additional_units",
    "capital_cost_usd_per_unit_day", "operating_cost_usd_per_day", "turnaround_days",
    "basal_price_usd_per_L", "prep_capacity_L_per_day", "operations_per_day",
    "cost_usd_per_operation",
}
"""Biological or economic fields: their value needs a published-figures row or 'assumption'."""

_NUMBER_LINE = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.\-]+):\s*(-?[0-9][0-9.eE+\-]*)\s*(#.*)?$")


_SOLVED: dict[tuple[str, str | None], tuple[Any, float]] = {}


def _plan(name: str, combo: str | None = None) -> Any:
    """The plan of a shipped scenario, solved once per test session."""
    if (name, combo) not in _SOLVED:
        start = time.perf_counter()
        plan = _solve(name, combo)
        _SOLVED[(name, combo)] = (plan, time.perf_counter() - start)
    return _SOLVED[(name, combo)][0]


def _solve(name: str, combo: str | None) -> Any:
    from bioplan.planning import plan

    sc = load_scenario(name, scenario=combo)
    kwargs: dict[str, Any] = {}
    if "marginal_values" in inspect.signature(plan).parameters:
        kwargs["marginal_values"] = False  # the checker does not look at them; saves re-solves
    return plan(sc, **kwargs)


def test_the_default_and_another_scenario_ship() -> None:
    assert "default" in SHIPPED and len(set(SHIPPED) - RESERVED) >= 2


@pytest.mark.parametrize("name", SHIPPED)
def test_every_biological_or_economic_number_has_a_source(name: str) -> None:
    missing = []
    lines = (scenarios_dir() / f"{name}.yaml").read_text().splitlines()
    in_prices = False
    for number, line in enumerate(lines, start=1):
        if re.match(r"^\s*cytokine_price_usd_per_(mg|kU):", line):
            in_prices = True
            continue
        if in_prices and not line.startswith("    "):
            in_prices = False
        match = _NUMBER_LINE.match(line)
        if match is None:
            continue
        key, comment = match.group(1).rsplit(".", 1)[-1], match.group(3) or ""
        if (key in SOURCED_KEYS or in_prices) and not re.search(r"PF-|assumption", comment):
            missing.append(f"line {number}: {line.strip()}")
    assert missing == [], f"{name}.yaml: numbers without a source or 'assumption':\n" + "\n".join(
        missing)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_switch_and_table_is_explained(name: str) -> None:
    text = (scenarios_dir() / f"{name}.yaml").read_text()
    data = yaml.safe_load(text)
    lines = text.splitlines()
    for section in ("overrides", "scenarios"):
        for key in data.get(section) or {}:
            line = next(x for x in lines if re.match(rf"^\s+{re.escape(key)}:", x))
            assert "#" in line, f"{name}.yaml: {section}.{key} has no comment"
    demand_file = scenarios_dir() / data["demand"]["file"]
    header = "".join(x for x in demand_file.read_text().splitlines() if x.startswith("#"))
    assert "assumption" in header or "PF-" in header, f"{demand_file.name}: no source in header"


@pytest.mark.parametrize("name", SHIPPED)
def test_plan_of_each_shipped_scenario_passes_the_checker(name: str) -> None:
    plan = _plan(name)
    assert plan.has_solution, plan.message
    assert check_plan(plan) == []
    assert plan.batches.shape[0] > 0
    if name in WHOLE_UNITS_HARD and plan.status is PlanStatus.FEASIBLE:
        pytest.xfail(f"{name}: {plan.message} at gap {plan.gap:.1%} — {WHOLE_UNITS_HARD[name]}")
    assert plan.status == PlanStatus.OPTIMAL, plan.message


WHOLE_UNITS_HARD = {
    "platelets-only": "platelet doses from sub-dose VerMES batches, bags pooled per release "
                      "day: the plan is near-optimal but the whole-unit bound climbs slowly "
                      "(the every-slot model alone proves 1 % in ~70 s; 5-9 % gap in the "
                      "scenario's 30 s; docs/planning-model.md 'Whole units')",
}
"""Shipped scenarios whose whole-unit plan may stop above the requested gap (open)."""


def test_default_is_small_and_serves_its_demand() -> None:
    """The dashboard and browser tests run the default: it must solve to 1% quickly."""
    plan = _plan("default")
    elapsed = _SOLVED[("default", None)][1]
    assert plan.status == PlanStatus.OPTIMAL and plan.gap is not None and plan.gap <= 0.01
    kpis = plan.kpis()
    # issue-9 yield cards: cord-blood MKs give ~6 platelets per CD34+ (Six 2019 [R]), so the
    # platelets come from the imMKCL line in VerMES; one 8 L run gives ~1e11 platelets, a third to a
    # half of a dose (PF-C: Ito 2018 [R2]/[D]), and the default offers enough VerMES units to serve
    # all 40 doses. 7 of 8 RBC units: the first week's unit comes before any culture is released.
    assert kpis.loc["rbc", "service_level"] >= 0.85, kpis
    assert kpis.loc["platelet", "service_level"] >= 0.95, kpis
    assert elapsed < 30, f"default took {elapsed:.1f} s (target: well under 10 s when idle)"
    # every product, source type and the turbulent reactor are in play
    assert set(plan.batches["product"]) == {"rbc", "platelet"}
    assert "vermes-8L" in set(plan.batches["reactor_type"])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "combo"), NAMED, ids=[f"{n}:{c}" for n, c in NAMED])
def test_plan_of_each_named_scenario_passes_the_checker(name: str, combo: str) -> None:
    plan = _plan(name, combo)
    if plan.status == PlanStatus.INFEASIBLE:
        assert plan.explanation is not None and not plan.explanation.empty
        return
    assert plan.has_solution, plan.message
    assert check_plan(plan) == []


@pytest.mark.parametrize("name", SHIPPED)
def test_every_card_is_fed_priced_and_hosted(name: str) -> None:
    """Each card of a shipped scenario has a source, a price for every cytokine it uses and a
    reactor type for every vessel class (otherwise it is silently costed at 0 or skipped)."""
    from bioplan.media_options import options_from_recipes

    sc = load_scenario(name)
    table = sc.recipe_table()
    for card, recipes in table.groupby("card"):
        options = options_from_recipes(recipes.drop(columns=["source"]), sc)
        assert options.attrs["source"] is not None, f"{name}: nothing feeds {card}"
        assert options.attrs["unpriced_cytokines"] == [], f"{name}: {card}"
        assert options.attrs["unhosted_vessel_classes"] == [], f"{name}: {card}"
