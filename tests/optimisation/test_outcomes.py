"""Solver outcomes, fixed batches, model files, marginal values and resource limits."""

from __future__ import annotations

import pandas as pd
import pytest

from bioplan.contracts import BATCH_COLUMNS, PlanStatus, Termination
from bioplan.optimisation import SolveOptions, prepare, solve_guarded
from bioplan.planning import plan
from tests.optimisation.builders import base, build, demand, recipe
from tests.optimisation.invariants import assert_valid


def _constant_demand():
    return build(demand(base(28), {7: 10, 14: 10, 21: 10}))


def test_wall_clock_guard_kills_a_solve_that_overruns():
    """A guard shorter than it takes to start and build is reported as 'killed', not hung."""
    result = solve_guarded(prepare(_constant_demand()), SolveOptions(time_limit_s=10), guard_s=0.001)
    assert result.status is PlanStatus.NO_SOLUTION and result.termination is Termination.KILLED
    assert "wall-clock guard" in result.message


def test_plan_reports_killed_solve_as_no_solution():
    sc = _constant_demand()
    sc.solver.wall_clock_guard_s = 0.001
    p = plan(sc)
    assert p.status is PlanStatus.NO_SOLUTION
    assert "killed" in p.message
    assert p.summary()["status"] == "no_solution"


def test_time_limit_before_any_solution_is_no_solution():
    """A limit hit before HiGHS holds a plan is NO_SOLUTION, with the limit's own message."""
    from bioplan.optimisation.outcome import stopped_early

    result = stopped_early(False)
    assert result.status is PlanStatus.NO_SOLUTION and result.termination is Termination.LIMIT
    assert "before finding any plan" in result.message
    assert stopped_early(True).status is PlanStatus.FEASIBLE


def test_practically_zero_time_limit_is_reported_as_a_limit():
    """S under a 1e-6 s limit. HiGHS still runs presolve and its feasibility-jump heuristic before
    it first looks at the clock, so whether a plan exists then depends on timing; either way the
    outcome is a limit, and the status agrees with what HiGHS holds."""
    from bioplan.benchmarks.instances import generate

    p = plan(generate("S"), time_limit_s=1e-6, marginal_values=False)
    assert p.solver["termination"] == "limit"
    assert p.solver["solver_status"] == "Time limit reached"
    if p.status is PlanStatus.NO_SOLUTION:
        assert p.batches.empty and p.objective_usd is None
        assert "before finding any plan" in p.message
    else:
        assert p.status is PlanStatus.FEASIBLE
        assert p.objective_usd is not None
        assert_valid(p)


@pytest.mark.slow
def test_time_limit_with_incumbent_is_feasible_with_gap():
    """S asked for a 1e-6 gap in 3 s stops with a plan, its bound and gap."""
    from bioplan.benchmarks.instances import generate

    p = plan(generate("S"), time_limit_s=3, mip_gap=1e-6, marginal_values=False)
    assert p.status is PlanStatus.FEASIBLE
    assert p.gap is not None and p.gap > 1e-6
    assert p.bound_usd is not None and p.bound_usd <= p.objective_usd
    assert_valid(p)


def test_fixed_batch_started_before_the_horizon_is_kept_and_delivers():
    """A batch seeded on day −3 (7-day recipe) is harvested on day 4 and serves the 10 units due
    on day 4; nothing new is made. Its costs are constants of the objective:
    capital 2800 + material 10 x 125 + operation 7 x 50 + labour 2 x 10 = **4420 USD**.
    """
    sc = build(demand(base(28), {4: 10}))
    fixed = pd.DataFrame([{
        "batch_id": "old-1", "product": "rbc", "recipe": "r/0", "phase": "culture",
        "reactor_type": "tank", "reactor_unit": 1, "start_day": -3, "end_day": 4,
        "seed_cells": 1.0e7, "product_units": 10.0, "medium_L": 100.0, "cytokine_mg": 0.0,
        "epo_kU": 10.0,
    }]).set_index("batch_id")
    p = plan(sc, fixed_batches=fixed)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert list(p.batches.index) == ["old-1"]
    assert p.batches.loc["old-1", BATCH_COLUMNS].tolist() == fixed.loc["old-1", BATCH_COLUMNS].tolist()
    assert p.shortages.empty
    assert p.objective_usd == pytest.approx(4420, rel=1e-6)


def test_fixed_batch_holds_its_reactor():
    """A fixed batch on days 0-7 holds the only tank, so the 10 units due on day 7 come from it and
    the 10 due on day 14 from a new batch seeded on day 7 — never on the same days."""
    sc = build(demand(base(28), {7: 10, 14: 10}))
    fixed = pd.DataFrame([{
        "batch_id": "F1", "product": "rbc", "recipe": "r/0", "phase": "culture",
        "reactor_type": "tank", "reactor_unit": 1, "start_day": 0, "end_day": 7,
        "seed_cells": 1.0e7, "product_units": 10.0, "medium_L": 100.0, "cytokine_mg": 0.0,
        "epo_kU": 10.0,
    }]).set_index("batch_id")
    p = plan(sc, fixed_batches=fixed)
    assert_valid(p)
    new = p.batches.drop(index="F1")
    assert new["start_day"].tolist() == [7]


