"""Chance constraints of the two-stage program: "service ≥ P in at least a share C of the K
samples" per product, by excusing a fixed set of samples (a conservative approximation without
binaries)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.optimisation.data import USD_SCALE
from bioplan.optimisation.stochastic_data import StochasticData

EXCESS_TOL = 1e-4
"""Units short beyond an allowance that still count as meeting it (solver tolerances) [unit]."""
ELASTIC_FACTOR = 10.0
"""Price of a unit short beyond a counted sample's allowance, in shortage penalties [-]: high
enough that any plan meeting the constraint is cheaper than one missing it by a unit."""


def excused_samples(sd: StochasticData, product: str) -> set[int]:
    """The ⌊(1 − C) K⌋ samples excused from the service level of ``product``: those whose slots of
    the product yield least on average (the samples a plan would find hardest)."""
    if sd.excused is not None:
        return set(sd.excused.get(product, set()))
    data = sd.base
    cols = [s for s in range(len(data.slot_day))
            if data.options[data.slot_option[s]].product == product]
    if not cols or sd.allowed_misses() == 0:
        return set()
    supply = sd.factors[:, cols].mean(axis=1)
    return {int(k) for k in np.argsort(supply, kind="stable")[:sd.allowed_misses()]}


NOMINAL = "nominal"
"""Name of the program's probability-0 block of the plan as planned (every slot at its nominal
yield)."""
AS_PLANNED = -1
"""The chance rows' sample index of the nominal block."""


def block_name(k: int) -> str:
    """The program's block of sample ``k`` (``AS_PLANNED``: the nominal block)."""
    return NOMINAL if k == AS_PLANNED else f"sample_{k}"


def allowance(sd: StochasticData, product: str, k: int, level: float) -> float:
    """Units ``product`` may be short in sample ``k`` under the chance constraint [unit]:
    ``(1 − P) D_p``, and for the plan as planned (``AS_PLANNED``) no more than the deterministic
    plan's shortage ``U_p`` either (:func:`add_as_planned_rows`)."""
    allowed = (1.0 - level) * float(sd.base.products[product].demand.sum())
    if k == AS_PLANNED and sd.as_planned_short and product in sd.as_planned_short:
        allowed = min(allowed, sd.as_planned_short[product])
    return allowed


def service_levels(sd: StochasticData) -> dict[str, float]:
    """Per product with demand, the service level of the chance constraint [-]: its own
    (``sd.product_levels``, a calibrated SAA) or ``sd.service_level``; 0 means no target."""
    return {p: float((sd.product_levels or {}).get(p, sd.service_level or 0.0))
            for p, prod in sd.base.products.items() if prod.demand.sum() > 0}


def add_chance_constraints(m: Any, sd: StochasticData, blocks: list[Any],
                           nominal: Any | None = None) -> None:
    """Service ≥ P in at least a share C of the samples, per product with demand, as a
    conservative approximation without binaries: the ⌊(1 − C) K⌋ samples in which the product's
    slots yield least are excused (:func:`excused_samples`); every other sample must deliver

        ``Σ_d u_k[p,d] ≤ (1 − P) D_p``

    Any fixed choice of excused samples satisfies the chance constraint, so the plan meets it in
    sample; the optimum can only cost more than with one indicator per sample.

    The plan as planned (the ``nominal`` block, row ``AS_PLANNED``) must meet the level too.
    Each slot's K draws are its own, so without that row the program can under-plan a product
    and count on the slots whose draws happen to run high in every sample (the optimiser's
    curse): on a what-if of the default it planned 3.96 RBC units for 4 needed, served all 20
    samples in sample and 94 % out of sample (docs/robust.md).

    Elastic (``sd.elastic``): each row gets an excess ``e[k,p] ≥ 0`` [unit] on its right-hand
    side, priced at ``ELASTIC_FACTOR`` × the dearest shortage penalty [k$/unit] in the objective
    (``m.chance_penalty``). The program then always has a plan (the deterministic plan is one) for
    HiGHS to improve on, and a solution with ``Σ e = 0`` meets the constraint; one with excess
    misses it (:func:`chance_excess`), and the caller reports no plan.
    """
    data = sd.base
    levels = service_levels(sd)
    rows = []
    for p, level in levels.items():
        if level <= 0:
            continue
        excused = excused_samples(sd, p)
        rows += [(k, p) for k in range(len(blocks)) if k not in excused]
        rows += [(AS_PLANNED, p)] if nominal is not None else []
    m.CHANCE = pyo.Set(initialize=rows, dimen=2, ordered=True)

    def rule(m: Any, k: int, p: str) -> Any:
        b: Any = nominal if k == AS_PLANNED else blocks[k]
        short = sum(b.demand_short[q, d] for (q, d) in b.DEMAND if q == p)
        excess = m.chance_excess[k, p] if sd.elastic else 0.0
        return short - excess <= allowance(sd, p, k, levels[p])

    if sd.elastic:
        m.chance_excess = pyo.Var(m.CHANCE, domain=pyo.NonNegativeReals)
        price = ELASTIC_FACTOR * max(data.prices.shortage_usd_per_unit.values()) / USD_SCALE
        m.chance_penalty = pyo.Expression(expr=price * pyo.quicksum(m.chance_excess.values()))
    m.service_chance = pyo.Constraint(m.CHANCE, rule=rule)


def chance_excess(values: dict[str, dict[Any, float]]) -> dict[str, float]:
    """Per product, the units short beyond the counted samples' allowance in a solution of an
    elastic program (0 everywhere: the chance constraint holds) [unit]."""
    out: dict[str, float] = {}
    for (_k, p), x in values.get("chance_excess", {}).items():
        out[p] = out.get(p, 0.0) + x
    return out


def add_as_planned_rows(m: Any, sd: StochasticData, nominal: Any) -> None:
    """The plan as planned (the ``nominal`` block) is short of no product by more than
    ``sd.as_planned_short`` [unit], the deterministic plan's own shortage:

        ``Σ_d u_nominal[p,d] ≤ U_p``

    A robust plan then never promises less than the plain plan. Without the row the expected-cost
    program under-planned RBC on the default (7 of 8 units as planned) and counted on the slots
    whose K draws happened to run high (the optimiser's curse; worse out of sample,
    docs/robust.md)."""
    bounds = sd.as_planned_short or {}
    chance = set(getattr(m, "CHANCE", None) or ())
    rows = [p for p in bounds if p in sd.base.products and (AS_PLANNED, p) not in chance]
    m.AS_PLANNED_PRODUCT = pyo.Set(initialize=rows, ordered=True)
    m.as_planned_service = pyo.Constraint(m.AS_PLANNED_PRODUCT, rule=lambda m, p: sum(
        nominal.demand_short[q, d] for (q, d) in nominal.DEMAND if q == p) <= bounds[p] + EXCESS_TOL)
