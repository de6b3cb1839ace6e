"""The pricing problem of one card: the protocol settings (inside the card's validity domain)
whose best batch option has the most negative reduced cost against the current plan's duals.

``r(θ) = min over reactor routes and seeding days of r_j(d)`` [k$/unit], with the option ``j``
built from the recipe row the exact yield model gives for settings ``θ`` by the planner's own
option builder (:func:`bioplan.optimisation.options.batch_options`: the same working volumes,
routes and cost terms as the model), and ``r_j(d)`` from
:class:`bioplan.optimisation.pricing.PriceBook`. A row outside the validity domain (total days)
or without any batch option scores ``PENALTY_K``.

With ``min_units`` > 0 only options whose batch makes at least ``min_units`` product units in a
whole-unit plan count (:func:`bioplan.optimisation.inputs.whole_unit_cap`: ``⌊u_max⌋`` where a
batch holds a whole unit, else ``u_max``, the batch pooled with others into a bag); a setting whose
options all fall short scores ``PENALTY_K · (1 + s) / 2`` with ``s`` the smallest shortfall
``(min_units − cap) / min_units``, so the minimiser is led towards larger batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.media_search.minimise import Evaluate, minimise
from bioplan.media_search.space import SearchSpace, evaluate_settings, search_space
from bioplan.optimisation.inputs import whole_unit_cap
from bioplan.optimisation.options import batch_options, cost_per_unit_usd
from bioplan.yields import recipe_table

if TYPE_CHECKING:
    from bioplan.media_search.robust_pricing import RobustPriceBook
    from bioplan.optimisation.data import Option, PlanData
    from bioplan.optimisation.pricing import PriceBook
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

PENALTY_K = 1e3
"""Score of a setting outside the validity domain or with no batch option [k$/unit]."""


@dataclass(frozen=True)
class Candidate:
    """The best settings found for one card."""

    card: str
    settings: dict[str, float]
    row: pd.Series
    """The recipe-table row of those settings (per seed cell), with its ``source``."""
    option: str
    """Name of the best batch option (recipe @ reactor route)."""
    reduced_cost_k: float
    """[k$/unit]"""
    seeding_day: int
    cost_usd_per_unit: float
    """Full-batch cost per unit of the best option (cost-term registry) [USD/unit]."""
    evaluations: int


def _options(table: pd.DataFrame, sc: Scenario, data: PlanData,
             book: PriceBook | RobustPriceBook) -> list[Option]:
    """The batch options of ``table``'s recipes, with ``book`` bound to them."""
    bind = getattr(book, "bind", None)  # a robust price book reads the rows' settings
    if bind is not None:
        bind(table)
    return batch_options(table, sc, data)


def _best(opts: list[Option], book: PriceBook | RobustPriceBook,
          min_units: float) -> dict[str, tuple[float, int, Option]]:
    """Per recipe: (best reduced cost [k$/unit], its day, its option) over the options making
    at least ``min_units`` units a batch [unit/batch] (module docstring)."""
    best: dict[str, tuple[float, int, Option]] = {}
    for opt in opts:
        if min_units > 0 and whole_unit_cap(opt) < min_units - 1e-9:
            continue
        value, day = book.best(opt)
        if day is not None and (opt.recipe not in best or value < best[opt.recipe][0]):
            best[opt.recipe] = (value, day, opt)
    return best


def shortfall(opts: list[Option], min_units: float) -> dict[str, float]:
    """Per recipe: the smallest ``(min_units − cap) / min_units`` over its options [-] (0 where
    one makes ``min_units`` [unit/batch]; the cap is :func:`whole_unit_cap`)."""
    out: dict[str, float] = {}
    for opt in opts:
        s = max(0.0, (min_units - whole_unit_cap(opt)) / min_units)
        out[opt.recipe] = min(s, out.get(opt.recipe, 1.0))
    return out


def best_options(table: pd.DataFrame, sc: Scenario, data: PlanData,
                 book: PriceBook | RobustPriceBook,
                 min_units: float = 0.0) -> dict[str, tuple[float, int, Option]]:
    """Per recipe of ``table``: (best reduced cost [k$/unit], its day, its option), among the
    options making at least ``min_units`` units a batch [unit/batch] (0: all)."""
    return _best(_options(table, sc, data, book), book, min_units)


def _rows(space: SearchSpace, x: np.ndarray, source: str) -> pd.DataFrame:
    table = evaluate_settings(space, x)
    table["source"] = source
    return table


def make_evaluate(space: SearchSpace, source: str, sc: Scenario, data: PlanData,
                  book: PriceBook | RobustPriceBook, min_units: float = 0.0) -> Evaluate:
    """``evaluate(X)``: the reduced cost of each settings row ``r(θ)`` [k$/unit], among the
    options making at least ``min_units`` units a batch (module docstring)."""

    def evaluate(x: np.ndarray) -> np.ndarray:
        table = _rows(space, x, source)
        opts = _options(table[~table["extrapolates"].astype(bool)], sc, data, book)
        best = _best(opts, book, min_units)
        short = shortfall(opts, min_units) if min_units > 0 else {}
        return np.array([best[r][0] if r in best else
                         PENALTY_K * (1 + short[r]) / 2 if r in short else PENALTY_K
                         for r in table.index])

    return evaluate


def price_card(card: str, source: str, sc: Scenario, data: PlanData,
               book: PriceBook | RobustPriceBook, *,
               starts: int = 3, seed: int = 0, max_iter: int = 30,
               max_integer_moves: int = 8, min_units: float = 0.0) -> Candidate | None:
    """Minimise the reduced cost of ``card``'s settings (fed by ``source``) against ``book``,
    over the options making at least ``min_units`` units a batch [unit/batch] (0: all); None if
    the best setting found admits no such option."""
    space = search_space(card)
    evaluate = make_evaluate(space, source, sc, data, book, min_units)
    found = minimise(evaluate, space.lower, space.upper, integer=space.integer,
                     logscale=space.log, x0=space.default, starts=starts, seed=seed,
                     max_iter=max_iter, max_integer_moves=max_integer_moves)
    table = _rows(space, found.x[None, :], source)
    best = best_options(table[~table["extrapolates"].astype(bool)], sc, data, book, min_units)
    recipe = str(table.index[0])
    if recipe not in best:
        return None
    value, day, opt = best[recipe]
    settings = {k: float(v) for k, v in zip(space.keys, found.x, strict=True)}
    return Candidate(card, settings, table.iloc[0], opt.name, value, day,
                     cost_per_unit_usd(opt, data), found.evaluations)


def default_cost_usd_per_unit(card: str, source: str, sc: Scenario, data: PlanData,
                              route: str) -> float:
    """Full-batch cost per unit of the card's default protocol on ``route`` (the part of an
    option name after ``@``) [USD/unit]; NaN if that route admits no batch."""
    table = recipe_table(card).iloc[:1].copy()
    table["source"] = source
    for opt in batch_options(table, sc, data):
        if opt.name.split("@", 1)[1] == route:
            return cost_per_unit_usd(opt, data)
    return float("nan")
