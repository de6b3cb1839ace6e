"""A chance-constrained program whose deterministic plan misses its constraint starts from the
deterministic plan of an inflated demand (:func:`bioplan.robust.plan.chance_start`).

On the default HiGHS found no first plan meeting ``--service-level 0.95 --confidence 0.9`` in
60 s when the deterministic start missed it (docs/robust.md); this hands it one.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from bioplan.contracts import PlanStatus
from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds
from bioplan.planning import plan
from bioplan.results import Plan
from bioplan.robust.starts import INFLATION, chance_start, deterministic_start
from bioplan.scenario import Scenario
from tests.optimisation.builders import base, build, demand

LOW, HIGH = 0.85, 1.15
OPTIONS = SolveOptions(time_limit_s=20, mip_gap=1e-9)


BATCH_UNITS = 10.0  # one 10 L tank batch at 1e-6 L per seed cell and 1e12 cells per unit


def scenario(penalty: float = 1000) -> Scenario:
    raw = demand(base(14, penalty=penalty), {10: 10})
    raw["reactors"]["tank"]["max_additional_units"] = 2  # one owned, up to two rented
    return build(raw)


def inflated(factor: float) -> Plan:
    sc = scenario()
    scaled = sc.model_copy(update={"demand": sc.demand.model_copy(update={"scale": factor})})
    return plan(scaled, marginal_values=False)


def batches(p: Plan) -> int:
    return int(p.batches.index.get_level_values("batch_id").nunique())


def test_the_first_inflated_plan_with_batches_enough_is_the_start() -> None:
    """Demand 10 units on day 10, batches of at most 10 units (one tank each, 7 days: one batch
    per tank before day 10); two equally likely samples in which every slot yields 0.85 × and
    1.15 × its nominal output; full service in both (P = 1, C = 1). The low sample packages
    ⌊0.85 x⌋ whole bags of x planned units, so it needs x ≥ 10 / 0.85 = 11.8: two batches. The
    deterministic plan (one batch of 10 units, one tank) misses it — the start keeps a plan's
    batches and reactors and re-solves the units, so more units in one batch do not help — and
    the start is the first factor of ``INFLATION`` whose deterministic plan runs n batches with
    ⌊0.85 · 10 n⌋ ≥ 10 (worked out from each factor's own plan, not from the program)."""
    sc = scenario()
    data = prepare(sc, sc.recipe_table())
    assert data.slot_units_max.max() == pytest.approx(BATCH_UNITS)
    factors = np.array([[LOW] * len(data.slot_day), [HIGH] * len(data.slot_day)])
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), service_level=1.0, confidence=1.0)
    det = plan(sc, marginal_values=False)
    assert batches(det) == 1
    assert deterministic_start(sd, det, OPTIONS, 60) is None
    runs = {f: batches(inflated(f)) for f in INFLATION}
    expected = next((f for f in INFLATION if math.floor(LOW * BATCH_UNITS * runs[f] + 1e-9) >= 10),
                    None)
    assert expected is not None, runs
    start, factor, _ = chance_start(sd, OPTIONS, 60, inflated)
    assert factor == expected
    assert start is not None and sum(start["slot_batches"].values()) == runs[expected]


def test_no_start_when_no_inflated_plan_meets_it() -> None:
    """Every slot at 0.3 × in one sample: serving it needs 10 / 0.3 = 33.3 units, four batches,
    and three tanks make at most three: no plan meets it, so there is no start (HiGHS is left
    to prove there is none)."""
    sc = scenario()
    data = prepare(sc, sc.recipe_table())
    factors = np.array([[0.3] * len(data.slot_day), [1.0] * len(data.slot_day)])
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), service_level=1.0, confidence=1.0)
    assert chance_start(sd, OPTIONS, 60, inflated)[:2] == (None, None)


