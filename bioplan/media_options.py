"""The media options of a yield card: what each candidate recipe costs per transfusion unit, how
long it takes and how much reactor time it needs, and which recipes are Pareto-efficient.

These are the choices the planner weighs: with scarce reactors a faster or denser (dearer) recipe
can win, with idle reactors a cheaper, slower one. ``bioplan media CARD`` prints the efficient set.

Per product unit (``seed = cells per unit / product cells per seed cell``):

- ``cost_usd_per_unit`` [USD/unit] = starting material (seed / cells per lot × cost per lot of the
  scenario source that feeds the card; 0 if none does) + basal medium (litres × price) + each
  cytokine (amount × price). Reactor costs are not in it: they depend on the schedule, and show up
  as the third criterion.
- ``days`` [day]: seeding to harvest.
- ``reactor_days_per_unit`` [reactor·day/unit] = Σ over phases of (phase days + turnaround) ×
  peak litres per unit / working volume max of the largest scenario reactor type hosting the
  phase's vessel class (a fractional reactor: the time share of one unit that one product unit
  occupies). NaN when no reactor type of the scenario hosts a phase.

A recipe is *efficient* when no other recipe is at least as good in all three criteria and
strictly better in one (:func:`bioplan.contracts.pareto_efficient`, the rule the planner prunes
its batch options with too, on finer criteria: see :mod:`bioplan.optimisation.options`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.contracts import cytokine_keys, pareto_efficient
from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

CRITERIA = ("cost_usd_per_unit", "days", "reactor_days_per_unit")
"""The three criteria, all minimised."""

def card_recipes(card: str, scenario: Scenario,
                 variants: Mapping[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """Candidate recipes of ``card``: ``variants`` if given, else the recipes the scenario lists
    for the card, else the card's default protocol alone."""
    from bioplan.yields import load_card, recipe_table

    yield_card = load_card(card)
    if variants:
        return recipe_table(yield_card, variants)
    listed = [src for src in scenario.recipes if src.card is not None]
    if any(_same_card(src.card or "", yield_card.name) for src in listed):
        table = scenario.recipe_table()
        return table[table["card"] == yield_card.name].drop(columns=["source"], errors="ignore")
    return recipe_table(yield_card)


def _same_card(reference: str, name: str) -> bool:
    return reference == name or reference.rstrip("/").rsplit("/", 1)[-1].removesuffix(
        ".yaml").removesuffix(".yml") == name


