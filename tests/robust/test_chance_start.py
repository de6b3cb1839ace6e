"""A chance-constrained program whose deterministic plan misses its constraint starts from the
deterministic plan of an inflated demand (:func:`bioplan.robust.plan.chance_start`).

On the default HiGHS found no first plan meeting ``--service-level 0.95 --confidence 0.9`` in
60 s when the deterministic start missed it (docs/robust.md); this hands it one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds
from bioplan.planning import plan
from bioplan.results import Plan
from bioplan.robust.plan import INFLATION, chance_start, deterministic_start
from bioplan.scenario import Scenario
from tests.optimisation.builders import base, build, demand

LOW, HIGH = 0.85, 1.15
OPTIONS = SolveOptions(time_limit_s=20, mip_gap=1e-9)


BATCH_UNITS = 10.0  # one 10 L tank batch at 1e-6 L per seed cell and 1e12 cells per unit


def scenario() -> Scenario:
    raw = demand(base(14, penalty=1000), {10: 10})
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
    start, factor = chance_start(sd, OPTIONS, 60, inflated)
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
    assert chance_start(sd, OPTIONS, 60, inflated) == (None, None)


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
