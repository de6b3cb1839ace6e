"""Constraint groups on shared resources: starting material, media preparation, labour."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.core as pyo

from bioplan.contracts import Products, Shape, Slack
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.expressions import elastic_slack, linear, total

SOURCE_SLACK = Slack(
    "source_extra_lots", 1.0, "starting material {key}", "lots", Shape.KEY_WEEK,
    "{amount:.3g} more lots of {key} needed in the week of days {first}-{last} "
    "(limit {limit} per week)",
    Products.OF_SOURCE, "{item:g}", "sources")
"""Starting-material lots beyond a source's weekly limit (elastic re-solve only)."""
MEDIA_SLACK = Slack(
    "media_extra_L", 1e-3, "media preparation", "L/day", Shape.DAY,
    "media preparation short by up to {amount:.3g} L/day on days {first}-{last} "
    "(capacity {limit} L/day; batches of {products})",
    Products.ACTIVE, "{data.media_prep_capacity:g}")
"""Media preparation beyond capacity; cheap (1e-3 per L) as litres come in thousands."""
LABOUR_SLACK = Slack(
    "labour_extra_operations", 1.0, "labour", "operations/day", Shape.DAY,
    "labour short by up to {amount:.3g} operations/day on days {first}-{last} "
    "(capacity {limit} operations/day; batches of {products})",
    Products.ACTIVE, "{data.labour_limit:g}")
"""Operations beyond the daily labour limit (elastic re-solve only)."""


