"""Yield realisations of a plan's batches: lot-to-lot variability drawn from the yield cards.

A batch is seeded with ``seed_cells`` from lots of its source (``cells_per_lot`` each). Its yield
per seed cell is a draw of the card's ``variability:`` parameters (through the public
:func:`bioplan.yields.sample`) evaluated for the batch's recipe, relative to the recipe's nominal
yield — the *yield factor* (1 = as planned). Lots are handed out on each seeding day, per source
and card, in batch order: a batch covering the lot interval ``[a, b)`` gets the seed-weighted mean
of the factors of the lots it overlaps, so batches seeded from one lot share that lot's draw and a
batch pooled from several lots averages them (the kinetics are linear in the seed cells). Recipes
of one card seeded from the same lot share the lot's parameter draw (common random numbers) and
differ only through their settings.

Recipes without a card variability section (hand-made tables, or a card that declares none) keep
their nominal yield unless ``yield_cv`` gives a lognormal lot-to-lot spread (mean 1) for their card.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

EDGE_TOL = 1e-9
"""Lot-interval overlaps below this fraction of a lot are ignored [lot]."""


def card_references(scenario: Scenario) -> dict[str, str]:
    """Card name (the recipe table's ``card`` column) -> the reference ``load_card`` reads."""
    from bioplan.yields import load_card

    refs: dict[str, str] = {}
    for src in scenario.recipes:
        if src.card is not None:
            refs[load_card(src.card).name] = src.card
    return refs


def recipe_settings(recipes: pd.DataFrame, recipe: str) -> dict[str, float]:
    """The dotted settings of a recipe row (its non-empty ``set:<key>`` columns)."""
    row = recipes.loc[recipe].to_dict()
    return {str(c)[4:]: float(v) for c, v in row.items()
            if str(c).startswith("set:") and pd.notna(v)}


def _seed(parent: int, *keys: int) -> int:
    """A reproducible integer seed for a sub-stream of ``parent``."""
    return int(np.random.SeedSequence([parent, *keys]).generate_state(1)[0])


def recipe_factors(scenario: Scenario, recipes: pd.DataFrame, recipe_names: list[str], n: int,
                   seed: int, yield_cv: Mapping[str, float] | None = None
                   ) -> dict[str, np.ndarray]:
    """``n`` yield factors [-] per recipe; draw i of every recipe of one card uses the same
    parameter draw (common random numbers), so index i can stand for one lot."""
    from bioplan.yields import load_card, sample

    refs = card_references(scenario)
    cards = sorted({str(recipes.loc[r, "card"]) for r in recipe_names})
    out: dict[str, np.ndarray] = {}
    for ci, card in enumerate(cards):
        names = [r for r in recipe_names if str(recipes.loc[r, "card"]) == card]
        ref = refs.get(card)
        has_variability = ref is not None and bool(load_card(ref).variability)
        cv = (yield_cv or {}).get(card)
        for r in names:
            nominal = float(recipes["product_cells_per_seed_cell"].to_dict()[r])
            if has_variability:
                table = sample(str(ref), n, seed=_seed(seed, ci), settings=recipe_settings(recipes, r))
                out[r] = table["product_cells_per_seed_cell"].to_numpy(dtype=float) / nominal
            elif cv:
                sigma = np.sqrt(np.log1p(cv**2))
                rng = np.random.default_rng(_seed(seed, ci))
                out[r] = np.exp(rng.normal(-0.5 * sigma**2, sigma, n))
            else:
                out[r] = np.ones(n)
    return out


def lot_weights(seed_cells: np.ndarray, cells_per_lot: float) -> tuple[np.ndarray, int]:
    """(weights (B, L), L): the share of each batch's seed cells that comes from each lot when
    ``B`` batches draw consecutively from a stream of lots of ``cells_per_lot`` cells."""
    lots = np.asarray(seed_cells, dtype=float) / cells_per_lot
    edges = np.concatenate([[0.0], np.cumsum(lots)])
    n_lots = max(1, int(np.ceil(edges[-1] - EDGE_TOL)))
    lot_lo = np.arange(n_lots, dtype=float)
    overlap = (np.minimum(edges[1:, None], lot_lo[None, :] + 1)
               - np.maximum(edges[:-1, None], lot_lo[None, :]))
    overlap = np.where(overlap > EDGE_TOL, overlap, 0.0)
    weights = overlap / np.maximum(overlap.sum(axis=1, keepdims=True), 1e-300)
    return weights, n_lots


def batch_table(batches: pd.DataFrame) -> pd.DataFrame:
    """One row per batch (index ``batch_id``): product, recipe, seed_cells, product_units,
    seed_day, harvest_day."""
    grouped = batches.groupby(level="batch_id", sort=True)
    return grouped.agg(product=("product", "first"), recipe=("recipe", "first"),
                       seed_cells=("seed_cells", "first"), product_units=("product_units", "first"),
                       seed_day=("start_day", "min"), harvest_day=("end_day", "max"))


def batch_factors(scenario: Scenario, batches: pd.DataFrame, samples: int, seed: int, *,
                  variability: bool = True, yield_cv: Mapping[str, float] | None = None
                  ) -> tuple[pd.DataFrame, np.ndarray]:
    """(one row per batch, yield factors (samples, batches) [-]) for a ``Plan.batches`` table.

    With ``variability=False`` every factor is 1 (the means: the plan as planned).
    """
    table = batch_table(batches)
    factors = np.ones((samples, len(table)))
    if not variability or table.empty:
        return table, factors
    recipes = scenario.recipe_table()
    table = table.assign(source=recipes["source"].reindex(table["recipe"]).to_numpy(),
                         card=recipes["card"].reindex(table["recipe"]).to_numpy())
    position = {b: i for i, b in enumerate(table.index)}
    # lay every (source, card, seeding day) group's lots end to end on one lot axis per card
    offsets: dict[str, int] = {}
    plans: list[tuple[str, list[int], np.ndarray, int]] = []
    for (source, card, _day), group in table.groupby(["source", "card", "seed_day"], sort=True):
        weights, n_lots = lot_weights(group["seed_cells"].to_numpy(),
                                      scenario.sources[str(source)].cells_per_lot)
        start = offsets.get(str(card), 0)
        offsets[str(card)] = start + n_lots
        plans.append((str(card), [position[b] for b in group.index], weights, start))
    names = sorted(set(table["recipe"]))
    draws = recipe_factors(scenario, recipes, names, samples * max(offsets.values()), seed, yield_cv)
    per_lot = {r: f.reshape(samples, -1) for r, f in draws.items()}
    recipe_of = table["recipe"].to_numpy()
    for _card, rows, weights, start in plans:
        for k, i in enumerate(rows):
            lots = per_lot[str(recipe_of[i])][:, start:start + weights.shape[1]]
            factors[:, i] = lots @ weights[k]
    return table, factors
