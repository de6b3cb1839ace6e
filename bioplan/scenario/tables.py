"""Tables derived from a validated scenario: daily demand and the combined recipe table."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.contracts import PHASE_CYTOKINE_COLUMN
from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.scenario.schema import RecipeSource, Scenario

RECIPE_REQUIRED_COLUMNS = (
    "card",
    "product",
    "days",
    "n_phases",
    "product_cells_per_seed_cell",
    "medium_L_per_seed_cell",
    "peak_volume_L_per_seed_cell",
)
"""Columns a hand-made recipe CSV must have (besides ``recipe`` and the per-phase columns).
Per-phase cytokine columns ``phase<k>_cytokine_<F>_<unit>_per_seed_cell`` are optional."""


def demand_table(scenario: Scenario) -> pd.DataFrame:
    """Daily demand [units], indexed by (``day``, ``product``), zero-filled over the horizon.

    Weekly records are spread evenly over their 7 days; ``demand.scale`` is applied; days
    outside the horizon are dropped. Demand is in whole units: each product's cumulative demand
    is rounded (half up) and the daily units are its differences, so every day asks for a whole
    number and the running total stays within half a unit of the unrounded one.
    """
    horizon = scenario.horizon
    index = pd.MultiIndex.from_product([range(horizon.days), list(scenario.products)],
                                       names=["day", "product"])
    spread = 7 if scenario.demand.granularity == "week" else 1
    share = scenario.demand.scale / spread
    rows = [(horizon.day_of(rec.date) + k, rec.product, rec.units * share)
            for rec in scenario.demand.records for k in range(spread)]
    frame = pd.DataFrame(rows, columns=["day", "product", "units"])
    frame = frame[(frame["day"] >= 0) & (frame["day"] < horizon.days)]
    units = frame.groupby(["day", "product"])["units"].sum().reindex(index, fill_value=0.0)
    return _whole_units(units.astype(float)).to_frame("units")


def _whole_units(units: pd.Series) -> pd.Series:
    """Daily demand in whole units by cumulative rounding per product (see :func:`demand_table`)."""
    out = units.copy()
    for product in units.index.unique(level="product"):
        mask = units.index.get_level_values("product") == product
        cum = np.floor(np.cumsum(units[mask].to_numpy()) + 0.5 + 1e-9)
        out[mask] = np.diff(np.concatenate([[0.0], cum]))
    return out


def recipe_table(scenario: Scenario) -> pd.DataFrame:
    """All candidate recipes, indexed by ``recipe``, with a ``source`` column naming the starting
    material that feeds each recipe's card. Raises :class:`InputError` for a recipe no source feeds.
    """
    frames = []
    for i, src in enumerate(scenario.recipes):
        try:
            frames.append(_source_table(src, scenario))
        except InputError as err:
            if err.file is not None or src.card is None:
                raise
            # a card name or a variant key: say which recipes entry of the scenario it is
            inner = "card" if err.field in (None, "card") else f"variants.{err.field}"
            raise err.located(field=f"recipes.{i}.{inner}") from None
    table = pd.concat(frames)
    table.index.name = "recipe"
    if table.index.duplicated().any():
        dup = sorted(set(table.index[table.index.duplicated()]))
        msg = f"recipe ids {dup[:5]} appear twice"
        raise InputError(
            msg,
            field="recipes",
            fix="list each yield card once, or give hand-made recipes unique 'recipe' ids",
        )
    feeds = {card: name for name, src in scenario.sources.items() for card in src.cards}
    table["source"] = table["card"].map(feeds)
    orphans = sorted(set(table.loc[table["source"].isna(), "card"]))
    if orphans:
        msg = f"no starting material feeds the yield card(s) {orphans}"
        raise InputError(
            msg,
            field="sources",
            fix=f"add {orphans[0]!r} to the 'cards' list of a source (cord blood, donor, cell bank)",
        )
    unknown = sorted(set(table["product"]) - set(scenario.products))
    if unknown:
        msg = f"recipes make product(s) {unknown} that are not under 'products'"
        raise InputError(
            msg,
            field="products",
            fix="add the product with its cells per unit and shelf life, or drop those recipes",
        )
    return table


def _source_table(src: RecipeSource, scenario: Scenario) -> pd.DataFrame:
    if src.card is not None:
        _check_variants(src.variants)
        variants = json.dumps(src.variants, sort_keys=True)
        return _card_recipes(src.card, variants).copy()
    frame = pd.DataFrame(src.rows)
    missing = [c for c in ("recipe", *RECIPE_REQUIRED_COLUMNS) if c not in frame.columns]
    if missing:
        msg = f"recipe table lacks column(s) {missing}"
        raise InputError(
            msg,
            file=src.table,
            field=missing[0],
            fix="add the column (see bioplan.yields.recipe_table for names and units)",
        )
    _check_phase_cytokines(frame, src.table)
    return frame.set_index("recipe")


MAX_PHASE_DAYS = 120
"""Longest culture phase a variant may ask for [days]; published protocols use 3-14 days a phase."""


def _check_variants(variants: dict[str, list[float]]) -> None:
    """Variant values a card can evaluate: ``<phase>.days`` whole days in 1..MAX_PHASE_DAYS,
    everything else (concentrations, densities) finite and not negative; no empty lists."""
    for key, values in variants.items():
        if not values:
            msg = "lists no values"
            raise InputError(msg, field=key, fix="give at least one value, e.g. [7, 10]")
        for value in values:
            if key.endswith(".days"):
                if not (float(value).is_integer() and 1 <= value <= MAX_PHASE_DAYS):
                    msg = f"{value:g} is not a phase length"
                    raise InputError(msg, field=key,
                                     fix=f"give whole days from 1 to {MAX_PHASE_DAYS}")
            elif not value >= 0:
                msg = f"{value:g} is negative"
                raise InputError(msg, field=key,
                                 fix="give concentrations and densities >= 0")



def _check_phase_cytokines(frame: pd.DataFrame, file: str | None) -> None:
    """A hand-made table may give per-phase cytokine columns
    ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``; if it gives them for a recipe, it gives them
    for all of the recipe's phases, next to the total column, and they add up to the total
    (within 1e-6 relative). Without them the planner splits the total by the phases' medium."""
    totals = sorted({m["total"] for c in frame.columns if (m := PHASE_CYTOKINE_COLUMN.match(str(c)))})
    for total in totals:
        if total not in frame.columns:
            msg = f"recipe table has per-phase columns phase<k>_{total} but not {total}"
            raise InputError(
                msg,
                file=file,
                field=total,
                fix="add the total column (the sum of the phase columns)",
            )
        for _i, rec in frame.iterrows():
            n = int(rec["n_phases"])
            values = [rec.get(f"phase{k}_{total}") for k in range(1, n + 1)]
            given = [v for v in values if v is not None and not pd.isna(v)]
            if not given:
                continue
            where = f"recipe {rec['recipe']!r}"
            if len(given) < n:
                msg = f"{where} gives phase{{k}}_{total} for some of its {n} phases only"
                raise InputError(
                    msg,
                    file=file,
                    field=f"phase1_{total}",
                    fix="give the column for every phase (0 where the phase has none)",
                )
            want = float(rec[total]) if not pd.isna(rec[total]) else 0.0
            got = float(sum(float(v) for v in given))
            if abs(got - want) > 1e-6 * max(abs(got), abs(want)) + 1e-300:
                msg = f"{where}: phase{{k}}_{total} add up to {got:g} but {total} is {want:g}"
                raise InputError(
                    msg,
                    file=file,
                    field=total,
                    fix="make the total the sum of the phase columns",
                )


@lru_cache(maxsize=64)
def _card_recipes(card: str, variants_json: str) -> pd.DataFrame:
    """Recipe table of one card, cached because evaluating variants is pure."""
    from bioplan.yields import load_card
    from bioplan.yields import recipe_table as card_recipe_table

    variants = json.loads(variants_json)
    # one block per dtype: the table is built column by column, and each plan's ``.copy()`` of a
    # fragmented frame re-consolidates it (15 of the default's 18 ms recipe table)
    return card_recipe_table(load_card(card), variants or None).copy()


def resolve_card_reference(card: str, base_dir: Path | None) -> str:
    """A card given as a relative file path resolves against the scenario file's folder."""
    if base_dir is not None and card.endswith((".yaml", ".yml")):
        candidate = (base_dir / card).resolve()
        if candidate.exists():
            return str(candidate)
    return card
