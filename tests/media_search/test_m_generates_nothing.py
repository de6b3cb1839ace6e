""""M generates nothing" is a true finding, not a weak search: against the LP relaxation's duals
of the benchmark's M instance (``bioplan.benchmarks.media_instance("M")``), the pricing problem's
optimum is positive for both searchable cards — by a multi-start search (4 starts, 20 L-BFGS-B
iterations, 8 whole-day moves each) and by 1,000 random settings drawn over the whole search space
(log-uniform concentrations and densities, uniform whole days).

Why (measured 2026-12-02, docs/planning.md "Media search"): M's hand-made recipes make a platelet
unit for 5,422 USD and an RBC unit for 13,701 USD; the best the cards reach is 7,467 USD
(mk-imkcl-vermes; best reduced cost +1,961 USD/unit with 8 starts × 30 iterations) and 73,086
USD (erythroid-bela; +59,078 USD/unit).
"""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.benchmarks.media_instance import CARDS, media_instance
from bioplan.media_search.column_generation import searchable_cards
from bioplan.media_search.pricing_problem import PENALTY_K, make_evaluate, price_card
from bioplan.media_search.space import search_space
from bioplan.optimisation import prepare
from bioplan.optimisation.pricing import PriceBook, relaxation_duals

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def priced() -> tuple:
    sc = media_instance("M")
    recipes = sc.recipe_table()
    data = prepare(sc, recipes)
    duals = relaxation_duals(data)
    assert duals.ok
    return sc, data, PriceBook(data, duals), dict(searchable_cards(sc, recipes))


def _random_settings(card: str, n: int, seed: int) -> np.ndarray:
    space = search_space(card)
    u = np.random.default_rng(seed).random((n, len(space.keys)))
    lo, hi = space.lower, space.upper
    logs = space.log & (lo > 0)
    x = np.where(logs, np.exp(np.log(np.where(logs, lo, 1.0))
                              + u * (np.log(np.where(logs, hi, 1.0)) - np.log(np.where(logs, lo, 1.0)))),
                 lo + u * (hi - lo))
    x[:, space.integer] = np.round(x[:, space.integer])
    return x


@pytest.mark.parametrize("card", CARDS)
def test_pricing_optimum_is_positive_on_m(priced: tuple, card: str) -> None:
    sc, data, book, sources = priced
    best = price_card(card, sources[card], sc, data, book, starts=4, max_iter=20,
                      max_integer_moves=8, seed=1)
    assert best is not None
    assert best.reduced_cost_k > 1.0  # > +1,000 USD/unit: nothing prices out
    values = make_evaluate(search_space(card), sources[card], sc, data, book)(
        _random_settings(card, 1000, seed=2))
    feasible = values[values < PENALTY_K]
    assert feasible.size > 50
    assert feasible.min() > best.reduced_cost_k - 1e-9  # the search beat every random setting
