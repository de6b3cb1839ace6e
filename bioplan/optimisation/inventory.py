"""Constraint groups on product flows: cohorts, demand, storage and service level.

A *cohort* is the set of units that become available (released after testing) on one day. Shelf
life counts from harvest, so the release delay eats into it: a cohort released on day c can be
delivered on days ``c .. c + life − 1`` with ``life = shelf life − release delay`` [day]; what is
left leaves the stock on day ``c + life`` (an expiry, if that day is inside the horizon).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.core as pyo

from bioplan.contracts import Products, Shape, Slack
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.expressions import elastic_slack, linear, total

STORAGE_SLACK = Slack(
    "storage_extra_units", 1.0, "storage {key}", "units", Shape.KEY_DAY,
    "{key} storage over capacity by up to {amount:.3g} units on days {first}-{last} "
    "(capacity {limit} units; stock held between release and delivery)",
    Products.KEY, "{item.storage_capacity:g}", "products")
"""Units held beyond a product's storage capacity (elastic re-solve only)."""
SERVICE_SLACK = Slack(
    "service_missing_units", 1e3, "service level", "units", Shape.KEY,
    "{key}: even with the resources above, {amount:.3g} units short of the minimum "
    "service level {limit} (short on days {first}-{last}: demand before batches can be "
    "released, or no recipe can serve it within its shelf life)",
    Products.KEY, "{item.min_service_level:g}", "products")
"""Units a minimum service level is missed by: the last resort (weight 1e3), so the re-solve
first says which resource would have to grow."""


def _release_terms(m: pyo.ConcreteModel, data: PlanData) -> dict[tuple[str, int], list[Any]]:
    """What releases into each (product, cohort day): the whole units packaged that day in a
    ``packaging`` model, else the units grown by each slot released that day."""
    if getattr(m, "packaging", False):
        return {(p, c): [m.cohort_packaged[p, c]] for (p, c) in m.RELEASE}
    terms: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for s in m.SLOT:
        opt = data.options[data.slot_option[s]]
        terms[(opt.product, data.slot_release_day(s))].append(m.slot_units[s])
    return terms


def add_cohort_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Every released unit is delivered within its shelf life or left over.

    ``Σ_{d=c}^{c+life−1} y[p,c,d] + z[p,c] = k[p,c] + R[p,c]``  (``Σ_{s released on c} x[s]``
    in place of ``k[p,c]`` in the main solve, which is not in whole units)

    - ``y[p,c,d]`` units of cohort c delivered on day d [unit];
    - ``z[p,c]``   units of cohort c never delivered [unit]: expired on day ``c + life`` if that
      is inside the horizon (costed), otherwise still in stock at the horizon end;
    - ``k[p,c]``   whole units packaged by the batches released on day c [unit];
    - ``x[s]``     units grown by the batches of slot s [unit];
    - ``R[p,c]``   initial stock (cohort 0) and units of fixed batches [unit].
    """
    release = _release_terms(m, data)
    out: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for (p, c, d) in m.DELIVERY:
        out[(p, c)].append(m.cohort_delivered[p, c, d])

    def rule(m: pyo.ConcreteModel, p: str, c: int) -> Any:
        made = release.get((p, c), [])
        body = total([*out.get((p, c), []), m.cohort_left[p, c]])
        return body == total(made, data.products[p].fixed_release.get(c, 0.0))

    m.cohort_balance = pyo.Constraint(m.COHORT, rule=rule)


def add_demand_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Demand is delivered from released cohorts or counted short.

    ``Σ_c y[p,c,d] + u[p,d] = D[p,d]``

    - ``y[p,c,d]`` units of cohort c delivered on day d [unit];
    - ``u[p,d]``   unmet demand [unit] (priced in the objective);
    - ``D[p,d]``   demand [unit].
    """
    into: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for (p, c, d) in m.DELIVERY:
        into[(p, d)].append(m.cohort_delivered[p, c, d])

    def rule(m: pyo.ConcreteModel, p: str, d: int) -> Any:
        return total([*into.get((p, d), []), m.demand_short[p, d]]) == float(
            data.products[p].demand[d])

    m.demand_balance = pyo.Constraint(m.DEMAND, rule=rule)


