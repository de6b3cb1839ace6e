"""The compact second stage (cumulative first-expiry-first flows) against the cohort rows.

Without a storage limit the two forms describe the same recourse (Hall's condition on agreeable
shelf-life windows, see ``bioplan.optimisation.compact_recourse``), so the EF optimum is the same;
with a storage limit the compact block may also discard mid-life (as ``evaluate``'s recourse
does), so it can only cost less. Case: 21 days, shelf life 12 days with a 1-day release delay,
demand on six days, two owned tanks, three random lognormal yield samples per slot.
"""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.compile import compile_model
from bioplan.optimisation.stochastic import (
    StochasticData,
    build_extensive_form,
    relaxed_bounds,
    solve_extensive_form,
)
from tests.optimisation.builders import base, build, demand

OPTIONS = SolveOptions(time_limit_s=30, mip_gap=1e-9)
DEMAND = {7: 2, 8: 3, 10: 4, 12: 2, 15: 5, 18: 3}


def program(compact: bool | None, storage: float | None, seed: int, shelf: int = 12,
            daily: bool = False) -> StochasticData:
    per_day = {d: 1.0 for d in range(7, 21)} if daily else DEMAND
    raw = demand(base(21, shelf=shelf, release=1, penalty=1000, units_owned=2), per_day)
    raw["products"]["rbc"]["expiry_cost_usd_per_unit"] = 30.0
    raw["products"]["rbc"]["initial_inventory_units"] = 1.5
    if storage is not None:
        raw["products"]["rbc"]["storage_capacity_units"] = storage
    sc = build(raw)
    data = prepare(sc, sc.recipe_table())
    rng = np.random.default_rng(seed)
    factors = np.exp(rng.normal(-0.08, 0.4, (3, len(data.slot_day))))
    return StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                          probabilities=np.full(3, 1 / 3), compact=compact)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_optimum_without_storage_limit(seed: int) -> None:
    compact = solve_extensive_form(program(True, None, seed), OPTIONS)
    cohort = solve_extensive_form(program(False, None, seed), OPTIONS)
    assert compact.status.has_solution and cohort.status.has_solution
    assert compact.objective == pytest.approx(cohort.objective, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_storage_limit_compact_costs_no_more(seed: int) -> None:
    compact = solve_extensive_form(program(True, 3.0, seed), OPTIONS)
    cohort = solve_extensive_form(program(False, 3.0, seed), OPTIONS)
    assert compact.status.has_solution and cohort.status.has_solution
    assert compact.objective <= cohort.objective * (1 + 1e-6)


def test_compact_blocks_are_smaller_and_only_used_when_they_are() -> None:
    """``compact=None`` (the default) picks the compact rows only where they are smaller."""
    def columns(compact: bool, shelf: int) -> int:
        sd = program(None if compact else False, None, 0, shelf, daily=True)
        return len(compile_model(build_extensive_form(sd))[1])

    assert columns(True, 21) < columns(False, 21)       # daily demand, 20 usable days per cohort
    assert columns(True, 3) == columns(False, 3)        # 2 usable days: the cohort rows stay
