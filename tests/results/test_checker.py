"""The independent plan checker on a hand-made plan: it passes, and each violation is caught.

Each test breaks one invariant of ``handmade.plan()`` (whose numbers are worked out in
``handmade.py``) and asserts the checker names it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bioplan.results import Plan, PlanStatus, check_plan
from bioplan.results.checker import CHECKS, recompute_costs
from tests.results import handmade


def _problems(plan: Plan) -> str:
    return "\n".join(check_plan(plan))


def test_hand_made_plan_passes_every_check() -> None:
    assert check_plan(handmade.plan()) == []


def test_recomputed_costs_match_the_hand_arithmetic() -> None:
    costs = recompute_costs(handmade.plan())
    for term, usd in handmade.COSTS.items():
        assert costs[term] == pytest.approx(usd, rel=1e-12), term
    assert sum(costs[t] for t in handmade.COSTS if ":" not in t) == pytest.approx(handmade.OBJECTIVE)


def test_plans_without_a_solution_have_nothing_to_check() -> None:
    plan = Plan(scenario=handmade.scenario(), status=PlanStatus.INFEASIBLE)
    assert check_plan(plan) == []


def test_checker_does_not_import_the_model_code() -> None:
    source = Path(__import__("bioplan.results.checker").results.checker.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    banned = [m for m in imported if m.startswith(("bioplan.optimisation", "bioplan.planning",
                                                   "pyomo", "highspy"))]
    assert banned == []


# ---- one violation each ---------------------------------------------------------------------


def _edit_batches(plan: Plan, batch: str, phase: str, **values: Any) -> Plan:
    frame = plan.batches.reset_index()
    rows = (frame["batch_id"] == batch) & (frame["phase"] == phase)
    for column, value in values.items():
        frame.loc[rows, column] = value
    plan.batches = frame.set_index("batch_id")
    return plan


def _set(frame: pd.DataFrame, key: tuple[Any, ...] | int, value: float,
         column: str = "units") -> pd.DataFrame:
    frame = frame.sort_index()
    frame.loc[key, column] = value
    return frame


def _with(**changes: Any) -> Plan:
    """The hand plan against a scenario with dotted-path changes (``products.rbc...``)."""
    return handmade.plan(handmade.scenario({k.replace("__", "."): v for k, v in changes.items()}))


CASES: dict[str, tuple[Callable[[], Plan], str]] = {
    "two batches on one unit": (
        lambda: _edit_batches(handmade.plan(), "P2", "maturation", reactor_unit=1),
        "turbulent-8L#1 holds P1/maturation (days 0-3 incl. turnaround) and P2/maturation from day 1",
    ),
    "runs during maintenance": (
        lambda: _edit_batches(handmade.plan(), "P2", "maturation", start_day=9, end_day=13),
        "runs on turbulent-8L#2 on maintenance day(s) [10, 11]",
    ),
    "unit beyond the fleet": (
        lambda: _edit_batches(handmade.plan(), "R1", "maturation", reactor_unit=2),
        "unit stirred-500L#2 but the fleet has 1 units of stirred-500L",
    ),
    "vessel class not hosted": (
        lambda: _edit_batches(handmade.plan(), "R1", "maturation", reactor_type="rocking-50L"),
        "phase maturation: needs a 'stirred' vessel but rocking-50L hosts ['rocking']",
    ),
    "peak volume above working volume": (
        lambda: _with(**{"reactors__turbulent-8L__working_volume_max_L": 6}),
        "batch P1 phase maturation: peak volume 8 L above turbulent-8L's working_volume_max_L 6",
    ),
    "peak volume below working volume": (
        lambda: _with(**{"reactors__stirred-500L__working_volume_min_L": 250}),
        "peak volume 200 L below stirred-500L's working_volume_min_L 250",
    ),
    "phase shorter than the recipe": (
        lambda: _edit_batches(handmade.plan(), "R1", "maturation", end_day=7),
        "batch R1 phase maturation: days 3-7 but the recipe phase lasts 5 days",
    ),
    "product units do not follow from seed cells": (
        lambda: _edit_batches(handmade.plan(), "R1", "expansion", product_units=2.0),
        "batch R1: phase rows disagree",
    ),
    "delivered before release": (
        lambda: _replace_delivery(handmade.plan(), (6, "platelet", 5), (6, "platelet", 7)),
        "1 platelet delivered on day 6 from cohort 7, before it is released",
    ),
    "delivered after expiry": (
        lambda: _with(products__platelet__shelf_life_days=3),
        "1 platelet delivered on day 7 from cohort 5, after its last usable day 6",
    ),
    "inventory grows from nothing": (
        lambda: _set_plan(handmade.plan(), "inventory", (10, "rbc", 9), 2.0),
        "rbc cohort 9 day 10: stock 2 exceeds 1 held + 0 released − 0 delivered",
    ),
    "inventory vanishes before expiry": (
        lambda: _set_plan(handmade.plan(), "inventory", (11, "rbc", 9), 0.0),
        "rbc cohort 9 day 11: 1 units vanish",
    ),
    "expiries table disagrees with the cohorts": (
        lambda: _set_plan(handmade.plan(), "expiries", (10, "platelet"), 0.0),
        "expiries day 10 platelet: table says 0 but the cohorts lose 1 units",
    ),
    "stock held after expiry": (
        lambda: _add_stock_after_expiry(handmade.plan()),
        "platelet cohort 6: 1 units held on day 10, after its last usable day 9",
    ),
    "deliveries + shortages != demand": (
        lambda: _set_plan(handmade.plan(), "shortages", (3, "platelet"), 0.0),
        "day 3 platelet: delivered 0 + short 0 != demand 1",
    ),
    "hard service level": (
        lambda: _with(products__platelet__min_service_level=0.9),
        "platelet: service level 0.6667 below the hard minimum 0.9",
    ),
    "storage capacity": (
        lambda: _with(products__platelet__storage_capacity_units=1),
        "day 5 platelet: 2 units stored, capacity 1",
    ),
    "starting material per week": (
        lambda: _with(sources__cord_blood__lots_per_week=0.3),
        "cord_blood week 0 (days 0-6): 0.4 lots used, 0.3 available",
    ),
    "media preparation capacity": (
        lambda: _with(media__prep_capacity_L_per_day=30),
        "day 3: 43 L of medium prepared, capacity 30 L/day",
    ),
    "medium on a day nothing runs": (
        lambda: _set_plan(handmade.plan(), "media_use", 12, 5.0, "medium_L"),
        "day 12: 5 L of medium but no batch phase runs",
    ),
    "labour limit": (
        lambda: _with(labour__operations_per_day=1),
        "day 0: 2 operations, limit 1",
    ),
    "occupancy table wrong": (
        lambda: _set_plan(handmade.plan(), "occupancy", (5, "stirred-500L"), 0, "units_busy"),
        "day 5 stirred-500L: units_busy 0 but the batches keep 1 units busy",
    ),
    "units available ignores maintenance": (
        lambda: _set_plan(handmade.plan(), "occupancy", (10, "turbulent-8L"), 2,
                          "units_available"),
        "day 10 turbulent-8L: units_available 2, expected 1 (fleet 2, 1 in maintenance)",
    ),
    "more units added than allowed": (
        lambda: _set_plan(handmade.plan(), "capacity", "stirred-500L", 2, "units_added"),
        "stirred-500L: units_added 2 is not a whole number in 0..1",
    ),
    "terms do not add up to the objective": (
        lambda: _objective(handmade.plan(), handmade.OBJECTIVE + 1.0),
        "terms add up to 19336 USD but the objective is 19337",
    ),
    "a term differs from its recomputation": (
        lambda: _shift_term(handmade.plan(), "basal_medium", 30.0),
        "basal_medium is 6690 USD but recomputing from the tables gives 6660",
    ),
    "product allocation does not add up": (
        lambda: _set_plan(handmade.plan(), "cost_by_product", ("rbc", "labour"), 500.0, "usd"),
        "cost_by_product: labour: products are allocated 1300 USD but the term is 1400",
    ),
    "cytokine rows do not add up": (
        lambda: _shift_term(handmade.plan(), "cytokine:EPO", 1.0, keep_total=True),
        "cytokine:<F> rows add up to 2797 but cytokines is 2796",
    ),
}
def _shift_dates(plan: Plan, table: str) -> Plan:
    """The plan with ``table``'s dates one day late in ``Plan.tables()``."""
    tables = plan.tables()
    tables[table] = tables[table].assign(date=tables[table]["date"] + pd.Timedelta(days=1))
    plan.tables = lambda: tables  # type: ignore[method-assign]
    return plan


