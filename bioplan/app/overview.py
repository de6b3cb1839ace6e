"""Headline figures and tables of one plan, formatted for reading."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from bioplan.formatting import money

if TYPE_CHECKING:
    from bioplan.results import Plan

UNIT_NAMES = {"rbc": "RBC unit", "platelet": "platelet dose"}
"""What one transfusion unit of each product is called."""


def plan_overview(plan: Plan) -> list[tuple[str, str, str]]:
    """Headline figures as ``(label, formatted value, help)``: status and gap, total cost, cost per
    delivered unit by product, service level, expired units, reactors added."""
    rows: list[tuple[str, str, str]] = []
    rows.append(("Status", str(plan.status), plan.message or "Solver outcome."))
    gap = "—" if plan.gap is None or not math.isfinite(plan.gap) else f"{plan.gap:.2%}"
    rows.append(("Gap", gap, "Relative MIP gap: how far the plan's cost may be above the optimum."))
    if not plan.has_solution:
        return rows
    rows.append(("Total cost", money(plan.objective_usd), "Objective: every cost term summed [USD]."))
    kpis = plan.kpis()
    demanded = float(kpis["units_demanded"].sum())
    delivered = float(kpis["units_delivered"].sum())
    level = delivered / demanded if demanded > 0 else float("nan")
    detail = ", ".join(f"{p} {v:.1%}" for p, v in kpis["service_level"].dropna().items())
    rows.append(("Service level", "—" if math.isnan(level) else f"{level:.1%}",
                 f"Delivered / demanded units over the horizon ({detail})."))
    for product, row in kpis.iterrows():
        unit = UNIT_NAMES.get(str(product), f"{product} unit")
        rows.append((f"Cost / {unit}", money(row["cost_usd_per_delivered_unit"]),
                     f"Allocated cost per delivered {unit} [USD/unit]."))
    rows.append(("Expired units", f"{float(kpis['units_expired'].sum()):,.1f}",
                 "Units that reached the end of their shelf life undelivered."))
    added = int(plan.capacity["units_added"].sum()) if not plan.capacity.empty else 0
    rows.append(("Reactors added", f"{added}", "Units bought or rented on top of those owned."))
    return rows


def kpi_frame(plan: Plan) -> pd.DataFrame:
    """Per-product KPI table for display (empty when the plan has no solution)."""
    if not plan.has_solution:
        return pd.DataFrame()
    return plan.kpis()


def cost_table(plan: Plan) -> pd.DataFrame:
    """Cost terms [USD] with their share of the total, then the ``total`` row, then the cytokine
    sub-rows (``cytokine:<F>``, part of ``cytokines``: their shares do not add to the terms')."""
    from bioplan.results import COST_TERMS

    costs = plan.cost_breakdown.astype(float)
    main = costs[[t for t in costs.index if t in COST_TERMS]]
    subs = costs[[t for t in costs.index if t not in COST_TERMS]]
    total = float(main.sum())
    frame = pd.concat([main, pd.Series({"total": total}), subs]).to_frame("usd")
    frame["share"] = frame["usd"] / total if total else float("nan")
    frame.index.name = "term"
    return frame
