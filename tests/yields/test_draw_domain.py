"""Sampled parameters stay physical, and the solver never returns NaN/inf silently (issue 9).

Before the truncation, ``sample("erythroid-cb-giarratana", 100_000, seed=0)`` gave NaN product
yields in draws 4552 and 68413 and up to 4.6e107-fold expansion: the fit's lognormal draw of
``stages.HSPC.exhaustion_per_division`` exceeded 1 in 56 draws, and proliferation p · (1 - e)^g
then alternates in sign and grows with the generation g, so the division budget no longer bounds
the growth (the card schema requires 0 <= e < 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.errors import InputError
from bioplan.yields import list_cards, load_card, sample
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import param_space
from bioplan.yields.variability import draw_domain, outside_domain, parameter_draws

LARGE_N = {"erythroid-cb-giarratana": 100_000}
"""Draws per card: the card whose untruncated draws overflowed at 100,000 (~8-17 s on the shared
2-core machine, so marked slow; its parameter draws are checked at 100,000 below in < 1 s), the
others 20,000 (~1-2 s each)."""
SAMPLED = [pytest.param(n, marks=pytest.mark.slow) if n in LARGE_N else n for n in list_cards()]


@pytest.mark.parametrize("name", SAMPLED)
def test_every_draw_of_every_card_is_finite_and_below_the_ceiling(name: str) -> None:
    n = LARGE_N.get(name, 20_000)
    card = load_card(name)
    t = sample(card, n, seed=0)
    assert len(t) == n
    numeric = t.select_dtypes("number")
    if card.lineage != "erythroid":  # enucleation is NaN (not applicable) for platelet cards
        numeric = numeric.drop(columns="enucleation")
    assert np.isfinite(numeric.to_numpy()).all()
    assert (t["product_cells_per_seed_cell"] > 0).all()
    ceiling = card.validity.max_fold_expansion
    if ceiling is not None:
        assert t["fold_expansion"].max() <= ceiling


@pytest.mark.parametrize("name", list_cards())
def test_draws_lie_in_the_physical_domain(name: str) -> None:
    draws = parameter_draws(param_space(load_card(name)), 100_000, seed=0)
    assert not outside_domain(draws).any()
    for p, vals in draws.items():
        d = draw_domain(p)
        assert vals.min() >= d.low
        assert (vals.max() < d.high) if d.open_high else (vals.max() <= d.high)


def test_truncation_redraws_only_the_draws_outside_the_domain() -> None:
    """The untruncated fit draws of the cord-blood card put some HSPC exhaustion above 1; those
    draws (rows) change, every other draw keeps its value."""
    import bioplan.yields.variability as variability

    ps = param_space(load_card("erythroid-cb-giarratana"))
    raw = variability._draw_rows(ps, ps.theta(1)[0], 100_000, "both",
                                 np.random.default_rng(0), np.random.default_rng(7919))
    bad = outside_domain(raw)
    assert bad.any()
    assert raw["stages.HSPC.exhaustion_per_division"][bad].max() >= 1.0
    kept = parameter_draws(ps, 100_000, seed=0)
    for p, vals in kept.items():
        np.testing.assert_array_equal(vals[~bad], raw[p][~bad])
        assert not np.array_equal(vals[bad], raw[p][bad])


def test_an_overflowing_recipe_is_an_error_naming_the_card() -> None:
    """Exhaustion 3.8 per division with 2.6/day proliferation (a draw that overflowed before the
    truncation) is refused with the card and the row, never returned as NaN."""
    ps = param_space(load_card("erythroid-cb-giarratana"))
    theta = ps.theta(2)
    theta[1, ps.col("stages.HSPC.exhaustion_per_division")] = 3.8
    for stage in ("HSPC", "BFU", "CFU"):
        theta[1, ps.col(f"stages.{stage}.proliferation_per_day")] = 2.6
    with pytest.warns(RuntimeWarning), pytest.raises(InputError, match=r"erythroid-cb-giarratana.*rows 1\b"):
        run_batch(ps, theta)
    assert np.isfinite(run_batch(ps, theta[:1]).x_end).all()