def test_a_program_no_start_can_serve_says_what_to_change() -> None:
    """Demand 35 units on day 10 and three tanks of at most 10 units a batch: full service is out
    of reach in every sample whatever the plan, no inflated plan meets it (× 1.25 plans no more
    batches than × 1.1: the fleet is full), and the plan's message names the ways out instead of
    only the solver's status."""
    from bioplan.robust.plan import robust_plan
    from bioplan.scenario.schema import Uncertainty

    raw = demand(base(14, penalty=1000), {10: 35})
    raw["reactors"]["tank"]["max_additional_units"] = 2
    sc = build(raw)
    card = str(sc.recipe_table()["card"].iloc[0])
    unc = Uncertainty(samples=4, seed=0, service_level=1.0, confidence=1.0, yield_cv={card: 0.2})

    def bigger(factor: float) -> Plan:
        scaled = sc.model_copy(update={"demand": sc.demand.model_copy(update={"scale": factor})})
        return plan(scaled, marginal_values=False)

    det = plan(sc, marginal_values=False)
    out = robust_plan(sc, unc, OPTIONS, 60, deterministic=det, metrics=False, inflated=bigger)
    assert not out.has_solution
    assert "lower --service-level or --confidence" in out.message
    assert "demand x 1.1, 1.25, 1.5" in out.message
    # the elastic program's objective prices the excess: no cost is reported for a plan it rejects
    assert out.robust["chance_excess_units"]["rbc"] > 0
    assert out.robust["expected_cost_usd"] is None and out.robust["gap"] is None


def test_the_start_excuses_the_samples_it_serves_worst() -> None:
    """Demand 10 units on day 10, batches of at most 10 units; two equally likely samples,
    P = 1, C = 0.5, so one sample is excused. Sample 0: every slot yields 0.85 ×. Sample 1: the
    slot the deterministic plan seeds yields 1.15 ×, every other slot 0.3 ×, so sample 1 has the
    lower mean factor and the default rule excuses it. Then sample 0 must be served in full:
    ⌊0.85 x⌋ ≥ 10 needs x ≥ 11.8 units, two batches. Fixed in the program, the deterministic plan
    (one batch of 10 units) is 2 units short in sample 0 (⌊8.5⌋ = 8 bags) and serves sample 1 in
    full (⌊11.5⌋ = 11 ≥ 10): the start excuses sample 0, and the program's optimum runs one batch.
    With one indicator per sample the optimum is the cheaper of "excuse 0: one batch" and
    "excuse 1: two batches", i.e. one batch: here the start's choice is the exact one."""
    from bioplan.optimisation.chance import excused_samples
    from bioplan.optimisation.stochastic import solve_extensive_form
    from bioplan.robust.starts import excusing_start, slot_units_of

    sc = scenario()
    data = prepare(sc, sc.recipe_table())
    det = plan(sc, marginal_values=False)
    used = list(slot_units_of(det, data))
    assert len(used) == 1 and len(data.slot_day) >= 3
    n = len(data.slot_day)
    factors = np.array([[LOW] * n, [HIGH if s == used[0] else 0.3 for s in range(n)]])
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), service_level=1.0, confidence=0.5)
    assert excused_samples(sd, "rbc") == {1}
    assert deterministic_start(sd, det, OPTIONS, 60) is None  # the default rule: it misses
    found = excusing_start(sd, det, OPTIONS, 60)
    assert found is not None and found.meets
    start, chosen = found.values, found.data
    assert excused_samples(chosen, "rbc") == {0}
    assert sum(start["slot_batches"].values()) == 1
    default = solve_extensive_form(sd, OPTIONS)
    assert sum(default.values["slot_batches"].values()) == pytest.approx(2)
    best = solve_extensive_form(chosen, OPTIONS)
    assert sum(best.values["slot_batches"].values()) == pytest.approx(1)
    assert best.objective_usd < default.objective_usd
    short = sum(best.values.get("sample_1.demand_short", {}).values())
    assert short == pytest.approx(0.0, abs=1e-6)


