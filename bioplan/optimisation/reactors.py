"""Constraint groups on batches and reactors: batch size, whole-unit packaging and reactor
occupancy (by vessel stay: consecutive phases on one reactor type continue in one vessel)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.contracts import Products, Shape, Slack
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.expressions import elastic_slack, total

REACTOR_SLACK = Slack(
    "reactor_extra_units", 1.0, "reactor {key}", "units", Shape.KEY_DAY,
    "{amount:.3g} more {key} unit(s) needed on days {first}-{last} beyond the {limit} "
    "(batches of {products})",
    Products.ON_REACTOR, "{item.owned} owned + {item.max_added} allowed", "reactors")
"""Reactor units beyond the fleet on a day (elastic re-solve only)."""


def add_batch_size_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Batch size within the working volumes of every vessel on the batch's route.

    ``u_min(j) · n[s] ≤ x[s] ≤ u_max(s) · n[s]`` for every slot s of option j, where

    - ``n[s]``   batches seeded in slot s [batch];
    - ``x[s]``   product units those batches make together [unit];
    - ``u_min(j) = max_k V_min(t_k) / v_k(j)`` and ``u_max(j) = min_k V_max(t_k) / v_k(j)``
      with ``v_k(j)`` the peak culture volume of phase k per product unit [L/unit] and
      ``V_min, V_max`` the working volumes of the phase's reactor type [L/batch];
    - ``u_max(s) ≤ u_max(j)`` is further capped by the demand that the slot's cohort can still
      serve (a batch never usefully makes more), which tightens the LP relaxation.

    Batches of one slot are identical, so an equal split of ``x[s]`` over ``n[s]`` batches respects
    the per-batch bounds whenever the aggregate does.
    """
    lo = {s: data.options[data.slot_option[s]].units_min for s in m.SLOT}
    hi = {s: float(data.slot_units_max[s]) for s in m.SLOT}
    m.batch_size_max = pyo.Constraint(
        m.SLOT, rule=lambda m, s: m.slot_units[s] <= hi[s] * m.slot_batches[s])
    floor = [s for s in m.SLOT if lo[s] > 0]
    m.batch_size_min = pyo.Constraint(
        floor, rule=lambda m, s: m.slot_units[s] >= lo[s] * m.slot_batches[s])


def add_packaging_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Harvests package whole units out of the cells they grow; the rest is waste.

    The batches of one product released on one day are harvested into one pool that fills whole
    bags, ``k[p,c]`` [unit, integer], out of the units their slots grow ``x[s]`` [unit]::

        k[p,c] ≤ Σ_{s released on (p,c)} x[s]                       (package_pool)

    Materials are charged on ``x`` (the cost terms' ``PRODUCT_UNITS`` driver), so cells grown but
    not packaged (less than one unit per product and release day) cost what they used. Only in a
    ``packaging`` model (see ``docs/planning-model.md``, "Whole units").
    """
    if not getattr(m, "packaging", False):
        return
    grown: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for s in m.SLOT:
        key = (data.options[data.slot_option[s]].product, data.slot_release_day(s))
        grown[key].append(m.slot_units[s])
    m.package_pool = pyo.Constraint(
        m.RELEASE, rule=lambda m, p, c: m.cohort_packaged[p, c] <= total(grown[(p, c)]))


def add_occupancy_constraints(m: pyo.ConcreteModel, data: PlanData) -> None:
    """Units of each reactor type busy on each day within the fleet.

    A batch holds one vessel per *stay*: consecutive phases on the same reactor type continue in
    the same vessel, and the turnaround comes once, when the batch leaves it. Stay starts are
    first summed per reactor type, occupancy length and day (an exact substitution that keeps the
    matrix sparse), then counted over each occupancy window::

        q[t,L,d] = Σ_{(j,k): t_k(j)=t, D_k+T_t=L} n[j, d − o_k]
        Σ_L Σ_{d=τ−L+1}^{τ} q[t,L,d] + F[t,τ] ≤ N_t + a_t − M[t,τ] (+ e[t,τ])

    - ``n[j,d]``   batches of option j seeded on day d [batch];
    - ``o_k``      days from seeding to the start of stay k [day];
    - ``L = D_k + T_t`` the stay's culture days (all its phases) plus the type's turnaround [day]
      (a running sum of starts over the occupancy window: the tight aggregated form; units are
      assigned after the solve, one per stay);
    - ``q[t,L,d]`` stays of length L starting on type t on day d [stay];
    - ``F[t,τ]``   units held by fixed batches [unit]; ``N_t`` units owned [unit];
    - ``a_t``      units added (bought or rented) [unit]; ``M[t,τ]`` units in maintenance [unit];
    - ``e[t,τ]``   extra units needed (elastic re-solve only) [unit].
    """
    horizon = data.horizon_days
    starts: dict[tuple[str, int, int], list[Any]] = defaultdict(list)
    for s in m.SLOT:
        opt, d = data.slot(s)
        for st in opt.stays:
            start = d + st.offset_days
            if start < horizon:
                starts[(st.reactor_type, st.days + st.turnaround_days, start)].append(m.slot_batches[s])
    order = {t: i for i, t in enumerate(data.reactors)}
    m.PHASE_START = pyo.Set(initialize=sorted(starts, key=lambda k: (order[k[0]], k[1], k[2])),
                            dimen=3, ordered=True)
    m.phase_starts = pyo.Var(m.PHASE_START, domain=pyo.NonNegativeReals)
    m.phase_start_count = pyo.Constraint(
        m.PHASE_START,
        rule=lambda m, t, length, d: total(starts[(t, length, d)]) == m.phase_starts[t, length, d])
    rows: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for (t, length, d) in m.PHASE_START:
        var = m.phase_starts[t, length, d]  # one lookup, not one per day (~40k on benchmark M)
        for tau in range(d, min(d + length, horizon)):
            rows[(t, tau)].append(var)
    # a day that only fixed batches occupy still bounds the units added: F[t,τ] ≤ N_t − M[t,τ] + a_t
    # (without its row a re-plan could keep fewer units than its kept batches hold)
    held = {(t, int(tau)) for t, rd in data.reactors.items() for tau in np.flatnonzero(rd.fixed_busy > 0)}
    index = sorted(set(rows) | held, key=lambda k: (order[k[0]], k[1]))
    m.OCCUPANCY = pyo.Set(initialize=index, dimen=2, ordered=True)
    slack = elastic_slack(m, REACTOR_SLACK, m.OCCUPANCY)

    def rule(m: pyo.ConcreteModel, t: str, tau: int) -> Any:
        rd = data.reactors[t]
        body = total(rows[(t, tau)], float(rd.fixed_busy[tau]))
        cap = rd.owned - float(rd.down[tau]) + m.reactor_added[t]
        if slack is not None:
            cap = cap + slack[t, tau]
        return body <= cap

    m.reactor_occupancy = pyo.Constraint(m.OCCUPANCY, rule=rule)
