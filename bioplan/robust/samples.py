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
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bioplan.optimisation.data import PlanData
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


def _seed(parent: int, name: str) -> int:
    """A reproducible integer seed for the sub-stream ``name`` (a card) of ``parent``."""
    return int(np.random.SeedSequence([parent, zlib.crc32(name.encode())]).generate_state(1)[0])


def recipe_factors(scenario: Scenario, recipes: pd.DataFrame, recipe_names: list[str], n: int,
                   seed: int, yield_cv: Mapping[str, float] | None = None
                   ) -> dict[str, np.ndarray]:
    """``n`` yield factors [-] per recipe; draw i of every recipe of one card uses the same
    parameter draw (common random numbers), so index i can stand for one lot."""
    from bioplan.yields import load_card, sample

    refs = card_references(scenario)
    cards = sorted({str(recipes.loc[r, "card"]) for r in recipe_names})
    out: dict[str, np.ndarray] = {}
    for card in cards:
        names = [r for r in recipe_names if str(recipes.loc[r, "card"]) == card]
        ref = refs.get(card)
        has_variability = ref is not None and bool(load_card(ref).variability)
        cv = (yield_cv or {}).get(card)
        for r in names:
            nominal = float(recipes["product_cells_per_seed_cell"].to_dict()[r])
            if has_variability:
                table = sample(str(ref), n, seed=_seed(seed, card), settings=recipe_settings(recipes, r))
                out[r] = table["product_cells_per_seed_cell"].to_numpy(dtype=float) / nominal
            elif cv:
                sigma = np.sqrt(np.log1p(cv**2))
                rng = np.random.default_rng(_seed(seed, card))
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


MAX_POOLED_LOTS = 4
"""At most this many lots are averaged into one slot's draw in the stochastic program."""

Grid = dict[str, np.ndarray]
"""Per recipe, (samples, horizon days, MAX_POOLED_LOTS) lot yield factors [-]."""


def factor_grid(scenario: Scenario, recipes: pd.DataFrame, names: list[str], samples: int,
                seed: int, yield_cv: Mapping[str, float] | None = None) -> Grid:
    """Lot draws of the stochastic program's sampling model: for every recipe, seeding day and
    lot position; recipes of one card share them (common random numbers)."""
    horizon = scenario.horizon.days
    n = samples * horizon * MAX_POOLED_LOTS
    draws = recipe_factors(scenario, recipes, sorted(set(names)), n, seed, yield_cv)
    return {r: f.reshape(samples, horizon, MAX_POOLED_LOTS) for r, f in draws.items()}


def pick(grid: Grid, slots: list[tuple[str, int, int]], samples: int) -> np.ndarray:
    """(samples, S) factors of slots (recipe, seeding day, lots pooled) [-].

    All batches of one recipe seeded on one day share one draw, the mean of ``lots pooled`` lot
    draws (capped at ``MAX_POOLED_LOTS``): conservative, since bigger batches pool more lots and
    vary less. Seeding days outside the horizon (fixed batches) keep the nominal yield.
    """
    out = np.ones((samples, len(slots)))
    for i, (r, d, m) in enumerate(slots):
        g = grid.get(r)
        if g is not None and 0 <= d < g.shape[1]:
            out[:, i] = g[:samples, d, :max(1, min(m, MAX_POOLED_LOTS))].mean(axis=1)
    return out


def pooled_lots(seed_cells: float, cells_per_lot: float) -> int:
    """Whole lots a batch of ``seed_cells`` pools (at least 1)."""
    return max(1, int(np.floor(seed_cells / cells_per_lot + 1e-9)))


def batch_slot_factors(scenario: Scenario, table: pd.DataFrame, grid: Grid, samples: int
                       ) -> np.ndarray:
    """(samples, batches) factors of ``batch_table`` rows under the slot sampling model."""
    recipes = scenario.recipe_table()
    source = recipes["source"].to_dict()
    slots = [(str(r), int(d), pooled_lots(float(c), scenario.sources[str(source[r])].cells_per_lot))
             for r, d, c in zip(table["recipe"], table["seed_day"], table["seed_cells"], strict=True)]
    return pick(grid, slots, samples)


def slot_keys(data: PlanData, scenario: Scenario) -> list[tuple[str, int, int]]:
    """(recipe, seeding day, lots pooled by a smallest batch) of every slot."""
    keys = []
    for s in range(len(data.slot_day)):
        opt, day = data.slot(s)
        cells = scenario.sources[opt.source].cells_per_lot
        keys.append((opt.recipe, day, pooled_lots(opt.units_min * opt.seed_cells_per_unit, cells)))
    return keys
