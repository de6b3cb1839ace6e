"""Whole units and vessel stays after the solve: split a slot's packaged units over its batches,
group each batch's phase rows into the stays that hold one vessel, and recover whole-unit
deliveries from the solver's (continuous) ones.

See ``docs/planning-model.md`` ("Whole units", "Same-vessel continuation") for the proofs these
functions rely on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.optimisation.data import row_stays

if TYPE_CHECKING:
    from bioplan.optimisation.data import Option, PlanData

Values = dict[str, dict[Any, float]]


def split_slot(opt: Option, n: int, values: Values, s: int) -> list[tuple[float, float]]:
    """(units packaged, cells grown [unit]) of each of the ``n`` batches of slot ``s``.

    Batches too small to fill a unit alone are pooled at harvest: each gets an equal share of
    the pool's whole units (the pool, not the batch, is whole).

    Packaged units ``k`` are split as evenly as integers allow (the first ``k mod n`` batches get
    one more); each batch grows at least ``max(u_min, its units)`` and the rest of the slot's
    grown cells ``x`` is shared in proportion to the room each batch has up to ``u_max``. The
    model's packaging rows guarantee the minimums add up to at most ``x`` (exactly, up to solver
    tolerance), so every batch ends within its working volumes.
    """
    k = max(round(values.get("slot_packaged", {}).get(s, 0.0)), 0)
    x = max(values.get("slot_units", {}).get(s, 0.0), 0.0)
    if opt.packaged_max < 1:  # batches too small for a unit alone: pooled at harvest
        return [(k / n, x / n)] * n
    q, r = divmod(k, n)
    packed = [q + 1 if i < r else q for i in range(n)]
    floor = [max(opt.units_min, float(p)) for p in packed]
    room = [max(opt.units_max - f, 0.0) for f in floor]
    extra = max(x - sum(floor), 0.0)
    total_room = sum(room)
    grown = [f + (extra * rm / total_room if total_room > 0 else extra / n)
             for f, rm in zip(floor, room, strict=True)]
    return list(zip(packed, grown, strict=True))


@dataclass
class StaySpan:
    """One batch's time on one vessel: its rows (positions in the batches frame) and days."""

    batch_id: str
    reactor_type: str
    start: int
    end: int
    """End of culture on the vessel (exclusive, turnaround excluded) [day]."""
    unit: int
    is_fixed: bool
    rows: list[int] = field(default_factory=list)


def stay_spans(frame: pd.DataFrame) -> list[StaySpan]:
    """The stays of the batch phase rows in ``frame`` (columns ``batch_id``, ``reactor_type``,
    ``reactor_unit``, ``start_day``, ``end_day``, optional ``is_fixed``), in row order of first
    appearance: consecutive phases of a batch on the same reactor type (and, when units are
    already assigned, the same unit) form one stay."""
    out: list[StaySpan] = []
    positions: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(frame["batch_id"].astype(str)):
        positions[b].append(i)
    fixed = frame["is_fixed"].tolist() if "is_fixed" in frame.columns else [False] * len(frame)
    types = frame["reactor_type"].astype(str).tolist()
    units = frame["reactor_unit"].astype(int).tolist()
    start = frame["start_day"].astype(int).tolist()
    end = frame["end_day"].astype(int).tolist()
    for batch_id, rows in positions.items():
        rows = sorted(rows, key=lambda i: start[i])
        numbers = row_stays([types[i] for i in rows], [units[i] for i in rows])
        spans: dict[int, StaySpan] = {}
        for i, number in zip(rows, numbers, strict=True):
            if number not in spans:
                spans[number] = StaySpan(batch_id, types[i], start[i], end[i], units[i],
                                         bool(fixed[i]))
                out.append(spans[number])
            span = spans[number]
            span.end = max(span.end, end[i])
            span.rows.append(i)
    return out


def batch_stays(batches: pd.DataFrame) -> pd.DataFrame:
    """One row per vessel stay of a ``Plan.batches`` table: index (``batch_id``, ``stay``),
    columns ``reactor_type, reactor_unit, start_day, end_day, phases, transfer_in`` (the stay
    starts with a transfer from another vessel, i.e. it is not the batch's first)."""
    columns = ["reactor_type", "reactor_unit", "start_day", "end_day", "phases", "transfer_in"]
    if batches.empty:
        empty = pd.DataFrame(columns=columns)
        empty.index = pd.MultiIndex.from_arrays([[], []], names=["batch_id", "stay"])
        return empty
    frame = batches.reset_index()
    records = []
    count: dict[str, int] = defaultdict(int)
    for st in stay_spans(frame):
        k = count[st.batch_id]
        count[st.batch_id] += 1
        phases = "+".join(str(frame.at[i, "phase"]) for i in st.rows)
        records.append((st.batch_id, k, st.reactor_type, st.unit, st.start, st.end, phases, k > 0))
    out = pd.DataFrame(records, columns=["batch_id", "stay", *columns])
    return out.set_index(["batch_id", "stay"]).sort_index()


def whole_unit_deliveries(data: PlanData, supply: dict[tuple[str, int], float],
                          delivered_per_day: dict[tuple[str, int], float]
                          ) -> dict[tuple[str, int, int], float]:
    """Deliveries (product, cohort day, day) -> units, earliest-expiring cohort first.

    ``supply[(p, c)]``: units of cohort c to deliver (released − left over, whole units when the
    plan is in whole units); ``delivered_per_day[(p, d)]``: units delivered on day d (demand −
    shortage). All cohorts of a product have delivery windows of one length, so the solver's
    deliveries prove a feasible assignment exists, and serving each day from the open cohort that
    expires first finds one too (the greedy rule for convex bipartite supply matching); with
    whole-unit supplies and days it delivers whole units.
    """
    out: dict[tuple[str, int, int], float] = {}
    left = dict(supply)
    for p, prod in data.products.items():
        cohorts = sorted(c for (q, c) in left if q == p)
        for d in range(data.horizon_days):
            need = delivered_per_day.get((p, d), 0.0)
            for c in cohorts:
                if need <= 1e-9:
                    break
                if c > d or prod.expiry_day(c) <= d or left[(p, c)] <= 1e-9:
                    continue
                take = min(need, left[(p, c)])
                out[(p, c, d)] = out.get((p, c, d), 0.0) + take
                left[(p, c)] -= take
                need -= take
    return out


def snap(value: float, tol: float = 1e-6) -> float:
    """``value`` rounded to the nearest whole number when it is within ``tol`` of one (solver
    noise on integer quantities), else unchanged."""
    near = round(value)
    return float(near) if abs(value - near) <= tol else value


def solver_deliveries(data: PlanData, delivered: dict[Any, float]
                      ) -> dict[tuple[str, int, int], float]:
    """The solver's ``cohort_delivered`` values re-derived in whole units (see
    :func:`whole_unit_deliveries`)."""
    supply: dict[tuple[str, int], float] = defaultdict(float)
    per_day: dict[tuple[str, int], float] = defaultdict(float)
    for (p, c, d), u in delivered.items():
        supply[(p, c)] += u
        per_day[(p, d)] += u
    return whole_unit_deliveries(data, {k: snap(v) for k, v in supply.items()},
                                 {k: snap(v) for k, v in per_day.items()})