def test_save_lp_writes_a_readable_model(tmp_path):
    path = tmp_path / "model.lp"
    p = plan(_constant_demand(), save_lp=path, marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    text = path.read_text()
    assert "reactor_occupancy" in text and "cohort_balance" in text


def test_marginal_value_of_one_more_reactor():
    """D = 14 units on day 7 with one tank (see the demand-threshold test): a second, free tank
    would avoid 4 short units (4 x 1000) at the cost of one more batch (370) and 4 x 125 of
    material: it saves **3130 USD** (exact re-solves; the dual of a reactor-day is 0 here, see
    test_prices). Media preparation is unlimited: worth 0."""
    raw = base(8, penalty=1000)
    p = plan(build(demand(raw, {7: 14})), marginal_values="exact")
    assert_valid(p)
    assert p.marginal_values.loc["reactor:tank", "usd_per_unit"] == pytest.approx(3130, rel=1e-6)
    assert "media_prep" not in p.marginal_values.index


def test_marginal_value_of_one_more_litre_of_media_preparation():
    """10 units due on day 7, one tank, media preparation 10 L/day. A 7-day batch uses 10 L per
    unit spread over its 7 days, so it may make at most 10 x 7 / 10 = 7 units: 3 short.
    By hand: capital 800 + batch 370 + 7 x 125 + 3 x 1000 = **5045 USD**. Marginal values are
    priced on the main solve, whose units are not yet whole (see docs/planning-model.md): one
    more L/day allows 0.7 more units, each saving 1000 - 125: **612.5 USD** (in whole units the
    next bag needs 1.43 L/day more). The tank is not binding: worth 0."""
    raw = base(8, penalty=1000)
    raw["media"]["prep_capacity_L_per_day"] = 10
    p = plan(build(demand(raw, {7: 10})), marginal_values="exact")
    assert_valid(p)
    assert p.objective_usd == pytest.approx(5045, rel=1e-6)
    assert p.shortages["units"].sum() == pytest.approx(3)
    assert p.marginal_values.loc["media_prep", "usd_per_unit"] == pytest.approx(612.5, rel=1e-6)
    assert bool(p.marginal_values.loc["media_prep", "above_noise"])
    assert p.marginal_values.loc["reactor:tank", "usd_per_unit"] == pytest.approx(0, abs=1e-6)


def test_maintenance_window_delays_the_first_batch():
    """The only tank is down on days 0-2, so the batch for day 14 cannot start before day 3 and
    the 10 units due on day 7 are short (7-day recipe)."""
    raw = demand(base(28), {7: 10, 14: 10})
    raw["reactors"]["tank"]["maintenance"] = [{"unit": 1, "start_date": "2027-01-04", "days": 3}]
    p = plan(build(raw), marginal_values=False)
    assert_valid(p)
    assert p.batches["start_day"].min() >= 3
    assert p.shortages["units"].sum() == pytest.approx(10)


def test_seed_train_uses_a_vessel_per_phase_and_limits_hold():
    """A two-phase recipe (3 days static, 4 days stirred) on a flask then a tank, with labour,
    media-preparation and storage limits: every invariant and the independent checker hold."""
    raw = base(28)
    raw["recipes"][0]["rows"] = [recipe("r/0", phases=[("expand", 3, "static"), ("mature", 4, "stirred")])]
    raw["reactors"]["flask"] = {**raw["reactors"]["tank"], "vessel_classes": ["static"],
                                "turnaround_days": 1, "units_owned": 1}
    raw["labour"]["operations_per_day"] = 2
    raw["media"]["prep_capacity_L_per_day"] = 40
    raw["products"]["rbc"]["storage_capacity_units"] = 12
    p = plan(build(demand(raw, {d: 2 for d in range(8, 28)})), marginal_values=False)
    assert p.has_solution
    assert_valid(p)
    phases = p.batches.groupby("phase")["reactor_type"].unique()
    assert list(phases["expand"]) == ["flask"] and list(phases["mature"]) == ["tank"]
    assert p.media_use["medium_L"].max() <= 40 + 1e-6
    assert p.inventory.groupby(level="day")["units"].sum().max() <= 12 + 1e-6


@pytest.mark.slow
def test_bench_figures_for_the_small_instance():
    from bioplan.benchmarks.plan_bench import bench_one, format_table

    row = bench_one("S", time_limit_s=5)
    assert row["name"] == "S" and row["status"] in ("optimal", "feasible")
    assert 0 <= row["outside_highs_share"] < 1
    assert row["total_s"] >= row["solve_s"] > 0
    assert "S " in format_table([row])


def test_lp_guided_start_gives_the_same_optimum(monkeypatch):
    """With the LP-guided start forced on for a tiny model, the solve reaches the hand-worked
    optimum of the constant-demand test (7660 USD) and records the heuristic's facts. Solved in
    this process: ``plan()``'s child is spawned, not forked, once another thread is alive (an
    earlier test's worker), and a spawned child would not see the patched thresholds."""
    import bioplan.optimisation.heuristic as heuristic
    from bioplan.optimisation.guard import build_and_solve

    monkeypatch.setattr(heuristic, "MIN_INTEGER_COLUMNS", 0)
    monkeypatch.setattr(heuristic, "MIN_PHASE_S", 0.0)
    result = build_and_solve(prepare(_constant_demand()), SolveOptions(time_limit_s=20))
    assert result.status is PlanStatus.OPTIMAL
    assert result.objective_usd == pytest.approx(7660, rel=1e-6)
    assert result.facts["start_heuristic"]["sub_mip_objective"] == pytest.approx(7.66, rel=1e-6)
    p = plan(_constant_demand(), marginal_values=False)
    assert p.objective_usd == pytest.approx(7660, rel=1e-6)
    assert_valid(p)


def test_infeasible_starting_material_is_explained():
    """A hard 100 % service level for 30 units on day 7 with reactors to spare, but only 2 lots
    (1e7 cells each = 10 units) of cord blood a week: 1 more lot is needed in week 0 (days 0-6)."""
    raw = base(8)
    raw["reactors"]["tank"]["units_owned"] = 3
    raw["sources"]["cord_blood"]["lots_per_week"] = 2
    raw["products"]["rbc"]["min_service_level"] = 1.0
    p = plan(build(demand(raw, {7: 30})))
    assert p.status is PlanStatus.INFEASIBLE
    row = p.explanation.iloc[0]
    assert row["resource"] == "starting material cord_blood"
    assert (row["first_day"], row["last_day"]) == (0, 6)
    assert row["shortfall"] == pytest.approx(1)
    assert row["unit"] == "lots"


def test_infeasible_storage_capacity_is_explained():
    """20 units due on day 14 with a hard 100 % service level; one tank (none can be added), a
    7-day recipe, at most 10 units per batch, room for 9.5 units in store.

    By hand: the tank can only run batches on days 0-7 and 7-14; the first batch's 10 units are
    released on day 7 and must be held until day 14, 0.5 units over the storage capacity at the end
    of days 7-13 (cheaper in the elastic re-solve than a second tank for those 7 days).
    """
    raw = base(15)
    raw["products"]["rbc"]["min_service_level"] = 1.0
    raw["products"]["rbc"]["storage_capacity_units"] = 9.5
    p = plan(build(demand(raw, {14: 20})))
    assert p.status is PlanStatus.INFEASIBLE
    assert p.explanation is not None and len(p.explanation) == 1
    row = p.explanation.iloc[0]
    assert row["resource"] == "storage rbc" and row["product"] == "rbc"
    assert (row["first_day"], row["last_day"]) == (7, 13)
    assert row["shortfall"] == pytest.approx(0.5)
    assert row["unit"] == "units"
    assert "storage" in p.message and "rbc" in p.message and "capacity 9.5 units" in p.message


@pytest.mark.parametrize(("limit", "short", "cost"), [(1, 10, 13220), (2, 0, 4840)])
def test_labour_limit_caps_the_batches_seeded_on_one_day(limit, short, cost):
    """20 units due on day 7 of an 8-day horizon; two owned tanks, so only batches seeded on day 0
    are in time. Each batch takes 2 operations (seed on day 0, harvest on day 7).

    By hand: with 1 operation a day one batch runs: capital 2 x 100 x 8 = 1600 + 370 + 10 x 125
    + 10 short x 1000 = **13220 USD**; with 2 a day both run: 1600 + 2 x 370 + 20 x 125 =
    **4840 USD**.
    """
    raw = base(8, penalty=1000, units_owned=2)
    raw["labour"]["operations_per_day"] = limit
    p = plan(build(demand(raw, {7: 20})), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert float(p.shortages["units"].sum()) == pytest.approx(short)
    assert p.objective_usd == pytest.approx(cost, rel=1e-6)


def test_infeasible_labour_is_explained_with_product_and_days():
    """The same with a hard 100 % service level and 1 operation a day: the second batch needs one
    more operation on day 0 (seeding) and on day 7 (harvest), for rbc."""
    raw = base(8, penalty=1000, units_owned=2)
    raw["labour"]["operations_per_day"] = 1
    raw["products"]["rbc"]["min_service_level"] = 1.0
    p = plan(build(demand(raw, {7: 20})))
    assert p.status is PlanStatus.INFEASIBLE
    found = p.explanation[["product", "resource", "first_day", "last_day", "shortfall"]]
    assert found.values.tolist() == [["rbc", "labour", 0, 0, 1.0], ["rbc", "labour", 7, 7, 1.0]]
    assert "batches of rbc" in p.message
