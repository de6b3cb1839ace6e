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
                   seed: int, yield_cv: Mapping[str, float] | None = None,
                   samples: int | None = None, uncertainty: str = "both"
                   ) -> dict[str, np.ndarray]:
    """``n`` yield factors [-] per recipe; draw i of every recipe of one card uses the same
    parameter draw (common random numbers), so index i can stand for one lot. With ``samples``
    k the draws are k runs of n/k lots, each run one sample sharing one draw of the card's
    calibration (fit) uncertainty; without it every lot draws its own fit. ``uncertainty``:
    ``both``, ``lot`` or ``fit`` (``Uncertainty.yield_uncertainty``), each limited to what the
    card has."""
    from bioplan.yields import load_card, sample
    from bioplan.yields.variability import available_uncertainty

    refs = card_references(scenario)
    cards = sorted({str(recipes.loc[r, "card"]) for r in recipe_names})
    out: dict[str, np.ndarray] = {}
    for card in cards:
        names = [r for r in recipe_names if str(recipes.loc[r, "card"]) == card]
        ref = refs.get(card)
        kind = available_uncertainty(load_card(ref), uncertainty) if ref is not None else None
        cv = (yield_cv or {}).get(card) if uncertainty != "fit" else None
        for r in names:
            nominal = float(recipes["product_cells_per_seed_cell"].to_dict()[r])
            if kind is not None:
                table = sample(str(ref), n, seed=_seed(seed, card), settings=recipe_settings(recipes, r),
                               uncertainty=kind, fit_blocks=samples)
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
                  variability: bool = True, yield_cv: Mapping[str, float] | None = None,
                  uncertainty: str = "both") -> tuple[pd.DataFrame, np.ndarray]:
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
    draws = recipe_factors(scenario, recipes, names, samples * max(offsets.values()), seed, yield_cv,
                           samples=samples, uncertainty=uncertainty)
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
                seed: int, yield_cv: Mapping[str, float] | None = None,
                lots: int = MAX_POOLED_LOTS, uncertainty: str = "both") -> Grid:
    """Lot draws of the stochastic program's sampling model: for every recipe, seeding day and
    lot position (``lots`` per day); recipes of one card share them (common random numbers)."""
    horizon = scenario.horizon.days
    n = samples * horizon * lots
    draws = recipe_factors(scenario, recipes, sorted(set(names)), n, seed, yield_cv, samples=samples,
                           uncertainty=uncertainty)
    return {r: f.reshape(samples, horizon, lots) for r, f in draws.items()}


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


MAX_SEGMENTS = 6
"""Lot segments per slot in the program (:mod:`bioplan.optimisation.lot_segments`): one per lot up
to this many lots, else this many runs of whole lots."""
SEGMENT_LOTS = MAX_SEGMENTS * MAX_POOLED_LOTS
"""Lot draws per recipe and seeding day of the segment model's grid (``MAX_POOLED_LOTS`` per
segment)."""


def segment_edges(lots: float) -> np.ndarray:
    """Lot edges of a slot's segments [lot] for a stream of at most ``lots`` lots."""
    n = max(1, int(np.ceil(lots - EDGE_TOL)))
    if n <= MAX_SEGMENTS:
        return np.arange(n + 1, dtype=float)
    return np.unique(np.round(np.linspace(0.0, n, MAX_SEGMENTS + 1)))


def segment_draw(g: np.ndarray, samples: int, day: int, g_index: int, size: float) -> np.ndarray:
    """(samples,) the mean yield factor of a segment of ``size`` lots [-]: the mean of its first
    ``min(size, MAX_POOLED_LOTS)`` lot draws of ``g`` (samples, days, SEGMENT_LOTS), its spread
    about the recipe's mean shrunk to that of a mean of ``size`` lots (``√(m / size)``)."""
    m = int(max(1, min(round(size), MAX_POOLED_LOTS)))
    lo = g_index * MAX_POOLED_LOTS
    mean = g[:samples, day, lo:lo + m].mean(axis=1)
    if size <= m:
        return mean
    centre = float(g.mean())
    return np.maximum(centre + (mean - centre) * np.sqrt(m / size), 0.0)


def segment_model(data: PlanData, grid: Grid, samples: int, span: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(capacities (S, G) [unit], factors (samples, S, G) [-]) of every slot's lot segments over
    ``span`` (S,) units at most: batches of a slot draw their lots in order, so the segments are
    the slot's lot stream (:mod:`bioplan.optimisation.lot_segments`). Slots of one recipe and
    seeding day start at the same lot (common draws); outside the horizon: nominal."""
    edges = [segment_edges(data.options[j].lots_per_unit * float(span[s]))
             for s, j in enumerate(data.slot_option)]
    width = max((len(e) - 1 for e in edges), default=1)
    caps = np.zeros((len(edges), width))
    out = np.ones((samples, len(edges), width))
    for s, e in enumerate(edges):
        opt, day = data.slot(s)
        rho = opt.lots_per_unit
        sizes = np.diff(e)
        caps[s, :len(sizes)] = sizes / rho if rho > 0 else float(span[s]) / len(sizes)
        g = grid.get(opt.recipe)
        if g is None or not 0 <= day < g.shape[1]:
            continue
        for i, size in enumerate(sizes):
            out[:, s, i] = segment_draw(g, samples, day, i, float(size))
    return caps, out


def units_needed(caps: np.ndarray, factors: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """(S,) units a slot must plan so that every sample grows its window ``W`` [unit]: the
    largest over samples of the smallest x with ``Σ_g f_g · (the part of x in segment g) ≥ W``
    (segments filled in order); a slot no sample fills gets all its segments' units."""
    grown = np.cumsum(factors * caps[None], axis=2)  # (K, S, G) units grown by each edge
    before = np.concatenate([np.zeros((*grown.shape[:2], 1)), grown[:, :, :-1]], axis=2)
    edge = np.concatenate([np.zeros((caps.shape[0], 1)), np.cumsum(caps, axis=1)[:, :-1]], axis=1)
    w = windows[None, :, None]
    inside = (before < w) & (grown >= w) & (caps[None] > 0)
    x = np.where(inside, edge[None] + (w - before) / np.maximum(factors, 1e-12), np.inf).min(axis=2)
    x = np.where(windows[None] <= 0, 0.0, x)
    return np.minimum(x, caps.sum(axis=1)[None]).max(axis=0)