def add_storage_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Stock held at the end of each day within the storage capacity.

    ``S[p,d] = S[p,d−1] + k[p,d] + R[p,d] − Σ_c y[p,c,d] − z[p,d−life]``
    and ``S[p,d] ≤ K_p (+ e[p,d])``

    - ``S[p,d]`` units in stock at the end of day d [unit] (``S[p,−1] = 0``);
    - ``z[p,d−life]`` the leftover of the cohort whose last usable day was d − 1 [unit];
    - ``K_p`` storage capacity [unit]; ``e[p,d]`` extra storage needed (elastic only) [unit].
    Products without a capacity get no stock variable.
    """
    limited = [p for p, pd_ in data.products.items() if pd_.storage_capacity is not None]
    if not limited:
        return
    m.STOCK = pyo.Set(initialize=[(p, d) for p in limited for d in range(data.horizon_days)],
                      dimen=2, ordered=True)
    m.product_stock = pyo.Var(m.STOCK, domain=pyo.NonNegativeReals)
    release = _release_terms(m, data)
    fixed_in: dict[tuple[str, int], float] = defaultdict(float)
    for p in limited:
        for c, u in data.products[p].fixed_release.items():
            fixed_in[(p, max(c, 0))] += u
    delivered: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for (p, c, d) in m.DELIVERY:
        delivered[(p, d)].append(m.cohort_delivered[p, c, d])
    cohorts = set(m.COHORT)

    def balance(m: pyo.ConcreteModel, p: str, d: int) -> Any:
        made = release.get((p, d), [])
        gone = list(delivered.get((p, d), []))
        expired = (p, data.products[p].cohort_expiring_on(d))
        if expired in cohorts:
            gone.append(m.cohort_left[expired])
        variables = [m.product_stock[p, d], *gone, *made]
        coefs = [1.0] + [1.0] * len(gone) + [-1.0] * len(made)
        if d > 0:
            variables.append(m.product_stock[p, d - 1])
            coefs.append(-1.0)
        return linear(coefs, variables) == fixed_in.get((p, d), 0.0)

    m.stock_balance = pyo.Constraint(m.STOCK, rule=balance)
    slack = elastic_slack(m, STORAGE_SLACK, m.STOCK)

    def limit(m: pyo.ConcreteModel, p: str, d: int) -> Any:
        cap = float(data.products[p].storage_capacity or 0.0)
        return m.product_stock[p, d] <= (cap + slack[p, d] if slack is not None else cap)

    m.storage = pyo.Constraint(m.STOCK, rule=limit)


def add_service_level_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Hard minimum service level over the horizon.

    ``Σ_d u[p,d] ≤ (1 − σ_p) Σ_d D[p,d] (+ e[p])``

    - ``u[p,d]`` unmet demand [unit]; ``D[p,d]`` demand [unit];
    - ``σ_p`` minimum fraction of demand delivered [-];
    - ``e[p]`` units the service level is missed by (elastic re-solve only) [unit].
    """
    products = [p for p, pd_ in data.products.items()
                if pd_.min_service_level is not None and pd_.demand.sum() > 0]
    m.SERVICE = pyo.Set(initialize=products, ordered=True)
    slack = elastic_slack(m, SERVICE_SLACK, m.SERVICE)
    short: dict[str, list[Any]] = defaultdict(list)
    for (p, d) in m.DEMAND:
        short[p].append(m.demand_short[p, d])

    def rule(m: pyo.ConcreteModel, p: str) -> Any:
        pd_ = data.products[p]
        allowed = (1.0 - float(pd_.min_service_level or 0.0)) * float(pd_.demand.sum())
        return total(short[p]) <= (allowed + slack[p] if slack is not None else allowed)

    m.service_level = pyo.Constraint(m.SERVICE, rule=rule)


def add_whole_total_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Units short over the horizon are a whole number, per product.

    ``Σ_d u[p,d] = U[p]``, ``U[p]`` integer [unit]

    - ``u[p,d]`` unmet demand on day d [unit]; ``U[p]`` units short in the horizon [unit].

    Valid in ``packaging`` models: with whole releases and whole demand the dispatch has an
    integral optimum (``docs/planning-model.md``, "Whole units"), so requiring it loses no plan;
    it lifts the LP bound. (Left out of the main solve: on the L benchmark it slowed HiGHS's
    heuristics down.)
    """
    products = [p for p, pd_ in data.products.items() if pd_.demand.sum() > 0]
    m.WHOLE_TOTAL = pyo.Set(initialize=products, ordered=True)
    m.product_short_total = pyo.Var(m.WHOLE_TOTAL, domain=pyo.NonNegativeIntegers,
                                    bounds=lambda _m, p: (0, float(data.products[p].demand.sum())))
    short: dict[str, list[Any]] = defaultdict(list)
    for (p, d) in m.DEMAND:
        short[p].append(m.demand_short[p, d])
    m.short_total = pyo.Constraint(m.WHOLE_TOTAL, rule=lambda m, p: linear(
        [1.0] * len(short[p]) + [-1.0], [*short[p], m.product_short_total[p]]) == 0.0)
