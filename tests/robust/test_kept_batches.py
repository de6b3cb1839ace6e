"""Kept (running) batches in robust plans: each releases its own forecast draw in every sample
(issue 15 item 3, issue 10's robust plans; :mod:`bioplan.robust.kept`).

The scenario (``tests.optimisation.builders``): 10 days, two owned 10 L tanks, a 7-day recipe at
125 USD of material per unit plus 370 USD per batch, a unit short costs π = 1000 USD. A running batch
``K1`` was seeded on day -3 in tank 1 and is harvested on day 4 with 3 units planned (its records
forecast P50 = 3 units, spread ``log_sd`` σ). 3 units are due on day 7: only K1 or a new batch
seeded on day 0 (harvested on day 7) can serve them.

- With σ → 0 the kept batch is the constant it was before records: the robust plan must be the one
  without records (same first stage, same expected cost).
- With σ = 0.7 (forecast P10 = 3 · exp(−1.2816 · 0.7) = 1.22 units, far below its plan) and
  π = 5000 USD per unit short, the deterministic plan trusts P50 and adds nothing. Relying on K1
  alone costs π · 3 · E[(1 − g)⁺] in expectation, with g lognormal (median 1, σ 0.7):
  E[(1 − g)⁺] = Φ(0) − exp(σ²/2) Φ(−σ) = 0.5 − 1.2776 × 0.2420 = 0.191, so 2,862 USD, far above
  a covering batch's 370 + 125 × 3 = 745 USD: the robust plan adds a batch. Out of sample K1's
  cells fill ⌊3 g⌋ whole bags, so the deterministic plan's service P10 is ⌊3 · exp(−1.2816 ·
  0.7)⌋ / 3 = ⌊1.22⌋ / 3 = **1/3** (P(3 g < 1) = Φ(ln(1/3) / 0.7) = 5.8 % and P(3 g < 2) = 28 %
  bracket the 10 % quantile far from sampling error), not the 100 % it would be without the
  spread.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bioplan.contracts import BATCH_COLUMNS
from bioplan.optimisation import SolveOptions, prepare
from bioplan.planning import plan
from bioplan.results.checks.recourse import check_recourse
from bioplan.robust.evaluate import evaluate
from bioplan.robust.kept import kept_batches, kept_factors, kept_from, sample_releases
from bioplan.robust.metrics import program_factors
from bioplan.robust.plan import robust_plan
from bioplan.robust.realised import realised_with_discards
from bioplan.robust.samples import batch_table, factor_grid
from bioplan.scenario import Scenario
from bioplan.scenario.schema import Uncertainty
from tests.optimisation.builders import base, build, demand

OPTIONS = SolveOptions(time_limit_s=30, mip_gap=1e-6)
Z90 = 1.2815515655446004
DETERMINISTIC_P10 = math.floor(3 * math.exp(-Z90 * 0.7)) / 3
"""K1 alone: its P10 draw's cells fill 1 of the 3 bags due (see the module docstring)."""


def scenario(due: float = 3.0, cv: float | None = None, penalty: float = 1000) -> Scenario:
    sc = build(demand(base(10, penalty=penalty, units_owned=2), {7: due}))
    unc = Uncertainty(samples=8, seed=3, **({"yield_cv": {"card-a": cv}} if cv else {}))
    return sc.model_copy(update={"uncertainty": unc})


def kept_batch(units: float = 3.0) -> pd.DataFrame:
    """K1: seeded on day -3 in tank 1, harvested on day 4, ``units`` planned (1e6 seed cells per
    unit, 10 L of medium per unit, 1 kU EPO per unit)."""
    row = {"product": "rbc", "recipe": "r/0", "phase": "culture", "reactor_type": "tank",
           "reactor_unit": 1, "start_day": -3, "end_day": 4, "seed_cells": units * 1e6,
           "product_units": units, "medium_L": 10 * units, "cytokine_mg": 0.0, "epo_kU": units}
    return pd.DataFrame([row], index=pd.Index(["K1"], name="batch_id"))[BATCH_COLUMNS]


def forecasts(p50: float, log_sd: float, planned: float = 3.0) -> pd.DataFrame:
    """A forecast table as :func:`bioplan.records.replan.forecast_kept_batches` writes it."""
    spread = math.exp(Z90 * log_sd)
    return pd.DataFrame([{"product": "rbc", "recipe": "r/0", "status": "running", "last_day": 3,
                          "planned_units": planned, "forecast_p10": p50 / spread,
                          "forecast_p50": p50, "forecast_p90": p50 * spread,
                          "log_sd": log_sd, "planned_with": p50, "note": ""}],
                        index=pd.Index(["K1"], name="batch_id"))


