"""The objective: one Pyomo Expression ``cost_<term>`` [k$] per term of the cost-term registry
(:data:`bioplan.contracts.COST_TERMS`), each built from the term's own coefficient function.

For a term with coefficient ``κ`` [USD per unit of its driver] (see :mod:`bioplan.contracts.costs`)::

    PRODUCT_UNITS  cost = Σ_s κ(use of one unit of option j_s) · x[s] / S + F        x [unit]
    BATCHES        cost = Σ_s κ(use of a batch of option j_s) · n[s] / S + F         n [batch]
    REACTOR_UNITS  cost = Σ_t κ(t) · (N_t + a_t) / S                                 N, a [unit]
    EXPIRED_UNITS  cost = Σ_{p,c: c expires inside the horizon} κ(p) · z[p,c] / S     z [unit]
    SHORT_UNITS    cost = Σ_{p,d} κ(p) · u[p,d] / S                                  u [unit]

with S = ``USD_SCALE`` [USD/k$] and F the fixed batches' cost of the term [k$]. A term with
``parts`` (cytokines) is the sum of one indexed Expression per part (``cost_cytokine[f]``).
"""

from __future__ import annotations

from typing import Any

import pyomo.core as pyo

from bioplan.contracts import COST_TERMS, CostTerm, Driver
from bioplan.optimisation.data import USD_SCALE, PlanData
from bioplan.optimisation.expressions import linear


def _driver(m: pyo.ConcreteModel, data: PlanData, term: CostTerm
            ) -> tuple[list[Any], list[Any], list[float]]:
    """(subjects, variables, constant variables' values) of ``term``'s driver."""
    if term.driver in (Driver.PRODUCT_UNITS, Driver.BATCHES):
        slots = list(m.SLOT)
        subjects = [data.options[data.slot_option[s]].unit_use for s in slots]
        var = m.slot_units if term.driver is Driver.PRODUCT_UNITS else m.slot_batches
        return subjects, [var[s] for s in slots], []
    if term.driver is Driver.REACTOR_UNITS:
        types = list(data.reactors)
        return types, [m.reactor_added[t] for t in types], [float(data.reactors[t].owned)
                                                             for t in types]
    if term.driver is Driver.EXPIRED_UNITS:
        expiring = [(p, c) for (p, c) in m.COHORT
                    if data.products[p].expiry_day(c) < data.horizon_days]
        return [p for p, _c in expiring], [m.cohort_left[k] for k in expiring], []
    return [p for p, _d in m.DEMAND], [m.demand_short[k] for k in m.DEMAND], []


def add_cost_expressions(m: pyo.ConcreteModel, data: PlanData) -> None:
    """One Expression ``cost_<term>`` per registered cost term [k$]; fixed batches add constants
    (see the module docstring for the equations)."""
    fixed = data.fixed_cost
    for term in COST_TERMS:
        subjects, variables, owned = _driver(m, data, term)
        if term.parts is not None:
            _add_parts(m, data, term, subjects, variables)
            continue
        coefs = [term.usd(data.prices, s) / USD_SCALE for s in subjects]
        constant = fixed.get(term.name, 0.0) + sum(
            c * n for c, n in zip(coefs, owned, strict=False))
        m.add_component(f"cost_{term.name}", pyo.Expression(expr=linear(coefs, variables, constant)))


def _add_parts(m: pyo.ConcreteModel, data: PlanData, term: CostTerm, subjects: list[Any],
               variables: list[Any]) -> None:
    """``cost_cytokine[f]`` per part and ``cost_cytokines`` = their sum [k$]."""
    assert term.parts is not None
    rows = [term.parts(data.prices, s) for s in subjects]
    names = [k.cost_row for k in data.cytokines]
    m.CYTOKINE = pyo.Set(initialize=[k.label for k in data.cytokines], ordered=True)
    by_label = dict(zip(m.CYTOKINE, names, strict=True))

    def part(_m: pyo.ConcreteModel, label: str) -> Any:
        row = by_label[label]
        return linear([r.get(row, 0.0) / USD_SCALE for r in rows], variables,
                      data.fixed_cost.get(row, 0.0))

    m.cost_cytokine = pyo.Expression(m.CYTOKINE, rule=part)
    m.add_component(f"cost_{term.name}", pyo.Expression(
        expr=sum(m.cost_cytokine[f] for f in m.CYTOKINE) + 0.0))


def add_objective(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Minimise total cost = the sum of the registered cost terms [k$]."""
    m.total_cost = pyo.Objective(
        expr=sum(getattr(m, f"cost_{term.name}") for term in COST_TERMS), sense=pyo.minimize)


def add_elastic_objective(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Minimise the priced elastic slacks Σ_k w_k Σ_i s_k[i] (w_k the registered weight)
    [weighted units]."""
    expr: Any = 0.0
    for slack in m.elastic_slacks:
        expr = expr + slack.weight * sum(getattr(m, slack.name).values())
    m.total_slack = pyo.Objective(expr=expr, sense=pyo.minimize)
