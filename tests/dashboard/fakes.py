"""A small hand-made scenario and plan, so chart and support tests do not need the solver."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from bioplan.results import BATCH_COLUMNS, Plan, PlanStatus
from bioplan.scenario import Scenario


def scenario_dict() -> dict[str, Any]:
    return {
        "name": "tiny",
        "description": "two products, two reactor types",
        "horizon": {"start_date": "2027-01-04", "days": 28},
        "products": {
            "rbc": {"cells_per_unit": 2e12, "shelf_life_days": 42, "shortage_penalty_usd_per_unit": 5000},
            "platelet": {"cells_per_unit": 2.4e11, "shelf_life_days": 5,
                         "shortage_penalty_usd_per_unit": 3000},
        },
        "demand": {"records": [
            {"date": "2027-01-20", "product": "rbc", "units": 4},
            {"date": "2027-01-25", "product": "platelet", "units": 3},
        ]},
        "sources": {"cord": {"cells_per_lot": 5e6, "cost_usd_per_lot": 2000,
                             "cards": ["card-e", "card-m"]}},
        "recipes": [{"card": "card-e", "variants": {"expansion.EPO": [1.0, 3.0]}}, {"card": "card-m"}],
        "reactors": {
            "rocking-50L": {"working_volume_min_L": 1, "working_volume_max_L": 50, "units_owned": 2,
                            "turnaround_days": 2, "vessel_classes": ["rocking"]},
            "vrb-10L": {"working_volume_min_L": 1, "working_volume_max_L": 10, "units_owned": 1,
                        "max_additional_units": 2, "vessel_classes": ["turbulent"]},
        },
        "media": {"basal_price_usd_per_L": 50, "cytokine_price_usd_per_mg": {"SCF": 300},
                  "cytokine_price_usd_per_kU": {"EPO": 8}},
    }


def scenario() -> Scenario:
    return Scenario.model_validate(scenario_dict())  # schema checks only: no yield cards needed


def plan(status: PlanStatus = PlanStatus.OPTIMAL, scale: float = 1.0) -> Plan:
    scn = scenario()
    batches = pd.DataFrame(
        [
            ["rbc", "card-e/0", "expansion", "rocking-50L", 1, 0, 7, 1e6, 4.0, 30.0, 2.0, 3.0],
            ["rbc", "card-e/0", "maturation", "rocking-50L", 2, 7, 18, 1e6, 4.0, 40.0, 1.0, 0.0],
            ["platelet", "card-m/0", "mk", "vrb-10L", 1, 10, 22, 5e5, 3.0, 8.0, 0.5, 0.0],
        ],
        columns=BATCH_COLUMNS,
        index=pd.Index(["B1-1", "B1-2", "B2-1"], name="batch_id"),
    )
    idx3 = ["day", "product", "cohort_day"]
    inventory = pd.DataFrame({"day": [18, 19, 22, 23], "product": ["rbc", "rbc", "platelet", "platelet"],
                              "cohort_day": [18, 18, 22, 22], "units": [4.0, 4.0, 3.0, 3.0]}).set_index(idx3)
    deliveries = pd.DataFrame({"day": [16, 21], "product": ["rbc", "platelet"], "cohort_day": [18, 22],
                               "units": [4.0, 2.0]}).set_index(idx3)
    shortages = pd.DataFrame({"day": [21], "product": ["platelet"], "units": [1.0]}).set_index(["day", "product"])
    expiries = pd.DataFrame({"day": [27], "product": ["platelet"], "units": [1.0]}).set_index(["day", "product"])
    costs = pd.Series({"starting_material": 4000.0 * scale, "basal_medium": 3900.0, "cytokines": 2500.0,
                       "reactor_capital": 1000.0, "shortage_penalty": 3000.0}, name="usd")
    costs.index.name = "term"
    cbp = pd.DataFrame({"product": ["rbc", "rbc", "platelet", "platelet"],
                        "term": ["starting_material", "basal_medium", "starting_material", "cytokines"],
                        "usd": [2000.0 * scale, 3500.0, 2000.0, 2500.0]}).set_index(["product", "term"])
    capacity = pd.DataFrame({"units_owned": [2, 1], "units_added": [0, 1], "acquisition": ["rent", "rent"]},
                            index=pd.Index(["rocking-50L", "vrb-10L"], name="reactor_type"))
    return Plan(scenario=scn, status=status, objective_usd=float(costs.sum()), bound_usd=float(costs.sum()),
                gap=0.0, message="test plan", timings={"total": 0.1}, batches=batches, deliveries=deliveries,
                shortages=shortages, expiries=expiries, inventory=inventory, cost_breakdown=costs,
                cost_by_product=cbp, capacity=capacity)


START = dt.date(2027, 1, 4)


RECIPE_ROWS = [
    {"recipe": "hand-e/0", "card": "hand-e", "product": "rbc", "days": 18, "n_phases": 1,
     "product_cells_per_seed_cell": 1e6, "medium_L_per_seed_cell": 1e-6,
     "peak_volume_L_per_seed_cell": 2e-7, "phase1_name": "all", "phase1_days": 18,
     "phase1_vessel_class": "rocking", "phase1_peak_volume_L_per_seed_cell": 2e-7,
     "phase1_medium_L_per_seed_cell": 1e-6},
    {"recipe": "hand-m/0", "card": "hand-m", "product": "platelet", "days": 12, "n_phases": 1,
     "product_cells_per_seed_cell": 5e5, "medium_L_per_seed_cell": 2e-6,
     "peak_volume_L_per_seed_cell": 3e-7, "phase1_name": "all", "phase1_days": 12,
     "phase1_vessel_class": "turbulent", "phase1_peak_volume_L_per_seed_cell": 3e-7,
     "phase1_medium_L_per_seed_cell": 2e-6},
]


def standalone_dict() -> dict[str, Any]:
    """A scenario that needs no yield cards (hand-made recipe rows inline)."""
    data = scenario_dict()
    data["name"] = "standalone"
    data["recipes"] = [{"rows": RECIPE_ROWS}]
    data["sources"] = {"cord": {"cells_per_lot": 5e6, "cost_usd_per_lot": 2000,
                                "cards": ["hand-e", "hand-m"]}}
    return data


def standalone_yaml() -> bytes:
    import yaml

    return yaml.safe_dump(standalone_dict(), sort_keys=False).encode()
