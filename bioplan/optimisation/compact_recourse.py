"""A compact second stage for the extensive form: cumulative first-expiry-first flows per product.

The deterministic model tracks every cohort's delivery on every day of its shelf life
(``cohort_delivered[p, c, d]``: ~40 columns per RBC cohort); repeated for K samples that makes the
EF large (M instance, K = 20: 235 k columns). All cohorts of a product have the same life
``L = expiry_day(c) − c`` [day], so their usable windows ``[c, c + L)`` are *agreeable* (ordered by
start and end alike), and a delivery plan is feasible iff Hall's condition holds on every run of
days ``[a, b]``: ``Σ_{a≤d≤b} y_d ≤ A_b − X_a`` (released by b, minus expired before a). With the
running maximum ``Z_b = max(0, max_{a≤b} X_a − Y_{a−1})`` this is, per product and day d:

    ``A_d = A_{d−1} + r_d``,  ``X_d = X_{d−1} + q_d``,  ``Y_d = Y_{d−1} + y_d``     (running sums)
    ``Z_d ≥ Z_{d−1}``,  ``Z_d ≥ X_d − Y_{d−1}``,  ``Y_d + Z_d ≤ A_d``               (Hall)
    ``A_d − Y_d − Z_d ≤ K``                                                        (storage)
    ``y_d + u_d = D_d``                                                            (demand)

- ``r_d`` units released usable from day d (the sample's ``cohort_released`` of cohort d, at most
  ``Σ_s f_s x_s`` over the slots releasing into it; cohorts before day 0 counted on day 0; plus
  fixed releases) [unit]; ``q_d`` units whose
  cohort expires on day d (``c + L = d``) [unit];
- ``y_d`` delivered, ``u_d`` short [unit]; ``Z_d`` units lost by day d [unit]: expired, or
  thrown away, oldest first, when stock exceeds the capacity ``K`` [unit] (the recourse rule of
  :mod:`bioplan.optimisation.recourse`, which ``bioplan evaluate`` applies out of sample; the cohort
  rows allow discards only at harvest, so with a storage limit this block may cost less).

Costs: waste ``κ_e Z_{H−1}`` (losses inside the horizon; what is left at the horizon end is free,
as in the plan), shortage ``Σ_d κ_u u_d``, both with the registry's coefficients; units the sample
does not release are discarded at harvest at the waste price. Releases are aggregated per cohort
(one column per product and cohort day, not per slot). Without a
storage limit the block's optimum equals the cohort block's (``tests/robust/test_compact.py``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.contracts import COST_TERMS, Driver
from bioplan.optimisation.data import USD_SCALE, PlanData
from bioplan.optimisation.expressions import linear
from bioplan.optimisation.lot_segments import grown_terms


def compact_applies(data: PlanData, *, smaller_only: bool = True) -> bool:
    """Every product's cohorts share one life (true for the planner's products) and, with
    ``smaller_only``, the compact rows are the smaller form: 4 H columns per product against one
    per cohort and demand day inside the cohort's life (short lives and sparse demand keep the
    cohort rows)."""
    horizon = data.horizon_days
    cohorts: dict[str, set[int]] = {p: set(pd_.fixed_release) for p, pd_ in data.products.items()}
    for s in range(len(data.slot_day)):
        cohorts[data.options[data.slot_option[s]].product].add(data.slot_release_day(s))
    compact = cohort = 0
    for name, prod in data.products.items():
        if len({prod.expiry_day(c) - c for c in (0, 1, horizon)}) != 1:
            return False
        demand_days = np.concatenate([[0], np.cumsum(prod.demand > 0)])
        compact += 4 * horizon
        for c in cohorts[name]:
            if c < horizon and prod.expiry_day(c) > 0:
                lo, hi = max(c, 0), min(prod.expiry_day(c), horizon)
                cohort += 1 + int(demand_days[hi] - demand_days[lo])
    return compact < cohort or not smaller_only


def grown_waste(m: Any, data: PlanData, f: np.ndarray) -> list[tuple[float, Any]]:
    """(waste price × factor, first-stage variable) of every unit the sample grows [k$/unit]:
    ``e_p f_s x_s``, or per lot segment ``e_p f_{s,g} λ_{s,g}`` (:func:`grown_terms`)."""
    out = []
    for s in range(len(data.slot_day)):
        w = data.prices.expiry_usd_per_unit[data.options[data.slot_option[s]].product] / USD_SCALE
        out += [(w * c, v) for c, v in grown_terms(m, f, s)]
    return out


def add_discard_cost(m: Any, b: Any, data: PlanData, f: np.ndarray) -> None:
    """``b.cost_discard = Σ_s e_p (f_s x_s − x_k[s])`` [k$]: units not released, wasted at harvest."""
    slots = list(range(len(data.slot_day)))
    waste = [data.prices.expiry_usd_per_unit[data.options[data.slot_option[s]].product] / USD_SCALE
             for s in slots]
    terms = grown_waste(m, data, f) + [(-w, b.slot_units[s]) for w, s in zip(waste, slots, strict=True)]
    b.cost_discard = pyo.Expression(expr=linear([w for w, _v in terms], [v for _w, v in terms]))


FLOOR_TOL = 1e-3
"""A pool within this of a whole bag [unit] may stay a bag short (numerical slack of the floor)."""


def add_whole_unit_recourse(m: Any, b: Any, data: PlanData, f: np.ndarray) -> None:
    """The whole-unit rows and discard cost of a ``packaging`` sample block ``b``.

    - every bag its released cells fill is packaged (the realised plan's rule, ``⌊Σ x⌋``):
      ``k_k[p,c] ≥ Σ_{s released on (p,c)} x_k[s] − (1 − ε)``          (package_floor)
    - ``b.cost_discard = Σ_s e_p f_s x_s − Σ_{(p,c)} e_p k_k[p,c] − Σ_{s outside} e_p x_k[s]``
      [k$]: every unit grown and not packaged is waste, as in the compact block, whose releases
      are whole bags out of ``Σ f x``; slots releasing outside the pools (after the horizon) keep
      :func:`add_discard_cost`'s rule.
    """
    grown = release_groups(data)  # b.RELEASE holds the pools inside the horizon, as these
    b.package_floor = pyo.Constraint(b.RELEASE, rule=lambda b, p, c: linear(
        [1.0] + [-1.0] * len(grown[(p, c)]),
        [b.cohort_packaged[p, c], *(b.slot_units[s] for s in grown[(p, c)])]) >= FLOOR_TOL - 1.0)
    pooled = {s for key in b.RELEASE for s in grown[key]}
    waste = {p: data.prices.expiry_usd_per_unit[p] / USD_SCALE for p in data.products}
    slots = range(len(data.slot_day))
    product = [data.options[data.slot_option[s]].product for s in slots]
    terms = grown_waste(m, data, f)
    terms += [(-waste[p], b.cohort_packaged[p, c]) for (p, c) in b.RELEASE]
    terms += [(-waste[product[s]], b.slot_units[s]) for s in slots if s not in pooled]
    b.cost_discard = pyo.Expression(expr=linear([w for w, _v in terms], [v for _w, v in terms]))


def release_groups(data: PlanData) -> dict[tuple[str, int], list[int]]:
    """Slots releasing into each (product, cohort day) inside the horizon."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for s in range(len(data.slot_day)):
        c = data.slot_release_day(s)
        if c < data.horizon_days:
            groups[(data.options[data.slot_option[s]].product, c)].append(s)
    return groups


def _flows(data: PlanData) -> tuple[dict[tuple[str, int], list[tuple[str, int]]],
                                    dict[tuple[str, int], list[tuple[str, int]]]]:
    """Cohorts releasing usable units on each (product, day), and expiring on each."""
    usable: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    expiring: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for product, c in release_groups(data):
        usable[(product, max(c, 0))].append((product, c))
        expiring[(product, data.products[product].expiry_day(c))].append((product, c))
    return usable, expiring


def _fixed(data: PlanData, product: str) -> tuple[dict[int, float], dict[int, float]]:
    usable: dict[int, float] = defaultdict(float)
    expiring: dict[int, float] = defaultdict(float)
    for c, units in data.products[product].fixed_release.items():
        if c < data.horizon_days:
            usable[max(c, 0)] += units
            expiring[data.products[product].expiry_day(c)] += units
    return usable, expiring


def add_compact_rows(b: Any, data: PlanData) -> None:
    """The running sums, Hall, storage and demand rows of the module docstring on block ``b``."""
    days = range(data.horizon_days)
    b.FLOW = pyo.Set(initialize=[(p, d) for p in data.products for d in days], dimen=2,
                     ordered=True)
    for name in ("flow_released", "flow_expired", "flow_delivered", "flow_lost"):
        b.add_component(name, pyo.Var(b.FLOW, domain=pyo.NonNegativeReals))
    b.demand_short = pyo.Var(b.DEMAND, domain=pyo.NonNegativeReals,
                             bounds=lambda _b, p, d: (0, float(data.products[p].demand[d])))
    usable, expiring = _flows(data)
    fixed = {p: _fixed(data, p) for p in data.products}

    def running(var: Any, cohorts: dict[tuple[str, int], list[tuple[str, int]]], const: int
                ) -> Any:
        def rule(b: Any, p: str, d: int) -> Any:
            inflow = [b.cohort_released[k] for k in cohorts.get((p, d), [])]
            before = [var[p, d - 1]] if d > 0 else []
            return linear([1.0] + [-1.0] * (len(before) + len(inflow)),
                          [var[p, d], *before, *inflow]) == fixed[p][const].get(d, 0.0)
        return rule

    b.flow_released_sum = pyo.Constraint(b.FLOW, rule=running(b.flow_released, usable, 0))
    b.flow_expired_sum = pyo.Constraint(b.FLOW, rule=running(b.flow_expired, expiring, 1))

    def delivered(b: Any, p: str, d: int) -> Any:
        today = [b.demand_short[p, d]] if (p, d) in b.DEMAND else []
        before = [b.flow_delivered[p, d - 1]] if d > 0 else []
        coefs = [1.0] + [-1.0] * len(before) + [1.0] * len(today)
        return linear(coefs, [b.flow_delivered[p, d], *before, *today]) == float(
            data.products[p].demand[d])

    b.flow_delivered_sum = pyo.Constraint(b.FLOW, rule=delivered)
    b.flow_lost_grows = pyo.Constraint(b.FLOW, rule=lambda b, p, d: (
        b.flow_lost[p, d] >= (b.flow_lost[p, d - 1] if d > 0 else 0.0)))
    b.flow_expiry = pyo.Constraint(b.FLOW, rule=lambda b, p, d: (
        b.flow_lost[p, d] >= b.flow_expired[p, d] - (b.flow_delivered[p, d - 1] if d > 0 else 0.0)))
    b.flow_available = pyo.Constraint(b.FLOW, rule=lambda b, p, d: (
        b.flow_delivered[p, d] + b.flow_lost[p, d] <= b.flow_released[p, d]))
    limited = [(p, d) for (p, d) in b.FLOW if data.products[p].storage_capacity is not None]
    b.flow_storage = pyo.Constraint(limited, rule=lambda b, p, d: (
        b.flow_released[p, d] - b.flow_delivered[p, d] - b.flow_lost[p, d]
        <= float(data.products[p].storage_capacity or 0.0)))


def add_compact_costs(b: Any, data: PlanData) -> None:
    """``cost_<term>`` of the waste and shortage terms from the registry's coefficients [k$]."""
    last = data.horizon_days - 1
    for term in COST_TERMS:
        if term.driver is Driver.EXPIRED_UNITS:
            coefs = [term.usd(data.prices, p) / USD_SCALE for p in data.products]
            variables = [b.flow_lost[p, last] for p in data.products]
        elif term.driver is Driver.SHORT_UNITS:
            coefs = [term.usd(data.prices, p) / USD_SCALE for p, _d in b.DEMAND]
            variables = [b.demand_short[k] for k in b.DEMAND]
        else:
            continue
        b.add_component(f"cost_{term.name}", pyo.Expression(expr=linear(coefs, variables)))


def add_compact_block(m: Any, data: PlanData, name: str, factor: np.ndarray,
                      whole: bool = False) -> Any:
    """One compact second-stage block for yield factors ``factor`` (S,) [-] (see the module);
    with ``whole`` each release is whole bags (integer ``cohort_released``) out of the cells
    grown."""
    b = pyo.Block()
    m.add_component(name, b)
    b.DEMAND = pyo.Set(initialize=[(p, d) for p, pd_ in data.products.items()
                                   for d in range(data.horizon_days) if pd_.demand[d] > 0],
                       dimen=2, ordered=True)
    groups = release_groups(data)
    b.RELEASE = pyo.Set(initialize=sorted(groups), dimen=2, ordered=True)
    b.cohort_released = pyo.Var(
        b.RELEASE, domain=pyo.NonNegativeIntegers if whole else pyo.NonNegativeReals)
    made_in = {key: [t for s in slots for t in grown_terms(m, factor, s)]
               for key, slots in groups.items()}
    b.release_cap = pyo.Constraint(b.RELEASE, rule=lambda b, p, c: linear(
        [1.0] + [-cf for cf, _v in made_in[(p, c)]],
        [b.cohort_released[p, c], *(v for _cf, v in made_in[(p, c)])]) <= 0.0)
    add_compact_rows(b, data)
    add_compact_costs(b, data)
    waste = {p: data.prices.expiry_usd_per_unit[p] / USD_SCALE for p in data.products}
    made = [(waste[p] * cf, v) for (p, c) in groups for cf, v in made_in[(p, c)]]
    kept = [(-waste[p], b.cohort_released[p, c]) for (p, c) in groups]
    b.cost_discard = pyo.Expression(expr=linear([w for w, _v in made + kept],
                                                [v for _w, v in made + kept]))
    return b
