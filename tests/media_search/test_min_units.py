"""``SearchBudget.min_units_per_batch``: the pricing problem counts only the batch options that
make at least that many units a batch in a whole-unit plan (``whole_unit_cap``), and leads the
minimiser towards larger batches where none does. On the default, mk-imkcl-vermes's default
protocol makes 0.48 unit a batch on its only route, and no setting inside the card's validity
domain makes a whole one."""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.media_search.column_generation import round_prices
from bioplan.media_search.pricing_problem import (
    PENALTY_K,
    best_options,
    make_evaluate,
    price_card,
)
from bioplan.media_search.space import evaluate_settings, search_space
from bioplan.optimisation.inputs import whole_unit_cap
from bioplan.optimisation.options import batch_options
from bioplan.scenario import load_scenario

CARD = "mk-imkcl-vermes"


@pytest.fixture(scope="module")
def case() -> tuple:
    sc = load_scenario(None)
    recipes = sc.recipe_table()
    prices = round_prices(sc, recipes, pareto=True, threads=1)
    assert prices.book is not None
    source = str(recipes.loc[recipes["card"] == CARD, "source"].iloc[0])
    space = search_space(CARD)
    table = evaluate_settings(space, space.default[None, :])
    table["source"] = source
    return sc, prices, source, space, table


def test_only_options_making_enough_units_count(case: tuple) -> None:
    sc, prices, _source, _space, table = case
    cap = max(whole_unit_cap(o) for o in batch_options(table, sc, prices.data))
    assert 0 < cap < 1  # a sub-unit batch, pooled into bags
    assert best_options(table, sc, prices.data, prices.book) != {}
    assert best_options(table, sc, prices.data, prices.book, cap - 0.01) != {}
    assert best_options(table, sc, prices.data, prices.book, cap + 0.01) == {}


def test_shortfall_penalty_leads_to_larger_batches(case: tuple) -> None:
    sc, prices, source, space, table = case
    cap = max(whole_unit_cap(o) for o in batch_options(table, sc, prices.data))
    value = make_evaluate(space, source, sc, prices.data, prices.book, 1.0)(space.default[None, :])
    assert value[0] == pytest.approx(PENALTY_K * (1 + (1 - cap)) / 2)
    assert value[0] < PENALTY_K  # below a setting with no option at all
    free = make_evaluate(space, source, sc, prices.data, prices.book)(space.default[None, :])
    assert free[0] < PENALTY_K / 2


def test_no_whole_unit_recipe_inside_the_domain(case: tuple) -> None:
    sc, prices, source, _space, _table = case
    found = price_card(CARD, source, sc, prices.data, prices.book, starts=1, max_iter=3,
                       max_integer_moves=1, min_units=1.0)
    assert found is None
    half = price_card(CARD, source, sc, prices.data, prices.book, starts=1, max_iter=3,
                      max_integer_moves=1, min_units=0.4)
    assert half is not None and np.isfinite(half.reduced_cost_k)
    opts = {o.name: o for o in batch_options(half.row.to_frame().T, sc, prices.data)}
    assert whole_unit_cap(opts[half.option]) >= 0.4 - 1e-9