def _batch_units(plan: Plan, batch: str, units: float) -> Plan:
    for phase in plan.batches.loc[[batch], "phase"]:
        plan = _edit_batches(plan, batch, str(phase), product_units=units)
    return plan


CASES["batch packages a fraction of a unit"] = (
    lambda: _batch_units(handmade.plan(), "P1", 1.5),
    "whole units: batch P1 packages 1.5 units (not whole)",
)
CASES["batches package more than their cells make"] = (
    lambda: _batch_units(handmade.plan(), "R1", 2.0),
    "whole units: rbc batches harvested on day 8 package 2 units but their cells make 1.000",
)
CASES["a batch fills two bags more than its cells from the pool"] = (
    lambda: _batch_units(handmade.plan(), "R1", 3.0),
    "whole units: batch R1 packages 3 units but its cells make 1.000 (more than one bag from "
    "the pool)",
)
CASES["fractional shortage"] = (
    lambda: _set_plan(handmade.plan(), "shortages", (3, "platelet"), 0.5),
    "whole units: shortages (3, 'platelet'): 0.5 units (not whole)",
)
CASES["same reactor type, another vessel"] = (
    lambda: _edit_batches(handmade.plan(), "R1", "maturation", reactor_type="rocking-50L",
                          reactor_unit=2),
    "batches: batch R1: expansion on rocking-50L#1, then maturation on #2 (same reactor type: "
    "should stay in its vessel)",
)
CASES["a date that does not match its day"] = (
    lambda: _shift_dates(handmade.plan(), "shortages"),
    "dates: shortages: date 2027-01-08 but day 3 is 2027-01-07",
)
CASES["turnaround counts as busy"] = (
    lambda: _edit_batches(_with(**{"reactors__turbulent-8L__turnaround_days": 1}), "P2",
                          "maturation", reactor_unit=1, start_day=4, end_day=8),
    "turbulent-8L#1 holds P1/maturation (days 0-4 incl. turnaround) and P2/maturation from day 4",
)


