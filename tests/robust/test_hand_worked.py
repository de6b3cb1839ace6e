"""A two-sample stochastic program worked out by hand (one product, one reactor, one recipe).

The scenario (``tests.optimisation.builders``): an 8-day horizon, one owned 10 L tank, a 7-day RBC
recipe (at most 10 units per batch), material **125 USD/unit**, a batch costs 7 × 50 + 2 × 10 =
**370 USD**, the tank's capital 8 × 100 = **800 USD**; 3 units are due on day 7, so only the
batch seeded on day 0 is in time; a unit short costs π. Two equally likely yield samples:
factor 0.5 and factor 1.5 (x planned units release 0.5 x or 1.5 x). Nothing is wasted at a cost.

With π = 1000 USD/unit the expected cost of planning x units is
``125 x + 1170 + 500 (max(3 − 0.5 x, 0) + max(3 − 1.5 x, 0))``, with slope −875 below x = 2,
−125 between 2 and 6 and +125 above 6:

- stochastic optimum (RP): **x = 6**, cost 750 + 1170 = **1920 USD** (both samples served);
- deterministic plan (mean yield 1): x = 3, 1545 USD as planned; in the samples its cells make
  1.5 and 4.5 units, which fill 1 and 4 whole bags, so sample 1 is 2 short: EEV = 1545 + 0.5 ×
  2000 = **2545 USD**; **VSS = 2545 − 1920 = 625 USD** (counting fractional bags, as before
  `evaluate` packaged whole bags, it was 2295 and 375);
- wait-and-see: sample 1 (factor 0.5) plans x = 6 (1920), sample 2 (factor 1.5) x = 2
  (250 + 1170 = 1420): WS = **1670 USD**; **EVPI = 1920 − 1670 = 250 USD**.

With π = 100 USD/unit (below the material cost) the expected-cost optimum makes nothing
(800 + 100 × 3 = **1100 USD**). The chance constraint "service 1.0 in ≥ C of the samples":
C = 1 forces x = 6 (**1920 USD**); C = 0.5 excuses the lower-yield sample 1 and forces only
x = 2 (sample 2 releases 3), costing 250 + 1170 + 0.5 × 100 × (3 − 1) = **1520 USD**.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.data import USD_SCALE
from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds, solve_extensive_form
from bioplan.planning import plan
from bioplan.results import check_plan
from bioplan.results.plan import PlanStatus
from bioplan.robust.metrics import wait_and_see
from bioplan.robust.plan import first_stage_plan
from bioplan.robust.realised import realised_plan
from bioplan.scenario import Scenario
from tests.optimisation.builders import base, build, demand

OPTIONS = SolveOptions(time_limit_s=20, mip_gap=1e-9)


def scenario(penalty: float) -> Scenario:
    return build(demand(base(8, penalty=penalty), {7: 3}))


def program(sc: Scenario, **targets: float) -> StochasticData:
    data = relaxed_bounds(prepare(sc, sc.recipe_table()))
    factors = np.array([[0.5] * len(data.slot_day), [1.5] * len(data.slot_day)])
    return StochasticData(base=data, factors=factors, probabilities=np.array([0.5, 0.5]),
                          **targets)  # type: ignore[arg-type]


def units(p) -> float:
    return float(p.batches.groupby(level="batch_id")["product_units"].first().sum())


def test_stochastic_optimum_vss_and_evpi_by_hand() -> None:
    sc = scenario(1000)
    sd = program(sc)
    res = solve_extensive_form(sd, OPTIONS)
    assert res.status.has_solution
    assert res.objective * USD_SCALE == pytest.approx(1920, rel=1e-6)
    robust = first_stage_plan(sc, sd.base, res.values, None, PlanStatus.OPTIMAL)
    assert units(robust) == pytest.approx(6)
    assert check_plan(robust) == []  # the first stage, dispatched at nominal yields
    per_sample = [realised_plan(robust, np.array([f])) for f in (0.5, 1.5)]
    for p in per_sample:  # each sample's recourse passes the independent checker
        assert check_plan(p) == []
        assert p.objective_usd == pytest.approx(1920, rel=1e-6)
    deterministic = plan(sc, marginal_values=False)
    assert units(deterministic) == pytest.approx(3)
    assert deterministic.objective_usd == pytest.approx(1545, rel=1e-6)
    eev = np.mean([realised_plan(deterministic, np.array([f])).objective_usd for f in (0.5, 1.5)])
    assert eev == pytest.approx(2545, rel=1e-6)
    assert eev - 1920 == pytest.approx(625, rel=1e-6)  # VSS
    ws = wait_and_see(sd.base, sd.factors, OPTIONS, 60)
    assert ws.tolist() == pytest.approx([1920, 1420], rel=1e-6)
    assert 1920 - ws.mean() == pytest.approx(250, rel=1e-6)  # EVPI


@pytest.mark.parametrize(("confidence", "as_planned", "cost", "made"), [
    (None, True, 1100, 0), (1.0, True, 1920, 6), (0.5, False, 1520, 2), (0.5, True, 1645, 3)])
def test_chance_constraint_by_hand(confidence: float | None, as_planned: bool, cost: float,
                                   made: float) -> None:
    sc = scenario(100)
    targets = {} if confidence is None else {"service_level": 1.0, "confidence": confidence}
    sd = dataclasses.replace(program(sc, **targets), nominal_block=as_planned)
    res = solve_extensive_form(sd, OPTIONS)
    assert res.status.has_solution
    assert res.objective * USD_SCALE == pytest.approx(cost, rel=1e-6)
    robust = first_stage_plan(sc, sd.base, res.values, None, PlanStatus.OPTIMAL)
    assert units(robust) == pytest.approx(made, abs=1e-6)
    assert check_plan(robust) == []


@pytest.mark.slow
def assert_ef_and_ph_agree(sd: StochasticData) -> tuple[Any, Any]:
    """Solve ``sd`` by EF and by PH (2 MPI processes): PH's plan costs the EF's optimum within
    their gaps and its bound lies below it. Returns (EF, PH) results."""
    from bioplan.robust.ph import solve_progressive_hedging

    ef = solve_extensive_form(sd, OPTIONS)
    ph = solve_progressive_hedging(sd, OPTIONS, processes=2)
    assert ef.status.has_solution and ph.status.has_solution
    assert ef.objective is not None and ph.objective is not None and ph.bound is not None
    tolerance = (ph.gap or 0.0) + (ef.gap or 0.0) + 1e-6
    assert abs(ph.objective - ef.objective) <= tolerance * abs(ef.objective)
    assert ph.bound <= ef.objective * (1 + 1e-6)
    return ef, ph


def test_ef_and_ph_agree_within_their_gaps() -> None:
    """Progressive hedging (mpi-sppy, 2 MPI processes) on the two-sample case: its plan costs
    what the EF proves optimal (1920 USD) within PH's own gap, its Lagrangian bound lies below
    that optimum, and its trivial bound is the wait-and-see cost worked out above (1670 USD)."""
    from bioplan.robust.ph import missing_mpi
    from tests.support import require

    require(missing_mpi() is None, f"mpi-sppy / MPI missing: {missing_mpi()}")
    sd = program(scenario(1000))
    _ef, ph = assert_ef_and_ph_agree(sd)
    assert ph.facts["trivial_bound"] * USD_SCALE == pytest.approx(1670, rel=1e-6)


@pytest.mark.parametrize(("bound", "cost", "made"), [(None, 1420, 2), (0.0, 1545, 3), (1.0, 1420, 2)])
def test_the_plan_as_planned_never_promises_less_than_the_deterministic_plan(
        bound: float | None, cost: float, made: float) -> None:
    """π = 1000 USD/unit and both samples at 1.5 ×: counting on the samples, x = 2 units release
    3 (cost 250 + 1170 = 1420 USD). The deterministic plan (x = 3) is short of nothing as
    planned, and bounding the plan as planned by that shortage (0 units) forces x = 3:
    375 + 1170 = 1545 USD. A bound of 1 unit (x = 2 grows 2 at nominal yield, 1 short) leaves
    the optimum at x = 2."""
    sc = scenario(1000)
    data = relaxed_bounds(prepare(sc, sc.recipe_table()))
    factors = np.full((2, len(data.slot_day)), 1.5)
    sd = StochasticData(base=data, factors=factors, probabilities=np.array([0.5, 0.5]),
                        as_planned_short=None if bound is None else {"rbc": bound})
    res = solve_extensive_form(sd, OPTIONS)
    assert res.objective * USD_SCALE == pytest.approx(cost, rel=1e-6)
    assert sum(res.values["slot_units"].values()) == pytest.approx(made, rel=1e-6)


def test_a_sample_sub_problem_starts_from_the_programs_plan() -> None:
    """PH warm-starts each one-sample sub-MIP from the program's start (the EF's values): the
    first stage as it is (x = 6 units at the optimum worked out above) and sample k's block read
    into the sub-problem's only block, ``sample_0``."""
    from bioplan.optimisation.stochastic import build_extensive_form, load_sample_start
    from bioplan.robust.ph_run import one_sample

    sd = program(scenario(1000))
    ef = solve_extensive_form(sd, OPTIONS)
    assert ef.objective is not None and ef.objective * USD_SCALE == pytest.approx(1920, rel=1e-6)
    m = build_extensive_form(one_sample(sd, 1))
    assert load_sample_start(m, ef.values, 1) > 0
    assert sum(v.value or 0.0 for v in m.slot_units.values()) == pytest.approx(6, abs=1e-6)
    block = {name.split(".", 1)[1]: values for name, values in ef.values.items()
             if name.startswith("sample_1.")}
    assert block  # sample 1's recourse is in the start, and it lands in the one block
    for name, values in block.items():
        var = m.sample_0.find_component(name)
        for index, value in values.items():
            assert var[index].value == pytest.approx(value)


