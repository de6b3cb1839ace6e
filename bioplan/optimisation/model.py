"""The planning MILP, built top to bottom from :class:`~bioplan.optimisation.data.PlanData`.

Sets (named after the domain)::

    DAY       plan days 0..H-1                         PRODUCT   rbc, platelet
    REACTOR   reactor types                            SLOT      (option, seeding day) pairs
    COHORT    (product, cohort day) that can release   DELIVERY  (product, cohort day, day)
    DEMAND    (product, day) with demand > 0           SOURCE    starting-material sources

Variables (scaled units, see :mod:`bioplan.optimisation.data`)::

    slot_batches[s]        batches seeded in slot s                              [batch, integer]
    slot_units[s]          cells those batches grow together, in product units   [unit]
    cohort_packaged[p,c]   whole units the batches released on day c package
                           (``packaging`` models only)                           [unit, integer]
    reactor_added[t]       units of type t bought or rented                      [unit, integer]
    cohort_delivered[p,c,d] units of cohort c delivered on day d                 [unit]
    cohort_left[p,c]       units of cohort c never delivered (expired, or still
                           in stock at the horizon end)                          [unit]
    demand_short[p,d]      unmet demand                                          [unit]
    product_stock[p,d]     stock at the end of day d (only with storage limits)  [unit]

Deliveries, leftovers and shortages are continuous: with whole released units and whole demand
they form a transportation problem with an integral optimal vertex, and the plan's whole-unit
dispatch is recovered after the solve (``docs/planning-model.md``, "Whole units"). The main solve
releases the cells grown (``packaging=False``); the whole-unit pass
(:mod:`bioplan.optimisation.whole_units`) fixes its batches and packages whole units.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.optimisation.costs import add_cost_expressions, add_elastic_objective, add_objective
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.inventory import (
    add_cohort_constraints,
    add_demand_constraints,
    add_service_level_constraints,
    add_storage_constraints,
    add_whole_total_constraints,
)
from bioplan.optimisation.reactors import (
    add_batch_size_constraints,
    add_occupancy_constraints,
    add_packaging_constraints,
)
from bioplan.optimisation.resources import (
    add_labour_constraints,
    add_media_prep_constraints,
    add_starting_material_constraints,
)


def add_sets(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Index sets; cohorts are the days on which some batch (or stock) can become available."""
    horizon = data.horizon_days
    m.DAY = pyo.Set(initialize=range(horizon), ordered=True)
    m.PRODUCT = pyo.Set(initialize=list(data.products), ordered=True)
    m.REACTOR = pyo.Set(initialize=list(data.reactors), ordered=True)
    m.SOURCE = pyo.Set(initialize=list(data.sources), ordered=True)
    m.SLOT = pyo.Set(initialize=range(len(data.slot_day)), ordered=True)

    cohort_days: dict[str, set[int]] = {p: set(pd_.fixed_release) for p, pd_ in data.products.items()}
    for s in range(len(data.slot_day)):
        cohort_days[data.options[data.slot_option[s]].product].add(data.slot_release_day(s))
    cohorts = [(p, c) for p in data.products for c in sorted(cohort_days[p])
               if c < horizon and data.products[p].expiry_day(c) > 0]
    m.COHORT = pyo.Set(initialize=cohorts, dimen=2, ordered=True)
    released = {(data.options[data.slot_option[s]].product, data.slot_release_day(s))
                for s in range(len(data.slot_day))}
    m.RELEASE = pyo.Set(initialize=[k for k in cohorts if k in released], dimen=2, ordered=True)
    demand = [(p, d) for p, pd_ in data.products.items() for d in range(horizon) if pd_.demand[d] > 0]
    m.DEMAND = pyo.Set(initialize=demand, dimen=2, ordered=True)
    has_demand = set(demand)
    deliveries = [
        (p, c, d)
        for (p, c) in cohorts
        for d in range(max(c, 0), min(data.products[p].expiry_day(c), horizon))
        if (p, d) in has_demand
    ]
    m.DELIVERY = pyo.Set(initialize=deliveries, dimen=3, ordered=True)


