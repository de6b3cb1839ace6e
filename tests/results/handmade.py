"""A small scenario and a plan for it worked out by hand, every number written out.

Scenario (14 days from 2027-01-04):
- rbc: 2e12 cells/unit, shelf 42 d, release 1 d; platelet: 2e11 cells/dose, shelf 5 d, release 1 d,
  storage for 10 doses.
- recipe ``rbc/a`` (2 phases: 3 d expansion in a rocking bag, 5 d maturation in a stirred tank;
  1e6 product cells, 1.05e-4 L medium, 1e-4 kU EPO (all in the maturation) and 1e-8 mg SCF
  (all in the expansion) per seed cell);
  recipe ``plt/a`` (1 phase: 4 d in a turbulent reactor; 1e5 platelets, 2e-6 L, 5e-9 mg TPO).
- demand: platelets 1 on day 3, 1 on day 6, 1 on day 7; rbc 1 on day 12.

Plan:
- R1 = rbc/a, 2e6 seed cells (1 unit): rocking#1 days 0-3, stirred#1 (rented) days 3-8; produced
  day 8, released day 9, delivered day 12.
- P1 = plt/a, 4e6 seed cells (2 doses): turbulent#1 days 0-4; released day 5 (usable to day 8);
  delivered days 6 and 7.
- P2 = plt/a, 2e6 seed cells (1 dose): turbulent#2 days 1-5; released day 6 (usable to day 9);
  not needed, expires on day 10.
- The platelet demand of day 3 is short (nothing released yet).

Costs [USD]: starting material 0.4 lot × 1500 + 0.6 lot × 100 = 660; basal medium 222 L × 30 =
6660; cytokines EPO 200 kU × 13.33 = 2666 + SCF 0.02 mg × 2000 = 40 + TPO 0.03 mg × 3000 = 90 =
2796; reactor capital (1 × 10 + 1 × 100 + 2 × 30) × 14 = 2380; reactor operation 3 × 20 + 5 × 50 +
8 × 10 = 390; labour 7 operations × 200 = 1400; expiry 1 × 50 = 50; shortage 1 × 5000 = 5000;
total 19 336.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from bioplan.results import BATCH_COLUMNS, Plan, PlanStatus
from bioplan.scenario import Scenario, scenario_from_dict

HORIZON = 14

_RBC_RECIPE = {
    "recipe": "rbc/a", "card": "rbc-card", "lineage": "erythroid", "product": "rbc",
    "cell_source": "cord_blood", "n_phases": 2, "days": 8,
    "product_cells_per_seed_cell": 1.0e6, "medium_L_per_seed_cell": 1.05e-4,
    "peak_volume_L_per_seed_cell": 1.0e-4,
    "cytokine_EPO_kU_per_seed_cell": 1.0e-4, "cytokine_SCF_mg_per_seed_cell": 1.0e-8,
    "phase1_name": "expansion", "phase1_days": 3, "phase1_vessel_class": "rocking",
    "phase1_peak_volume_L_per_seed_cell": 5.0e-6, "phase1_medium_L_per_seed_cell": 5.0e-6,
    "phase2_name": "maturation", "phase2_days": 5, "phase2_vessel_class": "stirred",
    "phase2_peak_volume_L_per_seed_cell": 1.0e-4, "phase2_medium_L_per_seed_cell": 1.0e-4,
    # SCF in the expansion only, EPO in the maturation only
    "phase1_cytokine_EPO_kU_per_seed_cell": 0.0, "phase1_cytokine_SCF_mg_per_seed_cell": 1.0e-8,
    "phase2_cytokine_EPO_kU_per_seed_cell": 1.0e-4, "phase2_cytokine_SCF_mg_per_seed_cell": 0.0,
}
_PLT_RECIPE = {
    "recipe": "plt/a", "card": "plt-card", "lineage": "megakaryocytic", "product": "platelet",
    "cell_source": "ipsc", "n_phases": 1, "days": 4,
    "product_cells_per_seed_cell": 1.0e5, "medium_L_per_seed_cell": 2.0e-6,
    "peak_volume_L_per_seed_cell": 2.0e-6, "cytokine_TPO_mg_per_seed_cell": 5.0e-9,
    "phase1_name": "maturation", "phase1_days": 4, "phase1_vessel_class": "turbulent",
    "phase1_peak_volume_L_per_seed_cell": 2.0e-6, "phase1_medium_L_per_seed_cell": 2.0e-6,
}

SCENARIO: dict[str, Any] = {
    "name": "handmade",
    "horizon": {"start_date": "2027-01-04", "days": HORIZON},
    "products": {
        "rbc": {"cells_per_unit": 2.0e12, "shelf_life_days": 42, "release_delay_days": 1,
                "shortage_penalty_usd_per_unit": 10000, "expiry_cost_usd_per_unit": 100},
        "platelet": {"cells_per_unit": 2.0e11, "shelf_life_days": 5, "release_delay_days": 1,
                     "shortage_penalty_usd_per_unit": 5000, "expiry_cost_usd_per_unit": 50,
                     "storage_capacity_units": 10},
    },
    "demand": {"records": [
        {"date": "2027-01-07", "product": "platelet", "units": 1},
        {"date": "2027-01-10", "product": "platelet", "units": 1},
        {"date": "2027-01-11", "product": "platelet", "units": 1},
        {"date": "2027-01-16", "product": "rbc", "units": 1},
    ]},
    "sources": {
        "cord_blood": {"cells_per_lot": 5.0e6, "lots_per_week": 2, "cost_usd_per_lot": 1500,
                       "cards": ["rbc-card"]},
        "ipsc_bank": {"cells_per_lot": 1.0e7, "cost_usd_per_lot": 100, "cards": ["plt-card"]},
    },
    "recipes": [{"table": "inline", "rows": [_RBC_RECIPE, _PLT_RECIPE]}],
    "reactors": {
        "rocking-50L": {"working_volume_min_L": 1, "working_volume_max_L": 50, "units_owned": 1,
                        "capital_cost_usd_per_unit_day": 10, "operating_cost_usd_per_day": 20,
                        "turnaround_days": 1, "vessel_classes": ["rocking"]},
        "stirred-500L": {"working_volume_min_L": 50, "working_volume_max_L": 500,
                         "max_additional_units": 1, "capital_cost_usd_per_unit_day": 100,
                         "operating_cost_usd_per_day": 50, "turnaround_days": 1,
                         "vessel_classes": ["stirred"]},
        "turbulent-8L": {"working_volume_min_L": 1, "working_volume_max_L": 8, "units_owned": 2,
                         "capital_cost_usd_per_unit_day": 30, "operating_cost_usd_per_day": 10,
                         "vessel_classes": ["turbulent"],
                         "maintenance": [{"unit": 2, "start_date": "2027-01-14", "days": 2}]},
    },
    "media": {"basal_price_usd_per_L": 30,
              "cytokine_price_usd_per_mg": {"SCF": 2000, "TPO": 3000},
              "cytokine_price_usd_per_kU": {"EPO": 13.33},
              "prep_capacity_L_per_day": 300},
    "labour": {"operations_per_day": 3, "cost_usd_per_operation": 200},
}


def scenario(changes: dict[str, Any] | None = None) -> Scenario:
    """The hand-made scenario, with dotted-path ``changes`` (``{"labour.operations_per_day": 1}``)."""
    return scenario_from_dict(copy.deepcopy(SCENARIO), overrides=changes)


# batch_id, product, recipe, phase, reactor_type, unit, start, end, seed, units, medium_L,
# cytokine_mg, epo_kU (R1: 0.02 mg SCF in the expansion, 200 kU EPO in the maturation)
BATCH_ROWS = [
    ("R1", "rbc", "rbc/a", "expansion", "rocking-50L", 1, 0, 3, 2e6, 1.0, 10.0, 0.02, 0.0),
    ("R1", "rbc", "rbc/a", "maturation", "stirred-500L", 1, 3, 8, 2e6, 1.0, 200.0, 0.0, 200.0),
    ("P1", "platelet", "plt/a", "maturation", "turbulent-8L", 1, 0, 4, 4e6, 2.0, 8.0, 0.02, 0.0),
    ("P2", "platelet", "plt/a", "maturation", "turbulent-8L", 2, 1, 5, 2e6, 1.0, 4.0, 0.01, 0.0),
]
_FACTOR = {("R1", "expansion"): "SCF_mg", ("R1", "maturation"): "EPO_kU", ("P1", "maturation"): "TPO_mg",
           ("P2", "maturation"): "TPO_mg"}
"""The one factor each phase row uses."""


def batches_table(rows: list[tuple[Any, ...]] = BATCH_ROWS) -> pd.DataFrame:
    frame = pd.DataFrame([r[1:] for r in rows], columns=BATCH_COLUMNS,
                         index=pd.Index([r[0] for r in rows], name="batch_id"))
    return frame


def _units(rows: list[tuple[Any, ...]], names: list[str]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([r[:-1] for r in rows], names=names)
    return pd.DataFrame({"units": [float(r[-1]) for r in rows]}, index=index)


def _occupancy() -> pd.DataFrame:
    # busy days (phase + turnaround): rocking#1 0-3; stirred#1 3-8; turbulent#1 0-3, #2 1-4
    busy = {"rocking-50L": {0, 1, 2, 3}, "stirred-500L": {3, 4, 5, 6, 7, 8}}
    rows = []
    for day in range(HORIZON):
        rows.append((day, "rocking-50L", int(day in busy["rocking-50L"]), 1))
        rows.append((day, "stirred-500L", int(day in busy["stirred-500L"]), 1))
        turb = int(day <= 3) + int(1 <= day <= 4)
        rows.append((day, "turbulent-8L", turb, 1 if day in (10, 11) else 2))
    index = pd.MultiIndex.from_tuples([r[:2] for r in rows], names=["day", "reactor_type"])
    return pd.DataFrame({"units_busy": [r[2] for r in rows],
                         "units_available": [r[3] for r in rows]}, index=index)


def _media_use() -> pd.DataFrame:
    # medium and each phase's own cytokines spread evenly over the phase's days
    frame = pd.DataFrame({"medium_L": 0.0, "EPO_kU": 0.0, "SCF_mg": 0.0, "TPO_mg": 0.0},
                         index=pd.Index(range(HORIZON), name="day"))
    for bid, _p, _r, phase, *_u, start, end, _seed, _units, litres, mg, kU in BATCH_ROWS:
        for day in range(start, end):
            frame.loc[day, "medium_L"] += litres / (end - start)
            frame.loc[day, _FACTOR[(bid, phase)]] += (mg + kU) / (end - start)
    return frame


COSTS = {
    "starting_material": 660.0, "basal_medium": 6660.0, "cytokines": 2796.0,
    "reactor_capital": 2380.0, "reactor_operation": 390.0, "labour": 1400.0,
    "expiry_waste": 50.0, "shortage_penalty": 5000.0,
    "cytokine:EPO": 2666.0, "cytokine:SCF": 40.0, "cytokine:TPO": 90.0,
}
OBJECTIVE = 19336.0


def plan(sc: Scenario | None = None) -> Plan:
    """The hand-worked optimal-looking plan (checker must find nothing wrong with it)."""
    inventory = (
        [(d, "rbc", 9, 1.0) for d in (9, 10, 11)]
        + [(5, "platelet", 5, 2.0), (6, "platelet", 5, 1.0)]
        + [(d, "platelet", 6, 1.0) for d in (6, 7, 8, 9)]
    )
    capacity = pd.DataFrame(
        {"units_owned": [1, 0, 2], "units_added": [0, 1, 0],
         "acquisition": ["rent", "rent", "rent"]},
        index=pd.Index(["rocking-50L", "stirred-500L", "turbulent-8L"], name="reactor_type"))
    return Plan(
        scenario=sc or scenario(),
        status=PlanStatus.OPTIMAL,
        objective_usd=OBJECTIVE,
        bound_usd=OBJECTIVE,
        gap=0.0,
        batches=batches_table(),
        deliveries=_units([(6, "platelet", 5, 1), (7, "platelet", 5, 1), (12, "rbc", 9, 1)],
                          ["day", "product", "cohort_day"]),
        shortages=_units([(3, "platelet", 1)], ["day", "product"]),
        expiries=_units([(10, "platelet", 1)], ["day", "product"]),
        inventory=_units(inventory, ["day", "product", "cohort_day"]),
        occupancy=_occupancy(),
        media_use=_media_use(),
        capacity=capacity,
        cost_breakdown=pd.Series(COSTS, name="usd").rename_axis("term"),
        cost_by_product=_cost_by_product(),
    )


def _cost_by_product() -> pd.DataFrame:
    # direct costs by batch; capital of the rocking bag and the tank to rbc, turbulent to platelet
    rows = {
        ("rbc", "starting_material"): 600.0, ("platelet", "starting_material"): 60.0,
        ("rbc", "basal_medium"): 6300.0, ("platelet", "basal_medium"): 360.0,
        ("rbc", "cytokines"): 2706.0, ("platelet", "cytokines"): 90.0,
        ("rbc", "reactor_capital"): 1540.0, ("platelet", "reactor_capital"): 840.0,
        ("rbc", "reactor_operation"): 310.0, ("platelet", "reactor_operation"): 80.0,
        ("rbc", "labour"): 600.0, ("platelet", "labour"): 800.0,
        ("platelet", "expiry_waste"): 50.0, ("platelet", "shortage_penalty"): 5000.0,
    }
    index = pd.MultiIndex.from_tuples(list(rows), names=["product", "term"])
    return pd.DataFrame({"usd": list(rows.values())}, index=index)
