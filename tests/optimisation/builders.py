"""Tiny hand-checkable scenarios for the optimisation tests, built from plain dicts.

Defaults (chosen so the arithmetic is easy; every test docstring works its optimum out from them):

- product: 1e12 cells per unit; recipe yield 1e6 product cells per seed cell, so a unit needs
  1e6 seed cells; peak volume 1e-6 L per seed cell = 1 L per unit; medium 1e-5 L per seed cell =
  10 L per unit; EPO 1e-6 kU per seed cell = 1 kU per unit;
- reactor: 0-10 L working volume, so at most 10 units per batch; capital 100 USD/unit/day,
  operation 50 USD/day; no turnaround;
- prices: a lot of 1e7 cells costs 1000 USD (100 USD/unit), basal medium 2 USD/L (20 USD/unit),
  EPO 5 USD/kU (5 USD/unit): **125 USD per unit** of material; labour 10 USD per operation.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from bioplan.scenario import Scenario, scenario_from_dict

START = dt.date(2027, 1, 4)


def recipe(name: str, *, days: int = 7, product: str = "rbc", epo_kU_per_unit: float = 1.0,
           vessel: str = "stirred", card: str = "card-a", phases: list[tuple[str, int, str]] | None = None,
           ) -> dict[str, Any]:
    """A recipe row in the recipe-table format (one phase unless ``phases`` is given)."""
    phases = phases or [("culture", days, vessel)]
    row: dict[str, Any] = {
        "recipe": name, "card": card, "lineage": "erythroid" if product == "rbc" else "megakaryocytic",
        "product": product, "cell_source": "cord_blood", "n_phases": len(phases),
        "days": sum(p[1] for p in phases), "product_cells_per_seed_cell": 1.0e6,
        "fold_expansion": 1.0e6, "purity": 1.0, "enucleation": 0.9,
        "medium_L_per_seed_cell": 1.0e-5 * len(phases), "peak_volume_L_per_seed_cell": 1.0e-6,
        "cytokine_EPO_kU_per_seed_cell": 1.0e-6 * epo_kU_per_unit,
    }
    for k, (pname, pdays, pvessel) in enumerate(phases, start=1):
        row |= {f"phase{k}_name": pname, f"phase{k}_days": pdays, f"phase{k}_vessel_class": pvessel,
                f"phase{k}_peak_volume_L_per_seed_cell": 1.0e-6,
                f"phase{k}_medium_L_per_seed_cell": 1.0e-5}
    return row


def base(days: int = 28, *, product: str = "rbc", shelf: int = 42, release: int = 0,
         penalty: float = 1.0e6, units_owned: int = 1) -> dict[str, Any]:
    """One product, one owned 10 L stirred tank, one 7-day recipe, no demand yet."""
    return {
        "name": "t",
        "horizon": {"start_date": START, "days": days},
        "products": {product: {"cells_per_unit": 1.0e12, "shelf_life_days": shelf,
                               "release_delay_days": release,
                               "shortage_penalty_usd_per_unit": penalty}},
        "demand": {"records": []},
        "sources": {"cord_blood": {"cells_per_lot": 1.0e7, "cost_usd_per_lot": 1000,
                                   "cards": ["card-a", "card-b"]}},
        "recipes": [{"table": "inline.csv", "rows": [recipe("r/0", product=product)]}],
        "reactors": {"tank": {"working_volume_min_L": 0, "working_volume_max_L": 10,
                              "units_owned": units_owned, "capital_cost_usd_per_unit_day": 100,
                              "operating_cost_usd_per_day": 50, "turnaround_days": 0,
                              "vessel_classes": ["stirred"]}},
        "media": {"basal_price_usd_per_L": 2, "cytokine_price_usd_per_kU": {"EPO": 5}},
        "labour": {"cost_usd_per_operation": 10},
        "solver": {"time_limit_s": 20, "mip_gap": 1e-6, "threads": 1},
    }


def demand(raw: dict[str, Any], per_day: dict[int, float], product: str | None = None) -> dict[str, Any]:
    """Set daily demand ``{day: units}``."""
    out = copy.deepcopy(raw)
    product = product or next(iter(out["products"]))
    out["demand"] = {"records": [
        {"date": START + dt.timedelta(days=d), "product": product, "units": u}
        for d, u in sorted(per_day.items())]}
    return out


def build(raw: dict[str, Any]) -> Scenario:
    return scenario_from_dict(raw)