def test_repair_raises_the_demand_where_the_samples_fall_short() -> None:
    """The first test's case (demand 10 units on day 10, samples at 0.85 × and 1.15 ×, P = 1,
    C = 1). The deterministic plan (one batch of 10 units) leaves sample 0 with ⌊8.5⌋ = 8 bags,
    2 units short on day 10, all beyond the allowance (0 at P = 1): the repair asks for 2 more
    units on day 10, whose plan runs two batches (at most 10 units each; a shortage penalty of
    10,000 USD per unit makes a second batch, ~3,000 USD, worth it), and with two batches the
    program reaches ⌊0.85 x⌋ ≥ 10 (x ≥ 11.8 units): the start meets the constraint."""
    from bioplan.planning import raised_demand
    from bioplan.robust.starts import excusing_start, repair_start

    sc = scenario(penalty=10_000)
    data = prepare(sc, sc.recipe_table())
    factors = np.array([[LOW] * len(data.slot_day), [HIGH] * len(data.slot_day)])
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), service_level=1.0, confidence=1.0)
    first = excusing_start(sd, plan(sc, marginal_values=False), OPTIONS, 60)
    assert first is not None and first.excess == {(0, "rbc"): pytest.approx(2.0)}
    asked: list[dict[tuple[str, int], float]] = []

    def replan(extra: dict[tuple[str, int], float]) -> Plan:
        asked.append(extra)
        return plan(raised_demand(sc, extra), marginal_values=False)

    repaired = repair_start(sd, first, OPTIONS, 60, replan)
    assert asked == [{("rbc", 10): pytest.approx(2.0)}]
    assert repaired.meets
    assert sum(repaired.values["slot_batches"].values()) == 2


def test_an_elastic_program_reports_what_no_plan_can_serve() -> None:
    """Demand 10 units on day 10, every slot at 0.3 × in sample 0 and 1.0 × in sample 1, P = 1,
    C = 1. The fleet (one tank owned, two rented) runs three batches of at most 10 units: 30
    units grow ⌊0.3 · 30⌋ = 9 bags in sample 0, one unit short whatever the plan. The elastic
    program prices each unit beyond the allowance at 10 shortage penalties (10,000 USD), and each
    batch (~3,000 USD) cuts sample 0's excess by 3 units, so its optimum runs all three and is
    left with exactly 1 unit of excess — which :func:`robust_plan` reports as no plan."""
    from bioplan.optimisation.chance import chance_excess
    from bioplan.optimisation.stochastic import solve_extensive_form
    from bioplan.robust.plan import no_plan_message

    sc = scenario()
    data = prepare(sc, sc.recipe_table())
    factors = np.array([[0.3] * len(data.slot_day), [1.0] * len(data.slot_day)])
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), service_level=1.0, confidence=1.0,
                        elastic=True)
    res = solve_extensive_form(sd, OPTIONS)
    assert res.status.has_solution
    assert sum(res.values["slot_batches"].values()) == pytest.approx(3)
    missed = chance_excess(res.values)
    assert missed == {"rbc": pytest.approx(1.0)}
    strict = solve_extensive_form(dataclasses.replace(sd, elastic=False), OPTIONS)
    assert not strict.status.has_solution
    text = no_plan_message(res, PlanStatus.INFEASIBLE, missed, sd, None)
    assert "short beyond the allowance in the counted samples by rbc 1 units" in text


@pytest.mark.parametrize("as_planned", [True, False])
def test_the_plan_as_planned_must_meet_the_level_too(as_planned: bool) -> None:
    """Demand 10 units on day 10, both samples at 1.3 × every slot, P = 1, C = 1. Counting on the
    samples alone, x planned units package ⌊1.3 x⌋ ≥ 10 bags from x = 10 / 1.3 = 7.69 units, and
    materials cost 125 USD a unit, so that is the program's optimum; with the plan-as-planned
    row (every slot at its nominal yield) it must grow the 10 units it promises."""
    from bioplan.optimisation.stochastic import solve_extensive_form

    sc = scenario()
    data = prepare(sc, sc.recipe_table())
    factors = np.full((2, len(data.slot_day)), 1.3)
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), service_level=1.0, confidence=1.0,
                        nominal_block=as_planned)
    res = solve_extensive_form(sd, OPTIONS)
    units = sum(res.values["slot_units"].values())
    assert units == pytest.approx(10.0 if as_planned else 10 / 1.3, rel=1e-6)
