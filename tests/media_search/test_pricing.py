"""Reduced costs from the LP relaxation's duals, against the LP itself.

For every slot the model offers, the hand-written pricing (``PriceBook``) must equal the LP's own
reduced cost ``(c − Aᵀy)·a`` of the direction the pricing prices: one product unit
(``slot_units = 1``), ``1/u`` batches, and the aggregate medium-rate and phase-start columns
moved with them; batch-size rows excluded (a new column's own rows have zero duals).
"""

from __future__ import annotations

import pytest

from bioplan.optimisation import prepare
from bioplan.optimisation.pricing import PriceBook, _solve_relaxation, dual_records
from bioplan.scenario import load_scenario
from tests.media_search.lp_truth import lp_reduced_costs


@pytest.fixture(scope="module")
def lp_case() -> tuple:
    from bioplan.optimisation.compile import compile_model
    from bioplan.optimisation.model import build_model

    sc = load_scenario(None)
    data = prepare(sc, sc.recipe_table())
    # both models stay referenced while their rows are read (rows refer to their block weakly)
    model, model2 = build_model(data), build_model(data)
    lp, cols, rows, _ = compile_model(model)
    lp2, _c, rows2, _ = compile_model(model2)
    duals = _solve_relaxation(lp2, rows2, threads=1, time_limit_s=60)
    return (data, duals, lp_reduced_costs(lp, rows),
            {(v.parent_component().local_name, v.index()): i for i, v in enumerate(cols)})


def test_relaxation_solves_and_bounds_the_plan(lp_case: tuple) -> None:
    _data, duals, _rc, _pos = lp_case
    assert duals.ok and duals.objective_k is not None
    from bioplan.planning import plan

    mip = plan(None, marginal_values=False)
    assert duals.objective_k * 1e3 <= mip.objective_usd * (1 + 1e-9)


def test_reduced_costs_equal_the_lps_own(lp_case: tuple) -> None:
    data, duals, rc, pos = lp_case
    book = PriceBook(data, duals)
    horizon, checked = data.horizon_days, 0
    for s in range(len(data.slot_day)):
        opt, d = data.slot(s)
        hi = float(data.slot_units_max[s])
        truth = rc[pos[("slot_units", s)]] + rc[pos[("slot_batches", s)]] / hi
        for ph in opt.phases:
            start = d + ph.offset_days
            if start < horizon and ph.days > 0 and ph.medium_L_per_unit > 0:
                truth += ph.medium_L_per_unit / ph.days * rc[pos[("media_rate", (ph.days, start))]]
        for stay in opt.stays:  # one vessel occupancy per stay (same-vessel phases, issue 12)
            start = d + stay.offset_days
            if start < horizon:
                length = stay.days + stay.turnaround_days
                truth += rc[pos[("phase_starts", (stay.reactor_type, length, start))]] / hi
        mine = book.reduced_costs(opt)
        assert d in mine.index
        assert mine.loc[d] == pytest.approx(truth, abs=1e-7)
        checked += 1
    assert checked > 20
    # at the LP optimum no offered column prices out (dual feasibility, up to tolerance)
    assert min(book.best(o)[0] for o in data.options) > -1e-6


def test_dual_records_have_named_index(lp_case: tuple) -> None:
    _data, duals, _rc, _pos = lp_case
    table = dual_records(duals)
    assert list(table.index.names) == ["resource", "day"]
    assert (table.index.get_level_values("resource").str.startswith("demand:")).any()
