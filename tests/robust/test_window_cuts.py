"""The EF's window cuts ``x_k[s] ≤ W_s · n_s`` are valid: they change the LP bound, never the optimum.

Case (``tests.optimisation.builders`` defaults): a 12-day horizon (capital 12 × 100 = 1200 USD),
one batch 7 × 50 + 2 × 10 = 370 USD, material 125 USD/unit, shelf life 3 days, storage for 2
units, waste 40 USD/unit, 6 units due on day 7; only the batch seeded on day 0 serves day 7, its
cohort (day 7) expires on day 10, inside the horizon, and its window holds W = 6 units. Two
samples, factors 0.5 and 1.5, π = 1000 USD/unit. The nominal block must store the plan as planned
(6 delivered + 2 stored), so x ≤ 8; below that each unit saves 0.5 × 0.5 × 1000 − 125 − 0.5 × 1.5
× 40 = 95 USD, so x = 8: 1570 + 1000 + 0.5 × 2 × 1000 (sample 1 releases 4) + 0.5 × 6 × 40
(sample 2 releases 12, uses 6) = **3690 USD**. The cut ``x_k ≤ 6 n`` only trims what sample 2
releases (12 -> 6, the rest discarded at harvest at the same waste cost).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.data import USD_SCALE
from bioplan.optimisation.stochastic import (
    StochasticData,
    build_extensive_form,
    relaxed_bounds,
    solve_extensive_form,
)
from tests.robust.test_recourse_checker import storage_scenario

OPTIONS = SolveOptions(time_limit_s=20, mip_gap=1e-9)


def program(cuts: bool) -> StochasticData:
    sc = storage_scenario()
    data = prepare(sc, sc.recipe_table())
    factors = np.array([[0.5] * len(data.slot_day), [1.5] * len(data.slot_day)])
    return StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                          probabilities=np.array([0.5, 0.5]), window_cuts=cuts)


def test_cuts_are_built_for_slots_that_expire_inside_the_horizon() -> None:
    m = build_extensive_form(program(True))
    assert len(m.WINDOW_CUT) > 0
    assert {k for k, _s in m.WINDOW_CUT} == {0, 1}
    assert not hasattr(build_extensive_form(program(False)), "WINDOW_CUT")


def test_same_optimum_with_and_without_cuts() -> None:
    with_cuts = solve_extensive_form(program(True), OPTIONS)
    without = solve_extensive_form(program(False), OPTIONS)
    assert with_cuts.status.has_solution and without.status.has_solution
    assert with_cuts.objective * USD_SCALE == pytest.approx(3690, rel=1e-6)
    assert without.objective == pytest.approx(with_cuts.objective, rel=1e-9)


def test_cuts_do_not_loosen_the_lp_bound() -> None:
    """The LP relaxation with cuts is at least as high as without (same model plus rows)."""
    def lp(cuts: bool) -> float:
        sd = program(cuts)
        relaxed = dataclasses.replace(sd, base=dataclasses.replace(sd.base))
        res = solve_extensive_form(relaxed, dataclasses.replace(OPTIONS, lp_guided_start=False))
        return float(res.bound if res.bound is not None else res.objective)

    assert lp(True) >= lp(False) - 1e-9