def new_batches(p) -> pd.DataFrame:
    first = p.batches.groupby(level="batch_id").first()
    return first[first.index != "K1"]


def test_kept_draws_are_the_forecast_and_their_own() -> None:
    """Median factor 1 (P50 as planned), P10 exp(−1.28 σ); a batch's draws do not change when
    another kept batch joins; the releases of its cohort are 3 g (3 units planned)."""
    sc = scenario()
    kept = kept_batches(forecasts(3.0, 0.5), kept_batch())
    g = kept_factors(kept, 20000, seed=1)[:, 0]
    assert np.median(g) == pytest.approx(1.0, abs=0.02)
    assert np.percentile(g, 10) == pytest.approx(math.exp(-Z90 * 0.5), rel=0.03)
    two = pd.concat([forecasts(3.0, 0.5), forecasts(3.0, 0.2).rename(index={"K1": "K2"})])
    both = kept_batches(two, pd.concat([kept_batch(), kept_batch().rename(index={"K1": "K2"})]))
    assert np.array_equal(kept_factors(both, 20000, seed=1)[:, 0], g)
    data = prepare(sc, sc.recipe_table(), kept_batch())
    releases = sample_releases(data, kept, g[:5, None])
    assert list(releases) == ["rbc"] and list(releases["rbc"]) == [4]  # harvest day 4 + 0 days
    assert np.allclose(releases["rbc"][4], 3.0 * g[:5])
    # no spread, no entry: the batch stays the constant it was
    assert kept_batches(forecasts(3.0, 0.0), kept_batch()).empty
    assert kept_from({"kept_batches": {}}).empty


def test_mean_trajectory_records_with_a_tiny_spread_change_nothing() -> None:
    """(a) records on the mean trajectory (P50 = planned) with σ = 1e-6: the robust plan equals
    the robust plan without records (new batches' yields vary, cv 0.5; 5 units due, K1 gives 3)."""
    sc = scenario(due=5.0, cv=0.5)
    unc = sc.uncertainty
    assert unc is not None
    fixed = kept_batch()
    plain = robust_plan(sc, unc, OPTIONS, 120, fixed_batches=fixed, metrics=False)
    tiny = robust_plan(sc, unc, OPTIONS, 120, fixed_batches=fixed, metrics=False,
                       forecasts=forecasts(3.0, 1e-6))
    assert plain.has_solution and tiny.has_solution
    assert "kept_batches" in (tiny.robust or {}) and "kept_batches" not in (plain.robust or {})
    pd.testing.assert_frame_equal(new_batches(tiny), new_batches(plain))
    assert len(new_batches(plain)) >= 1  # the case is not trivial: new batches cover 2 units
    assert tiny.robust["expected_cost_usd"] == pytest.approx(plain.robust["expected_cost_usd"],
                                                             rel=1e-5)


@pytest.fixture(scope="module")
def spread_plans():
    """(b) K1 forecast at P50 = 3 units with σ = 0.7: (deterministic, robust) plans with the same
    records (π = 5000 USD per unit short)."""
    sc = scenario(penalty=5000)
    unc = sc.uncertainty
    assert unc is not None
    fixed = kept_batch()
    deterministic = plan(sc, fixed_batches=fixed, marginal_values=False)
    robust = robust_plan(sc, unc, OPTIONS, 120, deterministic=deterministic, fixed_batches=fixed,
                         forecasts=forecasts(3.0, 0.7))
    return sc, deterministic, robust


