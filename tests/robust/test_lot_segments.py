"""Each batch yields its own lots' draws in the program (lot segments), worked out by hand.

The scenario (``tests.optimisation.builders``): an 8-day horizon, **two** owned 10 L tanks, a
7-day RBC recipe, material **125 USD/unit**, a batch 7 × 50 + 2 × 10 = **370 USD**, capital
2 × 8 × 100 = **1,600 USD**; **6 units** are due on day 7 (only the day-0 slot is in time); a
unit short costs **2,000 USD**; nothing is wasted at a cost.

The day-0 slot runs **2 batches of 3 units**, each seeded from its own lot (segments of 3 units),
and each lot yields 0.5 × or 1.5 × nominal, independently and equally likely: 4 outcomes of
probability 1/4. Released units ``3 f1 + 3 f2``:

| f1, f2   | released | short |
|----------|----------|-------|
| 0.5, 0.5 | 3        | 3     |
| 0.5, 1.5 | 6        | 0     |
| 1.5, 0.5 | 6        | 0     |
| 1.5, 1.5 | 9        | 0     |

Expected shortage **0.75 units** (1,500 USD); expected cost 750 + 740 + 1,600 + 1,500 =
**4,590 USD**. With one draw per slot (both batches sharing it, the former model) the slot
releases 3 or 9 units: expected shortage 1.5 units, 6,090 USD. Planning 6 units is optimal with 2
batches of at most 3 units each: every unit of either lot still cuts the expected shortage by at
least 1/4 × 0.5 unit × 2,000 USD = 250 USD > 125 USD of material.
"""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.data import USD_SCALE
from bioplan.optimisation.lot_segments import segments_opened
from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds, solve_extensive_form
from bioplan.results import check_plan
from bioplan.results.plan import PlanStatus
from bioplan.robust.plan import first_stage_plan, stochastic_data
from bioplan.robust.realised import realised_plan
from bioplan.robust.samples import batch_factors, segment_edges, units_needed
from bioplan.scenario import Scenario
from bioplan.scenario.schema import Uncertainty
from tests.optimisation.builders import base, build, demand

OPTIONS = SolveOptions(time_limit_s=20, mip_gap=1e-9)
OUTCOMES = [(0.5, 0.5), (0.5, 1.5), (1.5, 0.5), (1.5, 1.5)]


def scenario(**sources: float) -> Scenario:
    raw = demand(base(8, penalty=2000, units_owned=2), {7: 6})
    raw["sources"]["cord_blood"].update(sources)
    return build(raw)


def program(sc: Scenario, caps: tuple[float, ...]) -> tuple[StochasticData, int]:
    """The 4-outcome program with the day-0 slot's lot segments ``caps`` [unit], 2 batches."""
    data = relaxed_bounds(prepare(sc, sc.recipe_table()))
    s0 = int(np.flatnonzero(data.slot_day == 0)[0])
    width = len(caps)
    units = np.zeros((len(data.slot_day), width))
    units[:, 0] = 1.0
    units[s0] = caps
    seg = np.ones((len(OUTCOMES), len(data.slot_day), width))
    for k, f in enumerate(OUTCOMES):
        seg[k, s0] = f if width == 2 else np.mean(f)
    return StochasticData(base=data, factors=seg.mean(axis=2), probabilities=np.full(4, 0.25),
                          segment_units=units, segment_factors=seg,
                          fixed={"slot_batches": {s0: 2.0}}), s0


def expected_short(res, sd: StochasticData) -> float:
    short = [sum(v for k, v in res.values.get(f"sample_{k}.demand_short", {}).items())
             for k in range(sd.samples)]
    return float(np.dot(sd.probabilities, short))


def test_each_batch_its_own_lot_matches_the_enumeration() -> None:
    sc = scenario()
    sd, s0 = program(sc, (3.0, 3.0))
    res = solve_extensive_form(sd, OPTIONS)
    assert res.status.has_solution
    assert res.values["slot_units"][s0] == pytest.approx(6.0)
    assert expected_short(res, sd) == pytest.approx(0.75, abs=1e-6)
    assert res.objective * USD_SCALE == pytest.approx(4590, rel=1e-6)
    # out of sample: the plan's two batches of 3 units, re-dispatched in each of the 4 outcomes
    robust = first_stage_plan(sc, sd.base, {**res.values, **sd.fixed}, None, PlanStatus.OPTIMAL)
    sizes = robust.batches.groupby(level="batch_id")["product_units"].first()
    assert sizes.tolist() == pytest.approx([3.0, 3.0])
    assert check_plan(robust) == []  # the first stage at nominal yields
    realised = [realised_plan(robust, np.array(f)) for f in OUTCOMES]
    assert [float(p.shortages["units"].sum()) for p in realised] == \
        pytest.approx([3.0, 0.0, 0.0, 0.0])
    assert np.mean([p.objective_usd for p in realised]) == pytest.approx(4590, rel=1e-6)