def add_variables(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Decision variables with their natural bounds (see the module docstring for units).

    Batches per slot are bounded by the fleet, except in the elastic re-solve, which may ask for
    more reactors than exist. In a ``packaging`` model (``m.packaging``) the units released per
    product and day are whole (integer); deliveries, leftovers and shortages stay continuous
    (see the module docstring).
    """
    bmax = data.slot_batches_need if m.elastic else data.slot_batches_max
    umax = data.slot_units_max * bmax
    m.slot_batches = pyo.Var(m.SLOT, domain=pyo.NonNegativeIntegers,
                             bounds=lambda _m, s: (0, float(bmax[s])))
    m.slot_units = pyo.Var(m.SLOT, domain=pyo.NonNegativeReals,
                           bounds=lambda _m, s: (0, float(umax[s])))
    if getattr(m, "packaging", False):
        pool: dict[tuple[str, int], float] = defaultdict(float)
        for s in m.SLOT:
            pool[(data.options[data.slot_option[s]].product, data.slot_release_day(s))] += umax[s]
        m.cohort_packaged = pyo.Var(
            m.RELEASE, domain=pyo.NonNegativeIntegers,
            bounds=lambda _m, p, c: (0, float(np.floor(pool[(p, c)] + 1e-9))))
    m.reactor_added = pyo.Var(m.REACTOR, domain=pyo.NonNegativeIntegers, bounds=_added_bounds(data))
    m.cohort_delivered = pyo.Var(m.DELIVERY, domain=pyo.NonNegativeReals)
    m.cohort_left = pyo.Var(m.COHORT, domain=pyo.NonNegativeReals)
    m.demand_short = pyo.Var(m.DEMAND, domain=pyo.NonNegativeReals,
                             bounds=lambda _m, p, d: (0, float(data.products[p].demand[d])))


def build_model(data: PlanData, *, elastic: bool = False, packaging: bool = False
                ) -> pyo.ConcreteModel:
    """The whole model. With ``elastic=True`` the hard resource limits and service levels get
    priced slack variables and the objective minimises those slacks (infeasibility explanation).
    ``packaging=True`` releases whole units, packaged per product and release day (see
    :func:`~bioplan.optimisation.reactors.add_packaging_constraints`).
    """
    m = pyo.ConcreteModel(name="bioplan")
    m.elastic = elastic
    m.packaging = packaging
    m.elastic_slacks = []
    add_sets(m, data)
    add_variables(m, data)
    add_batch_size_constraints(m, data)
    add_packaging_constraints(m, data)
    add_occupancy_constraints(m, data)
    add_starting_material_constraints(m, data)
    add_media_prep_constraints(m, data)
    add_labour_constraints(m, data)
    add_cohort_constraints(m, data)
    add_demand_constraints(m, data)
    add_storage_constraints(m, data)
    add_service_level_constraints(m, data)
    if packaging:
        add_whole_total_constraints(m, data)
    add_cost_expressions(m, data)
    if elastic:
        add_elastic_objective(m, data)
    else:
        add_objective(m, data)
    return m


def _added_bounds(data: PlanData) -> Any:
    """Bounds of ``reactor_added[t]`` [unit]: at most ``max_added``; at least what keeps the
    highest-numbered vessel of a fixed batch in the fleet (a re-plan keeps the units its kept
    batches occupy: ``a_t ≥ u_fixed − N_t``; ``add_fixed_batches`` refused any beyond
    ``N_t + max_added``)."""
    def bounds(_m: Any, t: str) -> tuple[float, float]:
        rd = data.reactors[t]
        return float(max(rd.fixed_unit_max - rd.owned, 0)), float(rd.max_added)
    return bounds
