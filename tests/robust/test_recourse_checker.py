"""The independent checker on each sample's recourse, discards for lack of storage included.

Hand-worked case (``tests.optimisation.builders`` defaults): a 12-day horizon, one owned 10 L tank,
a 7-day RBC recipe (at most 10 units per batch), shelf life 3 days (a batch harvested on day 7 is
usable on days 7, 8 and 9), storage for **2 units**, demand **6 units on day 7**. The deterministic
plan seeds one batch of 6 units on day 0.

- Sample with yield factor 1.5: 9 units released on day 7, 6 delivered, 3 left; the storage holds
  2, so **1 unit is discarded** at the end of day 7; the 2 held expire after day 9 (**2 expired on
  day 10**): 3 units wasted in all. ``check_plan`` alone sees 1 unit vanish on day 7;
  ``check_recourse`` with the discard passes.
- Sample with factor 1.2: 7.2 released, 6 delivered, 1.2 held (below the limit): no discard.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bioplan.optimisation import SolveOptions
from bioplan.optimisation.stochastic import solve_extensive_form
from bioplan.planning import plan
from bioplan.results import check_plan
from bioplan.results.checks.recourse import DISCARD_INDEX, check_recourse
from bioplan.results.plan import Plan, PlanStatus
from bioplan.robust.plan import first_stage_plan
from bioplan.robust.realised import realised_with_discards
from bioplan.scenario import Scenario
from tests.optimisation.builders import base, build, demand
from tests.robust.test_hand_worked import program

EXPIRY_USD = 40.0


def storage_scenario() -> Scenario:
    raw = demand(base(12, shelf=3, penalty=1000), {7: 6})
    raw["products"]["rbc"] |= {"storage_capacity_units": 2, "expiry_cost_usd_per_unit": EXPIRY_USD}
    return build(raw)


@pytest.fixture(scope="module")
def deterministic() -> Plan:
    p = plan(storage_scenario(), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert p.batches.groupby(level="batch_id")["product_units"].first().sum() == pytest.approx(6)
    return p


def test_a_discard_by_hand(deterministic: Plan) -> None:
    realised, discards = realised_with_discards(deterministic, np.array([1.5]))
    assert discards["units"].to_dict() == pytest.approx({(7, "rbc", 7): 1.0})
    assert realised.expiries["units"].to_dict() == pytest.approx({(7, "rbc"): 1.0,
                                                                  (10, "rbc"): 2.0})
    assert realised.cost_breakdown["expiry_waste"] == pytest.approx(3 * EXPIRY_USD)
    assert any("vanish" in m for m in check_plan(realised))  # the plain checker cannot express it
    assert check_recourse(realised, discards) == []


def test_no_discard_when_the_stock_fits(deterministic: Plan) -> None:
    realised, discards = realised_with_discards(deterministic, np.array([1.2]))
    assert discards.empty
    assert check_recourse(realised, discards) == []
    # the plain checker holds a realisation to whole bags (7.2 units here), which it need not be
    assert all(m.startswith("whole units") for m in check_plan(realised))


def _move(table: pd.DataFrame, key: tuple[object, ...], units: float) -> pd.DataFrame:
    out = table.copy()
    out.loc[key, "units"] = float(out["units"].get(key, 0.0)) + units
    return out.sort_index()


def test_a_discard_that_was_not_forced_is_reported(deterministic: Plan) -> None:
    """Factor 1.2 with 0.2 units thrown away on day 7 although 1.2 < 2 fit in storage; the tables
    are made consistent with that claim (stock 1.0 on days 7-9, waste 0.2 on day 7, 1.0 on day 10),
    so only the forced-discard rule can catch it."""
    realised, _ = realised_with_discards(deterministic, np.array([1.2]))
    inventory = realised.inventory.copy()
    for day in (7, 8, 9):
        inventory = _move(inventory, (day, "rbc", 7), -0.2)
    expiries = _move(_move(realised.expiries, (7, "rbc"), 0.2), (10, "rbc"), -0.2)
    tampered = dataclasses.replace(realised, inventory=inventory, expiries=expiries)
    claim = pd.DataFrame({"units": [0.2]},
                         index=pd.MultiIndex.from_tuples([(7, "rbc", 7)], names=DISCARD_INDEX))
    problems = check_recourse(tampered, claim)
    assert len(problems) == 1 and "must be forced" in problems[0], problems


def test_a_discard_the_tables_do_not_show_is_reported(deterministic: Plan) -> None:
    realised, discards = realised_with_discards(deterministic, np.array([1.5]))
    assert check_recourse(realised, discards.iloc[0:0])  # left out: a unit vanishes again
    doubled = discards.assign(units=discards["units"] * 2)
    assert check_recourse(realised, doubled)


def test_robust_first_stage_and_each_samples_recourse_pass() -> None:
    """The two-sample program (factors 0.5 and 1.5) on the storage case: the first stage
    dispatched at nominal yields and each sample's recourse pass the checker."""
    sc = storage_scenario()
    sd = program(sc)
    res = solve_extensive_form(sd, SolveOptions(time_limit_s=20, mip_gap=1e-9))
    assert res.status.has_solution
    robust = first_stage_plan(sc, sd.base, res.values, None, PlanStatus.OPTIMAL)
    assert check_plan(robust) == []
    for factor in (0.5, 1.5):
        realised, discards = realised_with_discards(robust, np.array([factor]))
        assert check_recourse(realised, discards) == []