def add_starting_material_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Starting material seeded per source and week within the lots available.

    ``Σ_{s: source(s)=q, day(s)//7 = w} ℓ_j · x[s] + F[q,w] ≤ A_q (+ e[q,w])``

    - ``x[s]``  product units made by the batches of slot s [unit];
    - ``ℓ_j``   lots of starting material per product unit of option j (seed cells per unit /
      cells per lot) [lot/unit];
    - ``F[q,w]`` lots used by fixed batches seeded in week w [lot];
    - ``A_q``   lots of source q available per week [lot/week] (sources without a limit get no row);
    - ``e[q,w]`` extra lots needed (elastic re-solve only) [lot].
    """
    rows: dict[tuple[str, int], tuple[list[float], list[Any]]] = defaultdict(lambda: ([], []))
    for s in m.SLOT:
        opt = data.options[data.slot_option[s]]
        if data.sources.get(opt.source) is None:
            continue
        coefs, variables = rows[(opt.source, int(data.slot_day[s]) // 7)]
        coefs.append(opt.lots_per_unit)
        variables.append(m.slot_units[s])
    m.SOURCE_WEEK = pyo.Set(initialize=sorted(rows), dimen=2, ordered=True)
    slack = elastic_slack(m, SOURCE_SLACK, m.SOURCE_WEEK)

    def rule(m: pyo.ConcreteModel, q: str, w: int) -> Any:
        coefs, variables = rows[(q, w)]
        body = linear(coefs, variables, data.fixed_lots.get((q, w), 0.0))
        limit = float(data.sources[q] or 0.0)
        return body <= (limit + slack[q, w] if slack is not None else limit)

    m.starting_material = pyo.Constraint(m.SOURCE_WEEK, rule=rule)


def add_media_prep_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Medium prepared per day within the preparation capacity.

    The daily medium rate of phases is first summed per phase length and start day (an exact
    substitution that keeps the matrix sparse: each slot enters one rate row per phase instead of
    one capacity row per culture day), then counted over the days the phases run::

        r[D,d] = Σ_{(j,k): D_k=D} (μ_{jk} / D) · x[j, d − o_k]
        Σ_D Σ_{d=τ−D+1}^{τ} r[D,d] + F[τ] ≤ C (+ e[τ])

    - ``μ_{jk}`` medium of phase k per product unit of option j [L/unit], spread evenly over the
      phase's ``D`` culture days [day], which start ``o_k`` days after seeding [day];
    - ``x[j,d]`` product units of the batches of option j seeded on day d [unit];
    - ``r[D,d]`` medium per day of the phases of length D started on day d [L/day];
    - ``F[τ]`` medium of fixed batches [L/day]; ``C`` preparation capacity [L/day];
    - ``e[τ]`` extra litres needed (elastic re-solve only) [L/day].
    """
    if data.media_prep_capacity is None:
        return
    horizon = data.horizon_days
    starts: dict[tuple[int, int], tuple[list[float], list[Any]]] = defaultdict(lambda: ([], []))
    for s in m.SLOT:
        opt, d = data.slot(s)
        for ph in opt.phases:
            start = d + ph.offset_days
            if ph.days <= 0 or ph.medium_L_per_unit <= 0 or start >= horizon:
                continue
            coefs, variables = starts[(ph.days, start)]
            coefs.append(ph.medium_L_per_unit / ph.days)
            variables.append(m.slot_units[s])
    m.MEDIA_START = pyo.Set(initialize=sorted(starts), dimen=2, ordered=True)
    m.media_rate = pyo.Var(m.MEDIA_START, domain=pyo.NonNegativeReals)

    def rate(m: pyo.ConcreteModel, length: int, d: int) -> Any:
        coefs, variables = starts[(length, d)]
        return linear([*coefs, -1.0], [*variables, m.media_rate[length, d]]) == 0

    m.media_rate_sum = pyo.Constraint(m.MEDIA_START, rule=rate)
    rows: dict[int, list[Any]] = defaultdict(list)
    for (length, d) in m.MEDIA_START:
        var = m.media_rate[length, d]  # one lookup, not one per day
        for tau in range(d, min(d + length, horizon)):
            rows[tau].append(var)
    m.MEDIA_DAY = pyo.Set(initialize=sorted(rows), ordered=True)
    slack = elastic_slack(m, MEDIA_SLACK, m.MEDIA_DAY)
    fixed = data.fixed_medium
    cap = float(data.media_prep_capacity)

    def rule(m: pyo.ConcreteModel, tau: int) -> Any:
        body = total(rows[tau], float(fixed[tau]) if fixed is not None else 0.0)
        return body <= (cap + slack[tau] if slack is not None else cap)

    m.media_prep = pyo.Constraint(m.MEDIA_DAY, rule=rule)


def add_labour_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Operations per day within the labour limit.

    ``Σ_s [n[s] on its seeding day, on each transfer (a stay start: the reactor type changes) and
    on its harvest day] + F[τ] ≤ W (+ e[τ])``

    - ``n[s]`` batches of slot s [batch]; each batch needs one operation per vessel stay start
      (seeding or transfer; a phase continuing in the same vessel needs none) and one harvest
      [operations/batch];
    - ``F[τ]`` operations of fixed batches [operations/day]; ``W`` limit [operations/day];
    - ``e[τ]`` extra operations needed (elastic re-solve only) [operations/day].
    """
    if data.labour_limit is None:
        return
    horizon = data.horizon_days
    rows: dict[int, list[Any]] = defaultdict(list)
    for s in m.SLOT:
        opt, d = data.slot(s)
        for day in [d + st.offset_days for st in opt.stays] + [d + opt.days]:
            if day < horizon:
                rows[day].append(m.slot_batches[s])
    m.LABOUR_DAY = pyo.Set(initialize=sorted(rows), ordered=True)
    slack = elastic_slack(m, LABOUR_SLACK, m.LABOUR_DAY)
    fixed = data.fixed_operations
    limit = float(data.labour_limit)

    def rule(m: pyo.ConcreteModel, tau: int) -> Any:
        terms = rows[tau]
        body = total(terms, float(fixed[tau]) if fixed is not None else 0.0)
        return body <= (limit + slack[tau] if slack is not None else limit)

    m.labour = pyo.Constraint(m.LABOUR_DAY, rule=rule)
