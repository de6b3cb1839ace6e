"""Tiny scenarios whose optimum is worked out by hand (see ``builders`` for the unit prices).

Material per unit is 125 USD (lot 100 + basal medium 20 + EPO 5); a batch costs 50 USD per culture
day plus 2 operations x 10 USD (seed, harvest) for one-phase recipes; at most 10 units per batch.
"""

from __future__ import annotations

import pytest

from bioplan.contracts import PlanStatus
from bioplan.planning import plan
from tests.optimisation.builders import base, build, demand, recipe
from tests.optimisation.invariants import assert_valid


def _batches(p):
    return p.batches.groupby(level="batch_id").first()


def test_one_reactor_one_recipe_constant_demand():
    """10 RBC units due on days 7, 14 and 21; one 10 L tank, a 7-day recipe (at most 10 units).

    By hand: 30 units need at least 3 batches; one tank runs them back to back, and to meet day 21
    the third must start by day 14, so batches start on days 0, 7, 14, 10 units each.
    Cost = capital 100 x 28 = 2800 + operation 3 x 7 x 50 = 1050 + labour 3 x 2 x 10 = 60
    + material 30 x 125 = 3750 = **7660 USD**.
    """
    p = plan(build(demand(base(28), {7: 10, 14: 10, 21: 10})))
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    b = _batches(p)
    assert sorted(b["start_day"]) == [0, 7, 14]
    assert b["product_units"].tolist() == pytest.approx([10, 10, 10])
    assert p.objective_usd == pytest.approx(7660, rel=1e-6)
    assert p.shortages.empty
    assert p.cost_breakdown["reactor_capital"] == pytest.approx(2800)
    assert p.cost_breakdown["reactor_operation"] == pytest.approx(1050)
    assert p.cost_breakdown["labour"] == pytest.approx(60)
    assert p.cost_breakdown["starting_material"] == pytest.approx(3000)
    assert p.cost_breakdown["basal_medium"] == pytest.approx(600)
    assert p.cost_breakdown["cytokines"] == pytest.approx(150)
    assert p.cost_breakdown["cytokine:EPO"] == pytest.approx(150)


def test_platelet_shelf_life_forces_staggered_batches():
    """Platelets keep 5 days; 2 doses a day on days 4..27 (48 doses); 4-day recipe, one tank with
    1 day turnaround.

    By hand: a batch harvested on day h serves days h..h+4 only, at most 10 doses = 5 days of
    demand, so 48 doses need 5 batches. The first must harvest by day 4 (start 0); the tank is free
    again on day 5 (4 + 1 turnaround), so the chain is forced: starts 0, 5, 10, 15, 20 with 10, 10,
    10, 10 and 8 doses, nothing short or expired. Cost = capital 2800 + operation 5 x 4 x 50 = 1000
    + labour 5 x 20 = 100 + material 48 x 125 = 6000 = **9900 USD**.
    """
    raw = base(28, product="platelet", shelf=5)
    raw["recipes"][0]["rows"] = [recipe("r/0", days=4, product="platelet")]
    raw["reactors"]["tank"]["turnaround_days"] = 1
    p = plan(build(demand(raw, {d: 2 for d in range(4, 28)})))
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    b = _batches(p).sort_values("start_day")
    assert b["start_day"].tolist() == [0, 5, 10, 15, 20]
    assert b["product_units"].tolist() == pytest.approx([10, 10, 10, 10, 8])
    assert p.shortages.empty and p.expiries.empty
    assert p.objective_usd == pytest.approx(9900, rel=1e-6)


@pytest.mark.parametrize(("units", "rented", "cost"), [(10, 0, 2420), (14, 0, 6420), (16, 1, 7540)])
def test_second_reactor_only_above_demand_threshold(units, rented, cost):
    """Demand D on day 7 of an 8-day horizon: only batches seeded on day 0 are in time, so one
    tank gives 10 units. A second tank rents for 500 USD/day (4000 USD); short units cost 1000.

    By hand: renting pays when (D − 10) x (1000 − 125) > 4000 + 370 (the extra batch: 7 x 50 +
    2 x 10), i.e. D ≥ 15.
    - D = 10: capital 800 + batch 370 + 10 x 125 = **2420**, nothing rented;
    - D = 14: 800 + 370 + 1250 + 4 short x 1000 = **6420**, nothing rented;
    - D = 16: 800 + 4000 + 2 x 370 + 16 x 125 = **7540**, one tank rented.
    """
    raw = base(8, penalty=1000)
    raw["reactors"]["tank"] |= {"max_additional_units": 1}
    raw["reactors"]["tank"]["capital_cost_usd_per_unit_day"] = 100
    raw["reactors"]["spare"] = {**raw["reactors"]["tank"], "units_owned": 0,
                                "capital_cost_usd_per_unit_day": 500}
    raw["reactors"]["tank"]["max_additional_units"] = 0
    p = plan(build(demand(raw, {7: units})))
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert int(p.capacity.loc["spare", "units_added"]) == rented
    assert p.objective_usd == pytest.approx(cost, rel=1e-6)


