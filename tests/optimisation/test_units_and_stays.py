"""Whole units and same-vessel continuation on tiny scenarios worked out by hand (issue 12).

Unit prices as in ``builders``: 125 USD of material per unit (145 for the two-phase recipes here:
10 L of medium per unit in each phase, 2 USD/L), 50 USD per culture day, 10 USD per operation,
capital 100 USD per tank-day; at most 10 units per 10 L batch.
"""

from __future__ import annotations

import pytest

from bioplan.contracts import PlanStatus
from bioplan.planning import plan
from bioplan.results.operations import daily_operations, operations_list
from bioplan.results.traveller import destinations, header, phases
from tests.optimisation.builders import base, build, demand, recipe
from tests.optimisation.invariants import assert_valid


def _two_phase(raw: dict, second_vessel: str = "stirred") -> dict:
    raw["recipes"][0]["rows"] = [recipe("r/0", phases=[("expansion", 3, "stirred"),
                                                       ("maturation", 4, second_vessel)])]
    return raw


def test_a_batch_stays_in_its_vessel_and_the_turnaround_comes_once():
    """One tank (turnaround 2 days), a 3 + 4 day recipe whose phases both run in a stirred tank;
    10 units due on day 7 and 10 on day 16 of a 21-day horizon.

    By hand: a batch holds the tank on days 0-6 (both phases, no turnaround between them), is
    cleaned on days 7-8, and the second batch runs days 9-15. With a turnaround after each phase
    (the old occupancy) the first batch alone would hold the tank to day 8 and the second could
    not be harvested by day 16. Cost = capital 100 x 21 = 2100 + operation 2 x 7 x 50 = 700 +
    labour 2 batches x (seeding + harvest) x 10 = 40 + material 20 x 145 = 2900 = **5740 USD**.
    """
    raw = _two_phase(demand(base(21), {7: 10, 16: 10}))
    raw["reactors"]["tank"]["turnaround_days"] = 2
    p = plan(build(raw), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert p.shortages.empty
    assert p.objective_usd == pytest.approx(5740, rel=1e-6)
    starts = sorted(p.batches.groupby(level="batch_id")["start_day"].min())
    assert starts == [0, 9]
    assert set(p.batches["reactor_unit"]) == {1}
    busy = p.occupancy.xs("tank", level="reactor_type")["units_busy"]
    assert busy.tolist() == [1] * 7 + [1, 1] + [1] * 7 + [1, 1] + [0] * 3  # 0-6 run, 7-8 clean
    first = sorted(p.batches.index.unique())[0]
    assert phases(p, first)["vessel"].tolist() == ["seeded", "continued"]
    assert header(p, first)["transfers"] == 0
    ops = operations_list(p)
    assert sorted(ops["operation"].value_counts().items()) == [
        ("harvest", 2), ("release", 2), ("seeding", 2)]


def test_a_change_of_reactor_type_is_a_transfer():
    """The maturation runs in a rocking bag (second reactor type, no turnaround): one batch of 10
    units for day 7. By hand: seeding, one transfer, harvest = 3 operations x 10 = 30 USD; cost =
    capital (tank + bag) 2 x 100 x 14 = 2800 + operation 7 x 50 = 350 + 30 + material 10 x 145 =
    **4630 USD**."""
    raw = _two_phase(demand(base(14), {7: 10}), second_vessel="rocking")
    raw["reactors"]["bag"] = dict(raw["reactors"]["tank"], vessel_classes=["rocking"])
    p = plan(build(raw), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert p.objective_usd == pytest.approx(4630, rel=1e-6)
    (batch,) = p.batches.index.unique()
    assert phases(p, batch)["vessel"].tolist() == ["seeded", "transferred"]
    sheet = daily_operations(p)
    assert (sheet.loc[0, "seedings"], sheet.loc[3, "transfers"], sheet.loc[7, "harvests"]) == (1, 1, 1)
    assert sheet["operations"].sum() == 3


def test_batches_package_whole_units_and_the_rest_is_waste():
    """7.4 units due on day 7 are 7 whole units (the demand is rounded, see demand_table); a
    batch grows at least 8 units' worth of cells (8 L working-volume minimum) and packages the 7
    needed. By hand: capital 100 x 14 = 1400 + batch 7 x 50 + 2 x 10 = 370 + material of the 8
    units grown 8 x 125 = 1000 = **2770 USD**; 1 unit of cells is waste, nothing expires."""
    raw = demand(base(14), {7: 7.4})
    raw["reactors"]["tank"]["working_volume_min_L"] = 8
    p = plan(build(raw), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    (batch,) = p.batches.index.unique()
    info = header(p, batch)
    assert (info["units_packaged"], info["cells_grown_units"]) == (7.0, pytest.approx(8.0))
    assert info["waste_units"] == pytest.approx(1.0)
    assert p.deliveries["units"].tolist() == [7.0]
    assert p.objective_usd == pytest.approx(2770, rel=1e-6)
    assert destinations(p, batch)[["day", "fate", "units"]].values.tolist() == [[7, "delivered", 7.0]]


def test_batches_too_small_for_a_unit_are_pooled_into_whole_units():
    """Tanks of 0.5 L make half a unit per batch at most; 1 unit is due on day 7. By hand: two
    batches seeded together on two tanks pool into 1 whole unit (the bag is listed on one of
    them, filled from both). Cost = capital 2 x 100 x 14 = 2800 + 2 batches x (7 x 50 + 2 x 10)
    = 740 + material 1 x 125 = **3665 USD**."""
    raw = demand(base(14, units_owned=2), {7: 1})
    raw["reactors"]["tank"]["working_volume_max_L"] = 0.5
    p = plan(build(raw), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    per_batch = p.batches.groupby(level="batch_id")["product_units"].first()
    assert sorted(per_batch.tolist()) == [0.0, 1.0]
    assert p.deliveries["units"].sum() == 1.0
    assert p.objective_usd == pytest.approx(3665, rel=1e-6)


def test_a_fractional_plan_is_packaged_into_whole_units():
    """3 units due on day 7 from three 0.5 L tanks (half a unit per batch at most). Fractional
    units would deliver 1.5 from three batches; a bag needs two half-unit batches, so the third
    batch would only make waste. By hand: 2 batches pool into 1 bag, 2 units short. Cost =
    capital 3 x 100 x 14 = 4200 + 2 batches x (7 x 50 + 2 x 10) = 740 + material 1 x 125 +
    penalty 2 x 1e6 = **2,005,065 USD** (the main solve's 1.5 units would cost 1,505,…)."""
    raw = demand(base(14, units_owned=3), {7: 3})
    raw["reactors"]["tank"]["working_volume_max_L"] = 0.5
    p = plan(build(raw), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert p.objective_usd == pytest.approx(2_005_065, rel=1e-6)
    assert p.kpis().loc["rbc", "units_delivered"] == 1.0
    assert p.shortages["units"].tolist() == [2.0]
    assert p.solver["whole_units"]["whole"] is True
    assert p.solver["whole_units"]["fractional_objective_usd"] < p.objective_usd


def test_without_the_whole_unit_pass_release_days_package_the_whole_units_their_cells_make():
    """The pyomo interface has no whole-unit pass (like a robust plan's first stage): the main
    solve's fractional plan (three half-unit batches, 1.5 units, for 3 due) is packaged as
    ⌊1.5⌋ = 1 bag, 2 short, and the plan's cost is that of the tables: capital 4200 + 3 batches
    x 370 + material 1.5 x 125 + penalty 2 x 1e6 = **2,005,497.5 USD** (dearer than the whole-unit
    pass's 2,005,065: it would have dropped the third batch)."""
    raw = demand(base(14, units_owned=3), {7: 3})
    raw["reactors"]["tank"]["working_volume_max_L"] = 0.5
    p = plan(build(raw), marginal_values=False, solver_interface="pyomo")
    assert_valid(p)
    assert p.solver["whole_units"]["whole"] is False
    assert sorted(p.batches.groupby(level="batch_id")["product_units"].first()) == [0.0, 0.0, 1.0]
    assert p.shortages["units"].tolist() == [2.0]
    assert p.objective_usd == pytest.approx(2_005_497.5, rel=1e-6)