def _set_plan(plan: Plan, table: str, key: Any, value: float, column: str = "units") -> Plan:
    setattr(plan, table, _set(getattr(plan, table), key, value, column))
    return plan


def _replace_delivery(plan: Plan, old: tuple[Any, ...], new: tuple[Any, ...]) -> Plan:
    frame = plan.deliveries.reset_index()
    row = (frame["day"] == old[0]) & (frame["product"] == old[1]) & (frame["cohort_day"] == old[2])
    frame.loc[row, ["day", "product", "cohort_day"]] = list(new)
    plan.deliveries = frame.set_index(["day", "product", "cohort_day"])
    return plan


def _add_stock_after_expiry(plan: Plan) -> Plan:
    extra = pd.DataFrame({"units": [1.0]}, index=pd.MultiIndex.from_tuples(
        [(10, "platelet", 6)], names=["day", "product", "cohort_day"]))
    plan.inventory = pd.concat([plan.inventory, extra])
    plan.expiries = _set(plan.expiries, (10, "platelet"), 0.0)
    return plan


def _objective(plan: Plan, value: float) -> Plan:
    plan.objective_usd = value
    return plan


def _shift_term(plan: Plan, term: str, usd: float, keep_total: bool = False) -> Plan:
    breakdown = plan.cost_breakdown.copy()
    breakdown[term] += usd
    plan.cost_breakdown = breakdown
    if not keep_total:
        plan.objective_usd = (plan.objective_usd or 0.0) + usd
    return plan


