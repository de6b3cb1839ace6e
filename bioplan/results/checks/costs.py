"""The checker's own recomputation of every cost term (independent of the cost-term registry
on purpose) and the checks of ``cost_breakdown`` and ``cost_by_product`` against it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bioplan.contracts import TERM_NAMES as COST_TERMS
from bioplan.results.checks import view
from bioplan.results.checks.view import PlanView

if TYPE_CHECKING:
    from bioplan.results.plan import Plan


def recompute_costs(plan: Plan) -> dict[str, float]:
    """The objective's cost terms recomputed from the scenario and the plan tables [USD]
    (``COST_TERMS`` plus one ``cytokine:<FACTOR>`` entry per cytokine)."""
    v = PlanView.of(plan)
    sc = v.scenario
    costs = dict.fromkeys(COST_TERMS, 0.0)
    for b in v.batches:
        source, lots = view.batch_lots(v, b)
        if source is not None:
            costs["starting_material"] += lots * sc.sources[source].cost_usd_per_lot
        for phase in b.phases:
            costs["basal_medium"] += phase.medium_L * sc.media.basal_price_usd_per_L
            rtype = sc.reactors.get(phase.reactor_type)
            if rtype is not None:
                days = phase.end_day - phase.start_day
                costs["reactor_operation"] += days * rtype.operating_cost_usd_per_day
    for (factor, unit), amount in view.cytokine_totals(v).items():
        prices = sc.media.cytokine_price_usd_per_kU if unit == "kU" else (
            sc.media.cytokine_price_usd_per_mg)
        usd = amount * prices.get(factor, 0.0)
        costs[f"cytokine:{factor}"] = usd
        costs["cytokines"] += usd
    for name, size in v.fleet().items():
        costs["reactor_capital"] += size * sc.reactors[name].capital_cost_usd_per_unit_day * v.horizon
    costs["labour"] = sum(v.operations().values()) * sc.labour.cost_usd_per_operation
    for product, units in view.series(plan.expiries, "units", ["product"]).items():
        if product in v.products:
            costs["expiry_waste"] += units * v.products[product].expiry_cost_usd_per_unit
    for product, units in view.series(plan.shortages, "units", ["product"]).items():
        if product in v.products:
            costs["shortage_penalty"] += units * v.products[product].shortage_penalty_usd_per_unit
    return costs


def check_costs(v: PlanView) -> list[str]:
    """The ``COST_TERMS`` rows add up to the objective within 1e-6 relative, ``cytokine:<F>`` rows
    add up to ``cytokines``, and every term equals its recomputation from the tables."""
    found: list[str] = []
    breakdown = {str(k): float(x) for k, x in v.plan.cost_breakdown.items()}
    objective = v.plan.objective_usd
    missing = [t for t in COST_TERMS if t not in breakdown]
    if missing:
        found.append(f"terms {missing} missing")
    total = sum(breakdown.get(t, 0.0) for t in COST_TERMS)
    if objective is None or not math.isclose(total, objective, rel_tol=view.REL_TOL, abs_tol=1e-6):
        found.append(f"terms add up to {total:.10g} USD but the objective is {objective}")
    parts = [x for k, x in breakdown.items() if k.startswith("cytokine:")]
    if parts and not math.isclose(sum(parts), breakdown.get("cytokines", 0.0), rel_tol=view.REL_TOL,
                                  abs_tol=1e-6):
        found.append(f"cytokine:<F> rows add up to {sum(parts):.10g} but cytokines is "
                     f"{breakdown.get('cytokines', 0.0):.10g}")
    scale = max(abs(objective or 0.0), 1.0)
    for term, usd in recompute_costs(v.plan).items():
        if term.startswith("cytokine:") and term not in breakdown:
            continue
        got = breakdown.get(term, 0.0)
        if abs(got - usd) > view.REL_TOL * max(abs(got), abs(usd)) + 1e-9 * scale:
            found.append(f"{term} is {got:.10g} USD but recomputing from the tables gives "
                         f"{usd:.10g}")
    return view.listed("cost_breakdown", found)


def check_cost_by_product(v: PlanView) -> list[str]:
    """Costs allocated to products add up, term by term, to the cost breakdown (so costs per
    delivered unit account for every dollar); none is negative."""
    table = v.plan.cost_by_product
    if table is None or table.empty:
        return []
    found: list[str] = []
    allocated = view.series(table, "usd", ["term"])
    breakdown = {str(k): float(x) for k, x in v.plan.cost_breakdown.items()}
    scale = max(abs(v.plan.objective_usd or 0.0), 1.0)
    for term in COST_TERMS:
        got, expect = allocated.get(term, 0.0), breakdown.get(term, 0.0)
        if abs(got - expect) > view.REL_TOL * scale:
            found.append(f"{term}: products are allocated {got:.10g} USD but the term is "
                         f"{expect:.10g}")
    if (table["usd"].astype(float) < -view.REL_TOL * scale).any():
        found.append("negative allocations")
    return view.listed("cost_by_product", found)
