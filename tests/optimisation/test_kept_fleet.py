"""A re-plan keeps the vessels its kept batches occupy.

Hand case (tests/cli/data/small.yaml): one batch of the first plan, kept in a re-plan with its
seeding moved two days before the new day 0 and its stays on unit N_t + 1 of each reactor type
that may add units (one more than owned). That vessel holds a running culture, so the re-plan must keep it:
``a_t ≥ u_fixed − N_t = 1`` for each type the batch uses, whatever the new batches need. Found on
the nightly example's second night (2026-12-02): it bought one VerMES and one flask stack fewer
than the first night, and the checker refused batches on unit 24 of a 23-unit fleet. The same
night also had days that only kept batches occupied; without an occupancy row for them the
units added were not bounded there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bioplan import plan
from bioplan.scenario import load_scenario
from tests.optimisation.invariants import check_invariants

SMALL = Path(__file__).parents[1] / "cli" / "data" / "small.yaml"


@pytest.fixture(scope="module")
def kept_and_replan():
    sc = load_scenario(SMALL)
    first = plan(sc, marginal_values=False)
    assert first.has_solution
    batches = first.batches.reset_index()
    one = batches[batches["batch_id"] == batches["batch_id"].iloc[0]].copy()
    shift = int(one["start_day"].min()) + 2
    one["start_day"] -= shift
    one["end_day"] -= shift
    one["reactor_unit"] = [r.units_owned + (1 if r.max_additional_units else 0)
                           for r in (sc.reactors[t] for t in one["reactor_type"])]
    kept = one.set_index("batch_id")
    return sc, kept, plan(sc, fixed_batches=kept, marginal_values=False)


def test_the_replan_keeps_the_vessel_of_a_kept_batch(kept_and_replan) -> None:
    sc, kept, replan = kept_and_replan
    assert replan.has_solution, replan.message
    grown = {t for t, u in zip(kept["reactor_type"], kept["reactor_unit"], strict=True)
             if u > sc.reactors[t].units_owned}
    assert grown, "the hand case needs a kept stay beyond the owned units"
    for t in grown:
        assert replan.capacity.loc[t, "units_added"] >= 1, replan.capacity
    assert check_invariants(replan) == []


def test_a_kept_batch_beyond_the_allowed_fleet_is_refused(kept_and_replan) -> None:
    """A kept stay on unit N_t + max_added + 1 names the batch, the reactor type and the fix."""
    from bioplan.errors import InputError

    sc, kept, _ = kept_and_replan
    t = str(kept["reactor_type"].iloc[0])
    beyond = kept.copy()
    beyond.loc[beyond["reactor_type"] == t, "reactor_unit"] = (
        sc.reactors[t].units_owned + sc.reactors[t].max_additional_units + 1)
    with pytest.raises(InputError) as err:
        plan(sc, fixed_batches=beyond, marginal_values=False)
    text = str(err.value)
    assert t in text and "max_additional_units" in text and str(kept.index[0]) in text, text