def media_options(card: str, scenario: Scenario,
                  variants: Mapping[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """One row per candidate recipe (index ``recipe``) with the three criteria, their cost parts
    [USD/unit], the variant settings (``set:`` columns) and ``efficient`` (bool); sorted by cost.

    >>> media_options("erythroid-cb-giarratana", load_scenario())   # doctest: +SKIP
    """
    recipes = card_recipes(card, scenario, variants)
    if recipes.empty:
        msg = f"card {card!r} gives no recipes"
        raise InputError(msg, field="card")
    return options_from_recipes(recipes, scenario)


def options_from_recipes(recipes: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """:func:`media_options` for a recipe table of one card (columns as
    ``bioplan.yields.recipe_table``)."""
    from bioplan.yields import CELLS_PER_UNIT

    product = str(recipes["product"].iloc[0])
    prod = scenario.products.get(product)  # type: ignore[call-overload]
    cells_per_unit = prod.cells_per_unit if prod is not None else CELLS_PER_UNIT[product]
    yield_per_seed = recipes["product_cells_per_seed_cell"].astype(float)
    seed_per_unit = (cells_per_unit / yield_per_seed).where(yield_per_seed > 0)

    out = pd.DataFrame(index=recipes.index)
    out.index.name = "recipe"
    out["days"] = recipes["days"].astype(int)
    out["seed_cells_per_unit"] = seed_per_unit
    out["starting_material_usd_per_unit"] = seed_per_unit * _usd_per_seed_cell(
        str(recipes["card"].iloc[0]), scenario)
    out["basal_medium_usd_per_unit"] = (seed_per_unit * recipes["medium_L_per_seed_cell"]
                                        * scenario.media.basal_price_usd_per_L)
    cytokines = pd.Series(0.0, index=recipes.index)
    unpriced = []
    for key in cytokine_keys(recipes.columns):
        prices = (scenario.media.cytokine_price_usd_per_kU if key.unit == "kU"
                  else scenario.media.cytokine_price_usd_per_mg)
        amount = recipes[key.per_seed_column].fillna(0.0).astype(float)
        if key.factor not in prices and (amount > 0).any():
            unpriced.append(f"{key.factor} ({key.unit})")
        cytokines += amount * prices.get(key.factor, 0.0)
    out["cytokines_usd_per_unit"] = seed_per_unit * cytokines
    out["cost_usd_per_unit"] = out[["starting_material_usd_per_unit", "basal_medium_usd_per_unit",
                                    "cytokines_usd_per_unit"]].sum(axis=1, min_count=3)
    out["medium_L_per_unit"] = seed_per_unit * recipes["medium_L_per_seed_cell"]
    out["peak_volume_L_per_unit"] = seed_per_unit * recipes["peak_volume_L_per_seed_cell"]
    out["reactor_days_per_unit"] = [
        _reactor_days(rec, seed, scenario)
        for (_r, rec), seed in zip(recipes.iterrows(), seed_per_unit, strict=True)
    ]
    for column in recipes.columns:
        if str(column).startswith("set:"):
            out[column] = recipes[column]
    out["efficient"] = pareto_efficient(out[list(CRITERIA)].to_numpy(dtype=float))
    out = out.sort_values(["cost_usd_per_unit", "days"])
    out.attrs["product"] = product
    out.attrs["source"] = _source_of(str(recipes["card"].iloc[0]), scenario)
    out.attrs["unpriced_cytokines"] = unpriced
    out.attrs["unhosted_vessel_classes"] = unhosted_vessel_classes(recipes, scenario)
    return out


def _source_of(card: str, scenario: Scenario) -> str | None:
    """Name of the first scenario source that feeds ``card``."""
    for name, source in scenario.sources.items():
        if any(_same_card(ref, card) for ref in source.cards):
            return name
    return None


def _usd_per_seed_cell(card: str, scenario: Scenario) -> float:
    """Cost of one seed cell from the scenario source that feeds ``card`` (0 if none)."""
    name = _source_of(card, scenario)
    if name is None:
        return 0.0
    source = scenario.sources[name]
    return source.cost_usd_per_lot / source.cells_per_lot


def _reactor_days(rec: pd.Series, seed_per_unit: float, scenario: Scenario) -> float:
    total = 0.0
    for k in range(1, int(rec["n_phases"]) + 1):
        vessel = str(rec[f"phase{k}_vessel_class"])
        hosts = [r for r in scenario.reactors.values() if vessel in r.vessel_classes]
        if not hosts or not np.isfinite(seed_per_unit):
            return float("nan")
        biggest = max(hosts, key=lambda r: r.working_volume_max_L)
        peak = float(rec[f"phase{k}_peak_volume_L_per_seed_cell"]) * seed_per_unit
        total += (int(rec[f"phase{k}_days"]) + biggest.turnaround_days) * peak / (
            biggest.working_volume_max_L)
    return total


def unhosted_vessel_classes(recipes: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Vessel classes of the recipes that no reactor type of the scenario hosts."""
    classes: set[str] = set()
    for _r, rec in recipes.iterrows():
        for k in range(1, int(rec["n_phases"]) + 1):
            classes.add(str(rec[f"phase{k}_vessel_class"]))
    hosted = {v for r in scenario.reactors.values() for v in r.vessel_classes}
    return sorted(classes - hosted)
