"""``SearchBudget(prune=True)``: a recipe the last LP prices above +RC_TOL (nonbasic at zero) is
left out of the final set, one it prices at or below is kept. Checked on the built-in default's
own recipes against the LP relaxation of the default, with each recipe's reduced cost recomputed
option by option from the price book."""

from __future__ import annotations

from bioplan.media_search.column_generation import RC_TOL, prune_unpriced, round_prices
from bioplan.optimisation.options import batch_options
from bioplan.scenario import load_scenario


def test_prune_drops_exactly_the_recipes_priced_out() -> None:
    sc = load_scenario(None)
    recipes = sc.recipe_table()
    prices = round_prices(sc, recipes, pareto=True, threads=1)
    assert prices.book is not None
    rows = [row for _name, row in recipes.iterrows()]
    dropped = prune_unpriced(rows, prices, sc, len(rows))
    best: dict[str, float] = {}
    for opt in batch_options(recipes[~recipes["extrapolates"].astype(bool)], sc, prices.data):
        value, day = prices.book.best(opt)
        if day is not None:
            best[opt.recipe] = min(value, best.get(opt.recipe, float("inf")))
    expected = {str(r) for r in recipes.index if best.get(str(r), float("inf")) > RC_TOL}
    assert dropped == expected
    # the LP uses some recipe of each product: at least one recipe prices at ~0 and is kept
    assert set(map(str, recipes.index)) - dropped
    # only the recipes the LP priced may be dropped
    assert prune_unpriced(rows, prices, sc, 0) == set()