@pytest.mark.slow
def test_ph_from_the_programs_start_agrees_and_says_which_plan_it_kept() -> None:
    """With the program's start (as ``robust_plan`` gives it) PH still agrees with the EF within
    their gaps, and its result names the incumbent it kept (the rounded PH average, or the start
    when that is cheaper or the average misses a constraint)."""
    from bioplan.robust.ph import missing_mpi, solve_progressive_hedging
    from tests.support import require

    require(missing_mpi() is None, f"mpi-sppy / MPI missing: {missing_mpi()}")
    sd = program(scenario(1000))
    ef = solve_extensive_form(sd, OPTIONS)
    ph = solve_progressive_hedging(sd, dataclasses.replace(OPTIONS, start=ef.values), processes=2)
    assert ph.status.has_solution and ph.objective is not None and ef.objective is not None
    assert ph.objective == pytest.approx(ef.objective, rel=(ph.gap or 0.0) + 1e-6)
    assert ph.facts["incumbent"] in ("PH average, rounded", "the program's start")
    # the plan is in the values, fixed integers included: one batch of 6 units
    assert sum(ph.values.get("slot_batches", {}).values()) == pytest.approx(1)
    assert sum(ph.values.get("slot_units", {}).values()) == pytest.approx(6, abs=1e-6)


def test_a_fixed_solve_returns_the_values_it_fixed_within_their_bounds() -> None:
    """Fixed variables are constants of the compiled model; the EF solve writes them back into
    its values (a plan read from the values alone once had no batches), rounded and clipped to
    their bounds: 1.2 batches on the only slot (day 0) read back as 1, and 3 added tanks, where
    the scenario allows none (bounds 0..0), as 0."""
    from bioplan.optimisation.stochastic import build_extensive_form

    sd = program(scenario(1000))
    m = build_extensive_form(sd)
    assert list(m.slot_batches) == [0] and m.reactor_added["tank"].bounds == (0.0, 0.0)
    res = solve_extensive_form(dataclasses.replace(
        sd, fixed={"slot_batches": {0: 1.2}, "reactor_added": {"tank": 3.0}}), OPTIONS)
    assert res.status.has_solution
    assert res.values["slot_batches"] == {0: 1.0}
    assert res.values["reactor_added"] == {"tank": 0.0}
