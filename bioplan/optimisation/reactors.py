"""Constraint groups on batches and reactors: batch size, whole-unit packaging and reactor
occupancy (by vessel stay: consecutive phases on one reactor type continue in one vessel)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from bioplan.contracts import SLACKS
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.expressions import elastic_slack, total


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

    For every slot s of option j, with ``n[s]`` batches [batch], cells grown ``x[s]`` [unit] and
    whole units packaged ``k[s]`` [unit, integer]::

        k[s] ≤ x[s]                                             (pack only what was grown)

    and, when one batch of j can hold a whole unit (``⌊u_max(j)⌋ ≥ 1``), every batch packages
    whole units on its own::

        k[s] ≤ ⌊u_max(s)⌋ · n[s]
        x[s] ≥ n[s]·u_min + (1 − φ)·(k[s] − ⌊u_min⌋·n[s])        if φ = u_min − ⌊u_min⌋ > 0

    The batches split ``k`` as evenly as integers allow (⌊k/n⌋ or ⌈k/n⌉ each) and each grows at
    least ``max(u_min, its units)``; the least the slot must grow is then
    ``max(k, n·u_min, n·u_min + (1−φ)(k − ⌊u_min⌋ n))`` (the rows above), so they are exact.
    Batches too small to fill one unit alone (``u_max(j) < 1``) are pooled at harvest with the
    other batches of their slot (same recipe, route and seeding day, so harvested together): the
    pool packages whole units. Materials are charged on ``x`` (the cost terms' ``PRODUCT_UNITS``
    driver), so grown-but-unpackaged cells cost what they used (see ``docs/planning-model.md``,
    "Whole units").
    """
    m.package_grown = pyo.Constraint(m.SLOT, rule=lambda m, s: m.slot_packaged[s] <= m.slot_units[s])
    cap = {s: math.floor(float(data.slot_units_max[s]) + 1e-9) for s in m.SLOT}
    single = [s for s in m.SLOT if data.options[data.slot_option[s]].packaged_max >= 1]
    m.package_max = pyo.Constraint(
        single, rule=lambda m, s: m.slot_packaged[s] <= cap[s] * m.slot_batches[s])
    lo = {s: float(data.options[data.slot_option[s]].units_min) for s in single}
    frac = {s: lo[s] - math.floor(lo[s]) for s in single}
    rows = [s for s in single if frac[s] > 1e-9]
    m.package_floor = pyo.Constraint(rows, rule=lambda m, s: m.slot_units[s] >= (
        lo[s] * m.slot_batches[s]
        + (1.0 - frac[s]) * (m.slot_packaged[s] - math.floor(lo[s]) * m.slot_batches[s])))


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
        for tau in range(d, min(d + length, horizon)):
            rows[(t, tau)].append(m.phase_starts[t, length, d])
    index = sorted(rows, key=lambda k: (order[k[0]], k[1]))
    m.OCCUPANCY = pyo.Set(initialize=index, dimen=2, ordered=True)
    slack = elastic_slack(m, SLACKS["reactor_extra_units"], m.OCCUPANCY)

    def rule(m: pyo.ConcreteModel, t: str, tau: int) -> Any:
        rd = data.reactors[t]
        body = total(rows[(t, tau)], float(rd.fixed_busy[tau]))
        cap = rd.owned - float(rd.down[tau]) + m.reactor_added[t]
        if slack is not None:
            cap = cap + slack[t, tau]
        return body <= cap

    m.reactor_occupancy = pyo.Constraint(m.OCCUPANCY, rule=rule)