def test_one_shared_draw_per_slot_costs_more() -> None:
    """The same two batches of 3 units sharing one draw (the former slot model): 6 units still
    planned (1/2 × 0.5 × 2,000 = 500 USD > 125 USD per unit), 1.5 units short, 6,090 USD."""
    sc = scenario()
    sd, s0 = program(sc, (3.0, 3.0))
    seg = sd.segment_factors
    assert seg is not None
    for k, f in enumerate((0.5, 0.5, 1.5, 1.5)):
        seg[k, s0] = (f, f)
    res = solve_extensive_form(sd, OPTIONS)
    assert res.status.has_solution
    assert res.values["slot_units"][s0] == pytest.approx(6.0)
    assert expected_short(res, sd) == pytest.approx(1.5, abs=1e-6)
    assert res.objective * USD_SCALE == pytest.approx(6090, rel=1e-6)


def test_segments_follow_the_lots_of_the_source() -> None:
    """A source of 3e6 cells per lot (3 units at 1e6 seed cells per unit): the day-0 slot's
    segments are whole lots of 3 units; two batches of 3 units of one plan get lots 0 and 1 out of
    sample, two batches of 1.5 units share lot 0."""
    sc = scenario(cells_per_lot=3.0e6)
    data = prepare(sc, sc.recipe_table())
    sd = stochastic_data(sc, data, Uncertainty(yield_cv={"card-a": 0.3}), 50, 1)
    s0 = int(np.flatnonzero(data.slot_day == 0)[0])
    assert sd.segment_units is not None and sd.segment_factors is not None
    caps = sd.segment_units[s0]
    assert caps[caps > 0][:2].tolist() == pytest.approx([3.0, 3.0])
    lot0, lot1 = sd.segment_factors[:, s0, 0], sd.segment_factors[:, s0, 1]
    assert lot0.std() > 0.1 and not np.allclose(lot0, lot1)  # independent lots
    opened = segments_opened(sd.segment_units, {s0: 4.0})
    assert [opened.get((s0, g), 0.0) for g in range(3)] == [1.0, 1.0, 0.0]
    for size, shared in ((3.0, False), (1.5, True)):
        batches = two_batches(size)
        _table, f = batch_factors(sc, batches, 50, 2, yield_cv={"card-a": 0.3})
        assert np.allclose(f[:, 0], f[:, 1]) == shared


def two_batches(units: float):
    import pandas as pd

    idx = pd.Index(["B1", "B2"], name="batch_id")
    return pd.DataFrame({"product": "rbc", "recipe": "r/0", "seed_cells": units * 1e6,
                         "product_units": units, "start_day": 0, "end_day": 7}, index=idx)


def test_units_needed_and_edges_by_hand() -> None:
    """Segments of 3 units with factors 0.5 then 1.5 grow 6 units at x = 3 + (6 − 1.5) / 1.5 =
    6; factors 2.5 then 0.5 at x = 6 / 2.5 = 2.4 (inside the first lot); the program needs the
    larger over samples; a window no sample fills needs every segment (6 units); a stream of 20
    lots is cut into 6 runs of whole lots."""
    caps = np.array([[3.0, 3.0]])
    f = np.array([[[0.5, 1.5]], [[2.5, 0.5]]])
    assert units_needed(caps, f, np.array([6.0])).tolist() == pytest.approx([6.0])
    assert units_needed(caps, f[1:], np.array([6.0])).tolist() == pytest.approx([2.4])
    assert units_needed(caps, f, np.array([50.0])).tolist() == pytest.approx([6.0])
    edges = segment_edges(20.0)
    assert edges[0] == 0 and edges[-1] == 20 and len(edges) == 7
    assert np.allclose(edges, np.round(edges))
    assert segment_edges(2.5).tolist() == [0.0, 1.0, 2.0, 3.0]
