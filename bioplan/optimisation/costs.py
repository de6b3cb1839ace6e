"""Named cost expressions [k$] and the objective that is their sum."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from bioplan.optimisation.data import PlanData
from bioplan.optimisation.terms import linear

COST_TERMS = (
    "starting_material", "basal_medium", "cytokines", "reactor_capital", "reactor_operation",
    "labour", "expiry_waste", "shortage_penalty",
)
"""The objective's terms; each is the Pyomo Expression ``cost_<term>`` [k$]."""

ELASTIC_WEIGHTS = {
    "reactor_extra_units": 1.0,
    "source_extra_lots": 1.0,
    "media_extra_L": 1e-3,
    "labour_extra_operations": 1.0,
    "storage_extra_units": 1.0,
    "service_missing_units": 1e3,
}
"""Price of each elastic slack in the infeasibility re-solve [per unit of the slack]: missing the
service level is the last resort, so the re-solve first says which resource would have to grow."""


def add_cost_expressions(m: Any, data: PlanData) -> None:
    """One Expression per cost term [k$]; fixed batches add constants.

    - ``cost_starting_material = Σ_s c_q ℓ_j x[s]`` (c_q [k$/lot], ℓ_j [lot/unit], x [unit])
    - ``cost_basal_medium = c_L Σ_s μ_j x[s]`` (c_L [k$/L], μ_j [L/unit])
    - ``cost_cytokine[f] = c_f Σ_s κ_{jf} x[s]`` (c_f [k$/mg or k$/kU], κ [mg or kU/unit]);
      ``cost_cytokines = Σ_f cost_cytokine[f]``
    - ``cost_reactor_capital = Σ_t c_t H (N_t + a_t)`` (c_t [k$/unit/day], H [day], N, a [unit])
    - ``cost_reactor_operation = Σ_s (Σ_k o_{t_k} D_k) n[s]`` (o [k$/day], D_k [day], n [batch])
    - ``cost_labour = c_op Σ_s (K_j + 1) n[s]`` (c_op [k$/operation], K_j phases)
    - ``cost_expiry_waste = Σ_{p,c: c+life < H} w_p z[p,c]`` (w [k$/unit], z [unit])
    - ``cost_shortage_penalty = Σ_{p,d} π_p u[p,d]`` (π [k$/unit], u [unit])
    """
    fixed = data.fixed_cost
    slots = list(m.SLOT)
    opts = [data.options[data.slot_option[s]] for s in slots]
    units = [m.slot_units[s] for s in slots]
    batches = [m.slot_batches[s] for s in slots]
    m.cost_starting_material = pyo.Expression(expr=linear(
        [o.lots_per_unit * data.source_cost_per_lot[o.source] for o in opts], units,
        fixed.get("starting_material", 0.0)))
    m.cost_basal_medium = pyo.Expression(expr=linear(
        [o.medium_L_per_unit * data.basal_price for o in opts], units,
        fixed.get("basal_medium", 0.0)))
    m.CYTOKINE = pyo.Set(initialize=data.cytokines, ordered=True)

    def cytokine(m: Any, f: str) -> Any:
        factor = f.rsplit("_", 1)[0]
        return linear([o.cytokine_per_unit[f] * data.cytokine_price[f] for o in opts], units,
                      fixed.get(f"cytokine:{factor}", 0.0))

    m.cost_cytokine = pyo.Expression(m.CYTOKINE, rule=cytokine)
    m.cost_cytokines = pyo.Expression(expr=sum(m.cost_cytokine[f] for f in m.CYTOKINE) + 0.0)
    horizon = data.horizon_days
    reactors = list(data.reactors.values())
    m.cost_reactor_capital = pyo.Expression(expr=linear(
        [r.capital_cost_per_day * horizon for r in reactors],
        [m.reactor_added[r.name] for r in reactors],
        sum(r.capital_cost_per_day * horizon * r.owned for r in reactors)))
    m.cost_reactor_operation = pyo.Expression(expr=linear(
        [sum(data.reactors[ph.reactor_type].operating_cost_per_day * ph.days for ph in o.phases)
         for o in opts], batches, fixed.get("reactor_operation", 0.0)))
    m.cost_labour = pyo.Expression(expr=linear(
        [o.operations * data.operation_cost for o in opts], batches, fixed.get("labour", 0.0)))
    expiring = [(p, c) for (p, c) in m.COHORT if c + data.products[p].life_days < horizon]
    m.cost_expiry_waste = pyo.Expression(expr=linear(
        [data.products[p].expiry_cost for (p, _c) in expiring],
        [m.cohort_left[k] for k in expiring]))
    m.cost_shortage_penalty = pyo.Expression(expr=linear(
        [data.products[p].shortage_penalty for (p, _d) in m.DEMAND],
        [m.demand_short[k] for k in m.DEMAND]))


def add_objective(m: Any, data: PlanData) -> None:
    """Minimise total cost = the sum of the named cost terms [k$]."""
    m.total_cost = pyo.Objective(
        expr=sum(getattr(m, f"cost_{term}") for term in COST_TERMS), sense=pyo.minimize)


def add_elastic_objective(m: Any, data: PlanData) -> None:
    """Minimise the priced elastic slacks (how far the hard limits must give) [weighted units]."""
    expr: Any = 0.0
    for name in m.elastic_slacks:
        var = getattr(m, name)
        expr = expr + ELASTIC_WEIGHTS.get(name, 1.0) * sum(var.values())
    m.total_slack = pyo.Objective(expr=expr, sense=pyo.minimize)
