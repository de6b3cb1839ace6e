"""Per-product service levels in the chance constraint, and the calibrated SAA that picks them.

By hand (the two-sample case of ``test_hand_worked``, π = 100 USD/unit, factors 0.5 and 1.5, 3 units
due on day 7): with the RBC level 0.5 and C = 1 both samples must deliver 1.5 units, so sample 1
(factor 0.5) needs x ≥ 3 planned units; above 3 the expected cost rises by 125 − 0.5 × 100 × 0.5 =
100 USD per unit, so x = 3: 125 × 3 + 1170 + 0.5 × 100 × (3 − 1.5) = **1620 USD**. In whole
units (the program's default) each sample delivers whole units, so "at least 1.5" is 2: sample 1
packages ⌊0.5 x⌋ ≥ 2 bags, x = 4: 125 × 4 + 1170 + 0.5 × 100 × (3 − 2) = **1720 USD**.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from bioplan.optimisation import SolveOptions
from bioplan.optimisation.data import USD_SCALE
from bioplan.optimisation.stochastic import solve_extensive_form
from bioplan.robust.calibrate import calibrate
from bioplan.scenario.schema import Uncertainty
from tests.robust.test_hand_worked import program, scenario

OPTIONS = SolveOptions(time_limit_s=20, mip_gap=1e-9)


@pytest.mark.parametrize(("whole", "cost", "planned"), [(False, 1620, 3), (True, 1720, 4)])
def test_a_products_own_level_by_hand(whole: bool, cost: float, planned: float) -> None:
    sd = dataclasses.replace(program(scenario(100), service_level=1.0, confidence=1.0),
                             product_levels={"rbc": 0.5}, whole_units=whole)
    res = solve_extensive_form(sd, OPTIONS)
    assert res.status.has_solution
    assert res.objective * USD_SCALE == pytest.approx(cost, rel=1e-6)
    units = sum(res.values["slot_units"].values())
    assert units == pytest.approx(planned, abs=1e-6)


UNC = Uncertainty(samples=4, seed=1, service_level=0.9, confidence=1.0, yield_cv={"card-a": 0.4})
"""Four in-sample draws of a lognormal yield (CV 0.4) on the hand-worked case with π = 100 USD/unit
(below the material cost: nothing is made unless a service level asks for it). Four draws do not
pin the tail down: in-sample level 0.8 gave an out-of-sample P10 of 0.57 when this was written."""


def _monotone(steps: pd.DataFrame) -> None:
    """A higher in-sample level shrinks the feasible set: the program's optimum (solved to a 1e-9
    gap) never falls. (The cost *as planned* need not be monotone.)"""
    ordered = steps.dropna(subset=["expected_cost_usd"]).sort_values("level")
    assert (ordered["expected_cost_usd"].diff().dropna() >= -1e-6).all(), ordered


def test_calibration_reaches_an_out_of_sample_p10() -> None:
    """The level kept is the lowest probed whose P10 (on the tuning samples) met the target; every
    probed level that fell short lies below it; the validation on other samples is reported. (The
    target is 0.55: in whole bags the out-of-sample P10 moves in steps, 0.38 -> 0.56 here.)"""
    cal = calibrate(scenario(100), UNC, 0.55, OPTIONS, 60, steps=5, calibration_samples=400)
    assert cal.attained == {"rbc": True}
    steps = cal.steps
    assert len(steps) == 5 and list(steps.index.names) == ["probe"]
    met = steps[steps["p10:rbc"] >= 0.55]
    assert cal.levels["rbc"] == pytest.approx(met["level"].min())
    assert (steps.loc[steps["p10:rbc"] < 0.55, "level"] < cal.levels["rbc"]).all()
    assert (steps["p10:rbc"] < 0.55).any()  # the target is not met for free
    _monotone(steps)
    assert cal.plan is not None and cal.plan.robust is not None
    assert cal.plan.robust["service_levels"] == cal.levels
    assert 0.0 < cal.validation["rbc"]["p10"] <= 1.0
    assert math.isfinite(cal.validation["rbc"]["mean"])


def test_an_unreachable_target_is_reported() -> None:
    """With a lot CV of 1.0 the four in-sample draws include one so low that no level of 0.475 or
    more can be planned within the tank's 10 units (those probes are infeasible); the level that
    can be planned (0.2375) leaves the out-of-sample P10 at 1/3 of the 3 units due. The target 0.95
    is not attained, and the planned level whose P10 came closest is kept. (At CV 0.4 the plan
    for level 0.95 grows 6 units of cells for 3 bags, and out of sample every whole bag those
    cells fill is packaged: its P10 is 1, so the target is reachable there.)"""
    unc = UNC.model_copy(update={"yield_cv": {"card-a": 1.0}})
    cal = calibrate(scenario(100), unc, 0.95, OPTIONS, 60, steps=3, calibration_samples=400)
    assert cal.attained == {"rbc": False}
    planned = cal.steps.dropna(subset=["p10:rbc"])
    assert len(planned) >= 1 and (planned["p10:rbc"] < 0.95).all()
    assert (cal.steps.loc[cal.steps["level"] >= 0.475, "status"] == "infeasible").all()
    closest = planned.sort_values(["p10:rbc", "level"], ascending=[False, True]).iloc[0]
    assert cal.levels["rbc"] == pytest.approx(closest["level"])
    assert closest["p10:rbc"] == pytest.approx(1 / 3)
    _monotone(cal.steps)


def test_pooled_keys_multiply_the_lots_by_the_reference_batches() -> None:
    from bioplan.robust.plan import pooled_keys

    keys = [("r", 0, 1), ("r", 1, 2), ("q", 1, 1)]
    assert pooled_keys(keys, {0: 3.0, 2: 0.0}) == [("r", 0, 3), ("r", 1, 2), ("q", 1, 1)]