@pytest.mark.parametrize(("owned", "expect_recipe", "cost"), [(1, "fast/0", 6940), (2, "slow/0", 8040)])
def test_scarce_reactors_favour_the_fast_dear_recipe(owned, expect_recipe, cost):
    """20 units due on day 19 of a 20-day horizon. Slow recipe: 15 days, 125 USD/unit; fast
    recipe: 5 days, 20 kU EPO per unit so 220 USD/unit.

    By hand, one tank: a slow batch occupies days 0-15 and nothing else finishes by day 19, so only
    10 units (10 short at 1e6 USD each); two fast batches (days 0-5, 5-10) make all 20:
    capital 2000 + 2 x (5 x 50 + 20) + 20 x 220 = **6940 USD**.
    Two tanks: two slow batches in parallel: capital 4000 + 2 x (15 x 50 + 20) + 20 x 125 =
    **8040 USD** (two fast would be 4000 + 540 + 4400 = 8940; one of each 8490).
    """
    raw = base(20, units_owned=owned)
    raw["recipes"][0]["rows"] = [recipe("slow/0", days=15),
                                 recipe("fast/0", days=5, epo_kU_per_unit=20, card="card-b")]
    p = plan(build(demand(raw, {19: 20})))
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    b = _batches(p)
    assert set(b["recipe"]) == {expect_recipe}
    assert len(b) == 2
    assert p.objective_usd == pytest.approx(cost, rel=1e-6)


@pytest.mark.parametrize(("release", "n_batches", "cost"), [(0, 1, 3870), (2, 2, 4090)])
def test_release_delay_eats_shelf_life(release, n_batches, cost):
    """Platelets (5-day shelf life from harvest), 2 doses a day on days 6-10; 4-day recipe, two
    owned tanks, 12-day horizon.

    By hand, no release delay: one batch harvested on day 6 serves days 6-10: 10 doses,
    cost = capital 2 x 100 x 12 = 2400 + batch 4 x 50 + 20 = 220 + 10 x 125 = **3870 USD**.
    With 2 days of release testing a cohort is usable for only 3 days (h+2 .. h+4), so two batches
    are needed (e.g. harvest 4 for days 6-8, harvest 6 or 7 for days 9-10): **4090 USD**.
    """
    raw = base(12, product="platelet", shelf=5, release=release, units_owned=2)
    raw["recipes"][0]["rows"] = [recipe("r/0", days=4, product="platelet")]
    p = plan(build(demand(raw, {d: 2 for d in range(6, 11)})))
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert len(_batches(p)) == n_batches
    assert p.shortages.empty
    assert p.objective_usd == pytest.approx(cost, rel=1e-6)
    last_usable = {c: c - release + 4 for c in p.deliveries.index.get_level_values("cohort_day")}
    for (day, _p, cohort) in p.deliveries.index:
        assert cohort <= day <= last_usable[cohort]


def test_infeasible_service_level_is_explained_in_process_terms():
    """30 units due on day 7 with a hard 100 % service level; one tank makes at most 10 units by
    then (a 7-day batch seeded on day 0) and none can be added.

    By hand: 2 more tanks would be needed on days 0-6. The plan is infeasible and the explanation
    names the product, the reactor type, the days and the shortfall.
    """
    raw = base(8)
    raw["products"]["rbc"]["min_service_level"] = 1.0
    p = plan(build(demand(raw, {7: 30})))
    assert p.status is PlanStatus.INFEASIBLE
    assert p.explanation is not None and not p.explanation.empty
    row = p.explanation.iloc[0]
    assert row["resource"] == "reactor tank"
    assert row["product"] == "rbc"
    assert (row["first_day"], row["last_day"]) == (0, 6)
    assert row["shortfall"] == pytest.approx(2)
    assert "tank" in p.message and "rbc" in p.message


def test_minimum_batch_size_grows_cells_that_are_costed_but_not_packaged():
    """Platelets (5-day shelf life), 2 doses due on day 7 of a 14-day horizon; the tank's 8 L
    working-volume minimum means a batch grows at least 8 doses' worth of cells; expiry costs
    50 USD per packaged dose.

    By hand: one 4-day batch grows 8 doses of cells and packages the 2 needed on day 7 (whole
    units); the other 6 doses' cells are waste: their material is paid (the cost terms charge
    the cells grown) but they are never packaged, so nothing expires.
    Cost = capital 100 x 14 = 1400 + batch 4 x 50 + 2 x 10 = 220 + material 8 x 125 = 1000
    = **2620 USD** (packaging all 8 would add 6 expired doses x 50 = 300).
    """
    raw = base(14, product="platelet", shelf=5)
    raw["recipes"][0]["rows"] = [recipe("r/0", days=4, product="platelet")]
    raw["reactors"]["tank"]["working_volume_min_L"] = 8
    raw["products"]["platelet"]["expiry_cost_usd_per_unit"] = 50
    p = plan(build(demand(raw, {7: 2})), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert _batches(p)["product_units"].tolist() == pytest.approx([2])
    assert _batches(p)["seed_cells"].tolist() == pytest.approx([8e6])  # 8 doses of cells grown
    assert p.shortages.empty
    assert p.expiries.empty
    assert p.deliveries["units"].sum() == pytest.approx(2)
    assert p.cost_breakdown["expiry_waste"] == pytest.approx(0)
    assert p.objective_usd == pytest.approx(2620, rel=1e-6)
