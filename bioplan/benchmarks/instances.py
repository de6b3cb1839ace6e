"""Generated planning instances S, M and L for the planner benchmark.

Deterministic (seeded) and independent of the yield cards, so benchmark figures move only when the
planner does. Each instance has two products (RBC units, platelet doses) with a weekday/weekend
demand pattern, a seed train (static expansion, then stirred or turbulent maturation), several
reactor types per vessel class, limited donor starting material and a cell bank, and recipe
variants that trade days against medium, cytokines and yield — the choices the planner makes.

==== ====== ======== ========= =========================================
size  days  reactors  recipes  notes
==== ====== ======== ========= =========================================
S      90      4        10     one unit of each type
M     180     16        30
L     365     48        60
==== ====== ======== ========= =========================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from bioplan.scenario import Scenario, scenario_from_dict

START = dt.date(2027, 1, 4)  # a Monday


@dataclass(frozen=True)
class Size:
    name: str
    days: int
    reactors: int
    recipes: int


SIZES = {
    "S": Size("S", 90, 4, 10),
    "M": Size("M", 180, 16, 30),
    "L": Size("L", 365, 48, 60),
}

# reactor types: (name, vessel class, working volume min/max [L], share of the fleet,
# capital [USD/unit/day], operation [USD/day], turnaround [day])
_TYPES = [
    ("grex-5L", "static", 0.1, 5.0, 0.375, 20, 60, 0),
    ("stirred-200L", "stirred", 20, 200, 0.125, 300, 350, 1),
    ("stirred-1000L", "stirred", 100, 1000, 0.25, 900, 800, 2),
    ("vermes-50L", "turbulent", 5, 50, 0.25, 250, 300, 1),
]
_S_FLEET = {"grex-5L": 2, "stirred-200L": 0, "stirred-1000L": 1, "vermes-50L": 1}
"""S is too small for the shares: two expansion vessels, one tank, one platelet reactor."""


def _recipe(rng: np.random.Generator, k: int, product: str) -> dict[str, Any]:
    """One recipe variant: expansion (static vessel) then maturation (stirred or turbulent).

    Numbers are drawn per product unit and converted to the per-seed-cell columns of a recipe
    table: longer cultures and more cytokine give more product per seed cell.
    """
    if product == "rbc":
        exp_days, mat_days = int(rng.integers(5, 9)), int(rng.integers(8, 13))
        cells_per_unit = 2.0e12
        fold = 10 ** rng.uniform(4.6, 5.2) * (1 + 0.05 * (exp_days + mat_days - 15))
        peak1_unit, peak2_unit = rng.uniform(1.0, 3.0), rng.uniform(150, 400)   # L per unit
        vessel, card = "stirred", "gen-erythroid"
        cytokines = {"EPO_kU": rng.uniform(20, 80), "SCF_mg": rng.uniform(0.5, 2.0)}  # per unit
    else:
        exp_days, mat_days = int(rng.integers(4, 7)), int(rng.integers(4, 7))
        cells_per_unit = 2.4e11
        fold = 10 ** rng.uniform(2.6, 3.2) * (1 + 0.05 * (exp_days + mat_days - 10))
        peak1_unit, peak2_unit = rng.uniform(0.1, 0.3), rng.uniform(5, 15)
        vessel, card = "turbulent", "gen-mk"
        cytokines = {"TPO_mg": rng.uniform(0.5, 2.0), "SCF_mg": rng.uniform(0.2, 1.0)}
    # more cytokine per unit buys yield: scale the fold with the cytokine draw
    seed_per_unit = cells_per_unit / fold
    med1_unit, med2_unit = 1.5 * peak1_unit * exp_days / 4, 1.5 * peak2_unit
    per_seed = 1.0 / seed_per_unit
    row: dict[str, Any] = {
        "recipe": f"{card}/{k}", "card": card,
        "lineage": "erythroid" if product == "rbc" else "megakaryocytic", "product": product,
        "cell_source": "generated", "n_phases": 2, "days": exp_days + mat_days,
        "product_cells_per_seed_cell": fold, "fold_expansion": fold, "purity": 0.9,
        "enucleation": 0.8 if product == "rbc" else float("nan"),
        "medium_L_per_seed_cell": (med1_unit + med2_unit) * per_seed,
        "peak_volume_L_per_seed_cell": peak2_unit * per_seed,
        "phase1_name": "expansion", "phase1_days": exp_days, "phase1_vessel_class": "static",
        "phase1_peak_volume_L_per_seed_cell": peak1_unit * per_seed,
        "phase1_medium_L_per_seed_cell": med1_unit * per_seed,
        "phase2_name": "maturation", "phase2_days": mat_days, "phase2_vessel_class": vessel,
        "phase2_peak_volume_L_per_seed_cell": peak2_unit * per_seed,
        "phase2_medium_L_per_seed_cell": med2_unit * per_seed,
    }
    for key, per_unit in cytokines.items():
        factor, unit = key.split("_")
        row[f"cytokine_{factor}_{unit}_per_seed_cell"] = per_unit * per_seed
    return row


def generate(size: str, seed: int = 0) -> Scenario:
    """The benchmark instance ``size`` (S, M or L)."""
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    n_rbc = spec.recipes // 2
    rows = [_recipe(rng, k, "rbc") for k in range(n_rbc)]
    rows += [_recipe(rng, k, "platelet") for k in range(spec.recipes - n_rbc)]
    columns = sorted({c for r in rows for c in r if c.startswith("cytokine_")})
    for r in rows:
        for c in columns:
            r.setdefault(c, 0.0)
    scale = spec.reactors / 4
    reactors = {}
    for name, vessel, vmin, vmax, share, capital, operation, turnaround in _TYPES:
        units = _S_FLEET[name] if size == "S" else round(spec.reactors * share)
        reactors[name] = {
            "working_volume_min_L": vmin, "working_volume_max_L": vmax,
            "units_owned": units, "max_additional_units": max(1, units // 2),
            "acquisition": "rent", "capital_cost_usd_per_unit_day": capital,
            "operating_cost_usd_per_day": operation, "turnaround_days": turnaround,
            "vessel_classes": [vessel],
        }
    records = []
    for day in range(spec.days):
        weekday = (START + dt.timedelta(days=day)).weekday()
        weekend = weekday >= 5
        records.append({"date": START + dt.timedelta(days=day), "product": "rbc",
                        "units": (0.05 if weekend else 0.25) * scale})
        records.append({"date": START + dt.timedelta(days=day), "product": "platelet",
                        "units": (0.25 if weekend else 0.7) * scale})
    raw = {
        "name": f"bench-{size}",
        "description": f"generated benchmark instance {size}",
        "horizon": {"start_date": START, "days": spec.days},
        "products": {
            "rbc": {"cells_per_unit": 2.0e12, "shelf_life_days": 42, "release_delay_days": 2,
                    "shortage_penalty_usd_per_unit": 60000, "expiry_cost_usd_per_unit": 250,
                    "storage_capacity_units": 20 * scale, "initial_inventory_units": 3 * scale},
            "platelet": {"cells_per_unit": 2.4e11, "shelf_life_days": 5, "release_delay_days": 1,
                         "shortage_penalty_usd_per_unit": 20000, "expiry_cost_usd_per_unit": 100,
                         "storage_capacity_units": 15 * scale},
        },
        "demand": {"records": records},
        "sources": {
            "donor": {"cells_per_lot": 1.0e8, "lots_per_week": 3 * scale,
                      "cost_usd_per_lot": 300, "cards": ["gen-erythroid"]},
            "bank": {"cells_per_lot": 1.0e9, "lots_per_week": None, "cost_usd_per_lot": 3000,
                     "cards": ["gen-mk"]},
        },
        "recipes": [{"table": "generated.csv", "rows": rows}],
        "reactors": reactors,
        "media": {"basal_price_usd_per_L": 30,
                  "cytokine_price_usd_per_mg": {"SCF": 2000, "TPO": 3000},
                  "cytokine_price_usd_per_kU": {"EPO": 13},
                  "prep_capacity_L_per_day": 300 * scale},
        "labour": {"operations_per_day": int(2 * scale) + 1, "cost_usd_per_operation": 150},
        "solver": {"time_limit_s": 60, "mip_gap": 0.01, "threads": 1},
    }
    return scenario_from_dict(raw)
