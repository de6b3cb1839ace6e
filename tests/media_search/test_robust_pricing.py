"""Robust pricing: reduced costs against the robust program's own LP, a steady recipe preferred
to an erratic one of the same mean yield, and a candidate's factors equal to the robust plan's.

The two-sample program is the hand-worked one of ``tests/robust/test_hand_worked.py``: an 8-day
horizon, one 7-day recipe (at most 10 units a batch), material 125 USD/unit, 370 USD a batch,
here with five owned tanks, **30 units** due on day 7 and a shortage price of **200 USD/unit**;
samples with yield factor 0.5 and 1.5 (probability 1/2 each); nothing wasted at a cost. A batch
makes at most 10 units (the cap W / min f = 60 is held at u_max), so a planned unit costs
125 + 370 / 10 = **162 USD**. Expected cost 162 x + 100 (max(30 − 0.5 x, 0) + max(30 − 1.5 x, 0)):
slope −38 below x = 20, +112 above, so the LP plans **x = 20**: sample 1 releases 10 (20 short),
sample 2 exactly 30. A unit released in sample 1 saves its shortage, **V_1 = −0.5 × 200 = −100
USD**; x is basic (0 < 20 < 50), so its reduced cost is 0: ``162 + 0.5 V_1 + 1.5 V_2 = 0`` gives
**V_2 = −74.67 USD**.

A candidate with factors (1, 1) (steady) and one with (0.2, 1.8) (erratic; same mean 1), both
with the same cap of 10 units a batch:

- mean pricing (nominal yield in every sample): both 162 − 100 − 74.67 = **−12.67 USD/unit**;
- robust pricing: steady **−12.67 USD/unit**; erratic 162 − 0.2 × 100 − 1.8 × 74.67 = **+7.60
  USD/unit**: the steady one prices out, the erratic one does not — its low draw falls in the
  sample that is short (common random numbers: the card's bad lot).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bioplan.media_search import evaluate_settings, search_space
from bioplan.media_search.lot_draws import LotDraws
from bioplan.media_search.robust_pricing import RobustPriceBook, program_duals
from bioplan.optimisation import prepare
from bioplan.optimisation.stochastic import StochasticData, build_extensive_form, relaxed_bounds
from bioplan.robust.samples import factor_grid
from bioplan.scenario import load_scenario
from bioplan.scenario.schema import Uncertainty
from tests.media_search.lp_truth import lp_reduced_costs
from tests.optimisation.builders import base, build, demand

V1_USD, V2_USD = -100.0, -(162 - 50) / 1.5


@pytest.fixture(scope="module")
def program() -> StochasticData:
    sc = build(demand(base(8, penalty=200.0, units_owned=5), {7: 30}))
    data = prepare(sc, sc.recipe_table())
    factors = np.array([[0.5] * len(data.slot_day), [1.5] * len(data.slot_day)])
    return StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                          probabilities=np.array([0.5, 0.5]), window_cuts=False, compact=False)


def _book(sd: StochasticData, factors: np.ndarray | None = None) -> RobustPriceBook:
    duals = program_duals(sd)
    assert duals.ok
    book = RobustPriceBook(sd.base, sd, duals)
    if factors is not None:
        book.factors = lambda _o, days: np.repeat(np.asarray(factors, float)[:, None], len(days),
                                                  axis=1)
    book.exact_days = sd.base.horizon_days
    return book


def test_worth_of_a_released_unit_by_hand(program: StochasticData) -> None:
    book = _book(program)
    opt, day = program.base.slot(0)
    release = day + opt.days + program.base.products[opt.product].release_days
    assert book.worth("sample_0", opt.product)[release] * 1e3 == pytest.approx(V1_USD, abs=1e-6)
    assert book.worth("sample_1", opt.product)[release] * 1e3 == pytest.approx(V2_USD, abs=1e-6)
    own = _book(program, program.factors[:, 0])
    assert own.reduced_costs(opt).loc[day] == pytest.approx(0.0, abs=1e-9)  # x is basic


def test_steady_recipe_beats_erratic_one_under_robust_pricing(program: StochasticData) -> None:
    opt, day = program.base.slot(0)
    steady, erratic = _book(program, np.array([1.0, 1.0])), _book(program, np.array([0.2, 1.8]))
    mean_s = steady.reduced_costs(opt, exact=False).loc[day] * 1e3
    mean_e = erratic.reduced_costs(opt, exact=False).loc[day] * 1e3
    assert mean_s == pytest.approx(162 + V1_USD + V2_USD, abs=1e-6)
    assert mean_s == pytest.approx(-12.67, abs=5e-3)
    assert mean_e == pytest.approx(mean_s, abs=1e-9)  # mean pricing is indifferent
    robust_s = steady.reduced_costs(opt).loc[day] * 1e3
    robust_e = erratic.reduced_costs(opt).loc[day] * 1e3
    assert robust_s == pytest.approx(mean_s, abs=1e-6)
    assert robust_e == pytest.approx(162 + 0.2 * V1_USD + 1.8 * V2_USD, abs=1e-6)
    assert robust_e == pytest.approx(7.60, abs=5e-3)
    assert robust_s < -1 < 1 < robust_e


def test_reduced_costs_equal_the_programs_own(program: StochasticData) -> None:
    """For every offered slot, the book's reduced cost with the slot's own factors equals
    ``(c − Aᵀy)·a`` of the program's LP along the priced direction: one planned unit, 1/u
    batches, each sample releasing f_k, the nominal block 1, and the aggregate medium-rate and
    phase-start columns moved with the batch (batch-size rows excluded, as for a new column)."""
    from bioplan.optimisation.compile import compile_model

    sd = program
    model = build_extensive_form(sd)  # referenced while its rows are read (weak parents)
    lp, cols, rows, _ = compile_model(model)
    rc = lp_reduced_costs(lp, rows)
    pos = {(v.parent_component().name, v.index()): i for i, v in enumerate(cols)}
    data = sd.base

    def col(name: str, index: object) -> float:  # aggregate columns exist only where needed
        return float(rc[pos[(name, index)]]) if (name, index) in pos else 0.0

    for s in range(len(data.slot_day)):
        opt, d = data.slot(s)
        book = _book(sd, sd.factors[:, s])
        truth = rc[pos[("slot_units", s)]] + rc[pos[("slot_batches", s)]] / data.slot_units_max[s]
        truth += sum(sd.factors[k, s] * rc[pos[(f"sample_{k}.slot_units", s)]]
                     for k in range(sd.samples)) + rc[pos[("nominal.slot_units", s)]]
        for ph in opt.phases:
            if ph.days > 0 and ph.medium_L_per_unit > 0 and d + ph.offset_days < data.horizon_days:
                truth += (ph.medium_L_per_unit / ph.days
                          * col("media_rate", (ph.days, d + ph.offset_days)))
        for stay in opt.stays:
            if d + stay.offset_days < data.horizon_days:
                truth += col("phase_starts", (stay.reactor_type, stay.days + stay.turnaround_days,
                                              d + stay.offset_days)) / data.slot_units_max[s]
        assert book.reduced_costs(opt).loc[d] == pytest.approx(truth, abs=1e-7)


def test_lot_draws_equal_the_robust_programs_factors() -> None:
    """A candidate's factors from :class:`LotDraws` (only the draws the days need) are the ones
    :func:`factor_grid` gives the recipe once it joins the program (all draws, same stream; one fit
    draw per sample)."""
    sc = load_scenario(None)
    unc = Uncertainty(samples=3, seed=5)
    card = "erythroid-bela"
    space = search_space(card)
    x = space.default.copy()
    x[~space.integer] *= 1.1
    x = np.clip(x, space.lower, space.upper)
    table = evaluate_settings(space, x[None, :])
    table["card"] = card
    name = str(table.index[0])
    horizon = sc.horizon.days
    grid = factor_grid(sc, table, [name], unc.samples, unc.seed)[name]  # (samples, days, lots)
    draws = LotDraws(sc, card, sc.recipe_table(), unc)
    settings = {k: float(v) for k, v in zip(space.keys, x, strict=True)}
    days = np.array([0, 5, horizon - 1])
    for lots in (1, 3):
        mine = draws.factors(settings, float(table["product_cells_per_seed_cell"].iloc[0]), days,
                             lots)
        assert mine == pytest.approx(grid[:, days, :lots].mean(axis=2), rel=1e-9)
    assert np.ptp(grid) > 0.01  # the card's lot spread reaches the factors


def test_spread_grows_with_the_proliferation_days() -> None:
    """erythroid-bela's lot spread is in its proliferation rate, so a culture with more
    proliferation days has a wider spread of yield factors (σ of ln f ∝ days): the setting the
    robust pricing can trade against the mean."""
    sc = load_scenario(None)
    unc = Uncertainty(samples=20, seed=0)
    card = "erythroid-bela"
    space = search_space(card)
    draws = LotDraws(sc, card, sc.recipe_table(), unc)
    j = next(i for i, k in enumerate(space.keys) if k.endswith(".days"))
    spread = []
    for days in (space.lower[j], space.upper[j]):
        x = space.default.copy()
        x[j] = days
        table = evaluate_settings(space, x[None, :])
        settings = {k: float(v) for k, v in zip(space.keys, x, strict=True)}
        f = draws.factors(settings, float(table["product_cells_per_seed_cell"].iloc[0]),
                          np.arange(10), 1)
        spread.append(float(np.std(np.log(f))))
    assert spread[1] > 1.2 * spread[0] > 0


def test_discard_when_a_release_costs_more(program: StochasticData) -> None:
    """Where releasing a unit costs more in a sample than discarding it at harvest (``V_k >
    p_k e``), the direction discards: the sample adds ``f_k p_k e``, not ``f_k V_k``."""
    sd = program
    book = _book(sd, np.array([1.0, 1.0]))
    opt, day = sd.base.slot(0)
    release = day + opt.days
    book._worth[("sample_1", opt.product)] = np.full(sd.base.horizon_days + 1, 0.5)  # +500 USD
    priced = dataclasses.replace(sd.base.prices, expiry_usd_per_unit={opt.product: 100.0})
    book.data = dataclasses.replace(sd.base, prices=priced)
    got = book.second_stage(opt, np.array([day]), np.ones((2, 1)))[0]
    assert got * 1e3 == pytest.approx(V1_USD + 0.5 * 100.0 + book.worth(
        "nominal", opt.product)[release] * 1e3, abs=1e-6)
