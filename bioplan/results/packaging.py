"""Whole units and vessel stays after the solve: share a release day's packaged units over its batches,
group each batch's phase rows into the stays that hold one vessel, and dispatch the released
whole units (deliveries, shortages, expiries) first-expiry-first.

See ``docs/planning-model.md`` ("Whole units", "Same-vessel continuation") for the proofs these
functions rely on.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.optimisation.data import row_stays
from bioplan.optimisation.recourse import fefo_dispatch

if TYPE_CHECKING:
    from bioplan.optimisation.data import PlanData

Values = dict[str, dict[Any, float]]
TOL = 1e-7
"""Quantities below this are treated as zero [unit]."""

log = logging.getLogger(__name__)


def pool_bags(grown: list[float], packed: float) -> list[float]:
    """Whole units (bags) of each batch of one release-day pool: the pool's ``packed`` whole
    units shared in proportion to the cells each batch grew (``grown`` [unit]), rounded by
    largest remainder so that every batch gets whole units and they add up to ``packed``.

    A batch may so fill one bag more than its own cells make (topped up from the pool), never
    two: each share is at most what the batch grew.

    >>> pool_bags([1.6, 0.6, 0.9], 3)
    [2.0, 0.0, 1.0]
    """
    total = sum(grown)
    k = max(round(packed), 0)
    if total <= 0 or k == 0:
        return [0.0] * len(grown)
    share = [g * k / total for g in grown]
    bags = [math.floor(x + 1e-9) for x in share]
    order = sorted(range(len(grown)), key=lambda i: (-(share[i] - bags[i]), i))
    for i in order[:k - sum(bags)]:
        bags[i] += 1
    return [float(b) for b in bags]


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


def released_units(data: PlanData, batches: pd.DataFrame, fixed: set[str]
                   ) -> dict[tuple[str, int], float]:
    """Units released per (product, cohort day): the initial stock and fixed batches (from
    ``data``) and the packaged units of every new batch of ``batches`` [unit]."""
    released: dict[tuple[str, int], float] = defaultdict(float)
    for p, pd_ in data.products.items():
        for c, u in pd_.fixed_release.items():
            released[(p, c)] += u
    if batches.empty:
        return released
    # one pass over plain columns (a groupby + iterrows here was a fifth of the extraction)
    product: dict[str, str] = {}
    units: dict[str, float] = {}
    harvest: dict[str, int] = {}
    ids = batches.index.get_level_values("batch_id").astype(str)
    for b, p, u, end in zip(ids, batches["product"].tolist(), batches["product_units"].tolist(),
                            batches["end_day"].tolist(), strict=True):
        if b in fixed:
            continue
        product.setdefault(b, str(p))
        if b not in units and not pd.isna(u):  # the batch's first stated units, as groupby's first
            units[b] = float(u)
        harvest[b] = max(harvest.get(b, int(end)), int(end))
    for b, p in product.items():
        released[(p, harvest[b] + data.products[p].release_days)] += units.get(b, 0.0)
    return released


@dataclass
class Recourse:
    """The plan's whole-unit dispatch (all in units)."""

    delivered: dict[tuple[str, int, int], float]
    """(product, cohort day, day) -> units delivered."""
    short: dict[tuple[str, int], float]
    """(product, day) -> units short."""
    expired: dict[tuple[str, int], float]
    """(product, day) -> units expired (or discarded for lack of storage) that day."""


def whole_unit_recourse(data: PlanData, released: dict[tuple[str, int], float]) -> Recourse:
    """Deliveries, shortages and expiries of the released units, first-expiry-first.

    The rule of :func:`bioplan.optimisation.recourse.fefo_dispatch` is an optimal solution of the
    model's cohort / demand / storage rows with the releases fixed (its proof is there), so it
    costs no more than the solver's own deliveries; from whole releases and whole demand it
    delivers whole units (every quantity is a minimum or a running sum of whole numbers).
    """
    out = Recourse({}, {}, {})
    for p, prod in data.products.items():
        days = np.array(sorted(c for (q, c) in released if q == p), dtype=int)
        units = np.array([[released[(p, int(c))] for c in days]], dtype=float)
        d = fefo_dispatch(days, units.reshape(1, len(days)), np.asarray(prod.demand, dtype=float),
                          prod.expiry_day(0), prod.storage_capacity, detail=True)
        assert d.by_cohort is not None
        for (_n, k, day) in zip(*np.nonzero(d.by_cohort > TOL), strict=True):
            out.delivered[(p, int(days[k]), int(day))] = snap(float(d.by_cohort[0, k, day]))
        for day in np.flatnonzero(d.short[0] > TOL):
            out.short[(p, int(day))] = snap(float(d.short[0, day]))
        gone = d.expired[0] + d.discarded[0]
        for day in np.flatnonzero(gone > TOL):
            out.expired[(p, int(day))] = snap(float(gone[day]))
        if d.discarded.sum() > TOL:
            log.warning("%s: %g units discarded for lack of storage (counted as expired)", p,
                        float(d.discarded.sum()))
    return out


def snap(value: float, tol: float = 1e-6) -> float:
    """``value`` rounded to the nearest whole number when it is within ``tol`` of one (solver
    noise on integer quantities), else unchanged."""
    near = round(value)
    return float(near) if abs(value - near) <= tol else value