@pytest.mark.parametrize("case", sorted(CASES))
def test_checker_catches(case: str) -> None:
    make, expected = CASES[case]
    problems = _problems(make())
    assert expected in problems, f"{case}: expected {expected!r} in\n{problems}"


def test_every_check_is_exercised_by_a_case() -> None:
    """Each check function produces at least one message for some broken plan."""
    hit = set()
    for make, _expected in CASES.values():
        for line in check_plan(make()):
            hit.add(line.split(":")[0])
    assert {"batches", "capacity", "occupancy", "deliveries", "inventory", "media_use",
            "cost_breakdown", "cost_by_product"} <= hit
    assert {"whole units", "dates"} <= hit
    assert len(CHECKS) == 17


def test_messages_are_capped_per_check() -> None:
    plan = handmade.plan()
    plan.occupancy = plan.occupancy.assign(units_busy=0)
    lines = [x for x in check_plan(plan) if x.startswith("occupancy")]
    assert len(lines) == 6 and lines[-1].endswith("more like these")


def test_fixed_batch_started_before_the_horizon_passes() -> None:
    """Rolling-horizon plans keep batches started earlier (negative days): a platelet batch P0 on
    turbulent#2 days -4..0, released on day 1, serves the day-3 demand that was short."""
    plan = handmade.plan()
    p0 = pd.DataFrame([("platelet", "plt/a", "maturation", "turbulent-8L", 2, -4, 0, 2e6, 1.0, 4.0,
                        0.01, 0.0)], columns=plan.batches.columns, index=pd.Index(["P0"], name="batch_id"))
    plan.batches = pd.concat([p0, plan.batches])
    day3 = pd.MultiIndex.from_tuples([(3, "platelet", 1)], names=["day", "product", "cohort_day"])
    plan.deliveries = pd.concat([plan.deliveries, pd.DataFrame({"units": [1.0]}, index=day3)])
    held = pd.MultiIndex.from_tuples([(1, "platelet", 1), (2, "platelet", 1)],
                                     names=["day", "product", "cohort_day"])
    plan.inventory = pd.concat([plan.inventory, pd.DataFrame({"units": [1.0, 1.0]}, index=held)])
    plan.shortages = plan.shortages.assign(units=0.0)
    history = pd.DataFrame({"medium_L": 1.0, "EPO_kU": 0.0, "SCF_mg": 0.0, "TPO_mg": 0.0},
                           index=pd.Index(range(-4, 0), name="day"))
    history.loc[-4, "TPO_mg"] = 0.01
    plan.media_use = pd.concat([history, plan.media_use])
    # P0 adds: 0.2 lot × 100, 4 L × 30, 0.01 mg TPO × 3000, 4 days × 10, 2 operations × 200
    costs = dict(handmade.COSTS, starting_material=680.0, basal_medium=6780.0, cytokines=2826.0,
                 reactor_operation=430.0, labour=1800.0, shortage_penalty=0.0)
    costs["cytokine:TPO"] = 120.0
    plan.cost_breakdown = pd.Series(costs, name="usd").rename_axis("term")
    plan.objective_usd = sum(costs[t] for t in costs if ":" not in t)
    by_product = plan.cost_by_product.copy()
    for term, usd in (("starting_material", 20.0), ("basal_medium", 120.0), ("cytokines", 30.0),
                      ("reactor_operation", 40.0), ("labour", 400.0), ("shortage_penalty", -5000.0)):
        by_product.loc[("platelet", term), "usd"] += usd
    plan.cost_by_product = by_product
    plan.scenario = handmade.scenario({"media.prep_capacity_L_per_day": 50})
    assert check_plan(plan) == []