def test_a_batch_forecast_far_below_its_plan_gets_cover(spread_plans) -> None:
    _sc, deterministic, robust = spread_plans
    assert robust.has_solution
    assert new_batches(deterministic).empty  # P50 = 3 covers the 3 units due
    added = new_batches(robust)
    assert len(added) == 1 and 1.0 <= float(added["product_units"].iloc[0]) <= 3.0
    # what robustness costs: never less than the deterministic plan as planned
    assert robust.robust["price_of_robustness_usd"] >= -1e-6
    service = robust.robust["service"]["rbc"]
    # the deterministic plan's P10: K1's P10 draw fills floor(3 exp(-1.28 * 0.7)) = 1 of 3 bags
    assert service["deterministic_p10"] == pytest.approx(DETERMINISTIC_P10)
    assert service["deterministic_mean"] < 0.9
    assert service["robust_p10"] > service["deterministic_p10"] + 0.2
    assert robust.robust["vss_usd"] > 0  # the cover pays out of sample
    assert list(robust.robust["kept_batches"]) == ["K1"]
    # evaluate: a robust plan's own kept batches by default; without them K1 is the constant it
    # was (card-a has no lot spread here), so the deterministic plan would look perfect
    kept = kept_from(robust.robust)
    with_spread = evaluate(deterministic, samples=500, seed=9, kept=kept).products()
    without = evaluate(deterministic, samples=500, seed=9).products()
    assert without.loc["rbc", "service_level_p10"] == pytest.approx(1.0)
    assert with_spread.loc["rbc", "service_level_p10"] == pytest.approx(DETERMINISTIC_P10)
    own = evaluate(robust, samples=500, seed=9)
    assert own.factors["K1"].std() > 0.3  # drawn from its forecast, not held at 1
    assert np.allclose(own.factors["K1"], kept_factors(kept, 500, 9)[:, 0])


def test_progressive_hedging_sees_each_sample_own_releases() -> None:
    """PH's one-sample programs carry their sample's kept releases (a slice, not all K)."""
    from bioplan.optimisation.stochastic import sample_data
    from bioplan.robust.ph_run import one_sample
    from bioplan.robust.plan import stochastic_data

    sc = scenario()
    unc = sc.uncertainty
    assert unc is not None
    data = prepare(sc, sc.recipe_table(), kept_batch())
    kept = kept_batches(forecasts(3.0, 0.7), kept_batch())
    sd = stochastic_data(sc, data, unc, 4, unc.seed, kept=kept)
    g = kept_factors(kept, 4, unc.seed)[:, 0]
    for k in range(4):
        assert sample_data(sd, k).products["rbc"].fixed_release[4] == pytest.approx(3 * g[k])
        assert sample_data(one_sample(sd, k), 0).products["rbc"].fixed_release[4] == \
            pytest.approx(3 * g[k])
    assert sd.base.products["rbc"].fixed_release[4] == pytest.approx(3.0)  # base untouched


def test_each_sample_recourse_passes_the_checker(spread_plans) -> None:
    """(c) every sample of the program, the robust first stage fixed and K1 releasing its draw,
    re-dispatched: the recourse checker passes."""
    sc, _deterministic, robust = spread_plans
    unc = sc.uncertainty
    assert unc is not None
    kept = kept_from(robust.robust)
    table = batch_table(robust.batches)
    grid = factor_grid(sc, sc.recipe_table(), sorted(set(table["recipe"])), unc.samples,
                       unc.seed, unc.yield_cv)
    factors = program_factors(robust, table, grid, unc.samples, kept, unc.seed)
    g = kept_factors(kept, unc.samples, unc.seed)[:, 0]
    k1 = list(table.index).index("K1")
    assert np.allclose(factors[:, k1], g) and g.std() > 0.1
    costs = []
    for k in range(unc.samples):
        realised, discards = realised_with_discards(robust, factors[k])
        assert check_recourse(realised, discards) == [], k
        costs.append(realised.objective_usd)
    # the plan as packaged (whole bags) is one first stage of the program: it costs no less in
    # the program's samples than the program's optimum (the EF plans units, not bags)
    assert np.mean(costs) >= robust.robust["expected_cost_usd"] * (1 - 1e-6)


def test_ef_and_ph_agree_with_kept_draws() -> None:
    """Progressive hedging (2 MPI processes) on the spread case: each one-sample program carries
    its own kept releases, so PH's plan costs what the EF proves optimal within their gaps, and
    its Lagrangian bound lies below that optimum."""
    from bioplan.optimisation.stochastic import solve_extensive_form
    from bioplan.robust.ph import missing_mpi
    from bioplan.robust.plan import stochastic_data
    from tests.robust.test_hand_worked import assert_ef_and_ph_agree
    from tests.support import require

    require(missing_mpi() is None, f"mpi-sppy / MPI missing: {missing_mpi()}")
    sc = scenario(penalty=5000)
    unc = sc.uncertainty
    assert unc is not None
    data = prepare(sc, sc.recipe_table(), kept_batch())
    kept = kept_batches(forecasts(3.0, 0.7), kept_batch())
    sd = stochastic_data(sc, data, unc, 4, unc.seed, kept=kept)
    ef, _ph = assert_ef_and_ph_agree(sd)
    plain = solve_extensive_form(stochastic_data(sc, data, unc, 4, unc.seed), OPTIONS)
    assert plain.objective is not None and ef.objective > plain.objective  # the spread costs
