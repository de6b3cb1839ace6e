"""Pricing the cards of a round on worker processes gives the same candidates as pricing them
serially (:mod:`bioplan.media_search.parallel`), and the pool really prices in other processes."""

from __future__ import annotations

import os

import pandas as pd

from bioplan.media_search import parallel
from bioplan.media_search.column_generation import SearchBudget, round_prices, search_recipes
from bioplan.scenario import load_scenario

# a quick card (~0.1 s a round) and one that prices out on the default in round 1
CARDS = ["mk-cb-tpo", "mk-imkcl-vermes"]


def test_parallel_search_equals_serial() -> None:
    sc = load_scenario(None)
    recipes = sc.recipe_table()
    out = {}
    for workers in (1, 2):
        budget = SearchBudget(rounds=1, max_iter=3, workers=workers)
        _sc, report = search_recipes(sc, recipes, budget, cards=CARDS)
        out[workers] = report
    assert len(out[1].recipes) >= 1  # something was generated, so the comparison means something
    pd.testing.assert_frame_equal(out[1].recipes, out[2].recipes, check_exact=True)
    assert (out[1].rounds["best_reduced_cost_usd_per_unit"].tolist()
            == out[2].rounds["best_reduced_cost_usd_per_unit"].tolist())


def test_pool_prices_in_worker_processes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario(None)
    recipes = sc.recipe_table()
    prices = round_prices(sc, recipes, pareto=True, threads=1)
    assert prices.book is not None
    pairs = [(c, str(recipes.loc[recipes["card"] == c, "source"].iloc[0])) for c in CARDS]
    # each "pricing problem" reports the process it ran in
    monkeypatch.setattr(parallel, "price_card", lambda card, *a, **k: (card, os.getpid()))
    pooled = parallel.price_cards(pairs, sc, prices.data, prices.book, workers=2)
    serial = parallel.price_cards(pairs, sc, prices.data, prices.book, workers=1)
    assert [c for c, _pid in pooled] == CARDS  # in the order of the cards
    assert all(pid != os.getpid() for _c, pid in pooled)
    assert all(pid == os.getpid() for _c, pid in serial)
    assert parallel._ROUND is None  # the round's inputs are not kept after pricing
