"""Assign individual reactor units to batch phases after the solve.

The model counts busy units per reactor type and day; here each phase gets a unit. Phases are
intervals ``[start, end + turnaround)``; taken in order of start day, each goes to a free unit
(best fit: the unit that became free most recently), skipping units in maintenance during the
culture days. With the aggregated occupancy constraint satisfied this succeeds, as interval
graphs need no more colours than their largest overlap; if maintenance windows on particular units
make it fail, the phase goes to the least-conflicting unit and a warning is logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Interval:
    key: int
    """Row position in the batches table."""
    reactor_type: str
    start: int
    end: int
    """End of culture (exclusive) [day]."""
    busy_end: int
    """End including turnaround (exclusive) [day]."""
    unit: int | None = None
    """Pre-assigned unit (fixed batches), 1-based."""


def assign_units(intervals: list[Interval], fleet: dict[str, int],
                 maintenance: dict[tuple[str, int], set[int]]) -> dict[int, int]:
    """Unit (1-based) for each interval key; ``maintenance[(type, unit)]`` lists down days."""
    by_type: dict[str, list[Interval]] = defaultdict(list)
    for iv in intervals:
        by_type[iv.reactor_type].append(iv)
    out: dict[int, int] = {}
    for rtype, items in by_type.items():
        n_units = max(fleet.get(rtype, 0), 1)
        busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for iv in items:
            if iv.unit is not None:
                busy[iv.unit].append((iv.start, iv.busy_end))
                out[iv.key] = iv.unit
        for iv in sorted((i for i in items if i.unit is None), key=lambda i: (i.start, i.busy_end)):
            best, best_free_since, best_conflicts = None, None, None
            for unit in range(1, n_units + 1):
                conflicts = sum(1 for (s, e) in busy[unit] if s < iv.busy_end and iv.start < e)
                down = maintenance.get((rtype, unit), set())
                conflicts += sum(1 for d in range(iv.start, iv.end) if d in down)
                free_since = max((e for (_s, e) in busy[unit] if e <= iv.start), default=-10**9)
                rank = (conflicts, -free_since)
                if best is None or rank < (best_conflicts, -best_free_since):  # type: ignore[operator]
                    best, best_free_since, best_conflicts = unit, free_since, conflicts
            assert best is not None
            if best_conflicts:
                log.warning("no free %s unit for days %d-%d: assigned to unit %d with a clash",
                            rtype, iv.start, iv.busy_end, best)
            busy[best].append((iv.start, iv.busy_end))
            out[iv.key] = best
    return out
