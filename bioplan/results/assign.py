"""Assign individual reactor units to batch phases after the solve.

The model counts busy units per reactor type and day; here each phase gets a unit. Phases are
intervals ``[start, end + turnaround)``; a unit hosts a phase when no other phase on it overlaps
that interval and none of the phase's culture days ``[start, end)`` falls in the unit's maintenance
window. Without maintenance, taking phases by start day and giving each a free unit always
succeeds (interval graphs need no more colours than their largest overlap, which the occupancy
constraint bounds). Maintenance pins down-time to particular units, where a greedy choice can paint
itself into a corner, so the search prefers the free unit whose next commitment comes soonest
(keeping long free stretches for later phases) and backtracks when a phase finds no free unit. If
the bounded search still fails, the phase goes to the least-conflicting unit and a warning is
logged (the independent plan checker then reports the clash).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

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


class AssignmentFailed(Exception):
    """No clash-free assignment was found (raised only with ``allow_clash=False``)."""


SEARCH_LIMIT = 200_000
"""Most unit choices tried per reactor type before falling back to the greedy assignment."""


def assign_units(intervals: list[Interval], fleet: dict[str, int],
                 maintenance: dict[tuple[str, int], set[int]], *,
                 allow_clash: bool = True) -> dict[int, int]:
    """Unit (1-based) for each interval key; ``maintenance[(type, unit)]`` lists down days.

    With ``allow_clash=False`` a failed search raises :class:`AssignmentFailed` instead of
    falling back to the least-conflicting units.
    """
    by_type: dict[str, list[Interval]] = defaultdict(list)
    for iv in intervals:
        by_type[iv.reactor_type].append(iv)
    out: dict[int, int] = {}
    for rtype, items in by_type.items():
        n_units = max(fleet.get(rtype, 0), 1)
        down = {u: maintenance.get((rtype, u), set()) for u in range(1, n_units + 1)}
        out.update(_assign_type(rtype, items, n_units, down, allow_clash))
    return out


def _assign_type(rtype: str, items: list[Interval], n_units: int,
                 down: dict[int, set[int]], allow_clash: bool) -> dict[int, int]:
    search = _UnitSearch(n_units, down)
    for iv in items:
        if iv.unit is not None:
            search.busy[iv.unit].append((iv.start, iv.busy_end))
            search.out[iv.key] = iv.unit
    todo = sorted((i for i in items if i.unit is None), key=lambda i: (i.start, i.busy_end))
    if not allow_clash and _pins_clash(search.busy):
        msg = f"phases pinned to {rtype} units overlap"
        raise AssignmentFailed(msg)
    if _recursion_ok(len(todo)) and search.place(todo, 0):
        return search.out
    if not allow_clash:
        msg = f"no clash-free assignment of {rtype} units"
        raise AssignmentFailed(msg)
    search.greedy(rtype, todo)
    return search.out


class _UnitSearch:
    """Depth-first search for a clash-free unit of each phase of one reactor type."""

    def __init__(self, n_units: int, down: dict[int, set[int]]) -> None:
        self.n_units = n_units
        self.down = down
        self.busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.out: dict[int, int] = {}
        self.tries = 0

    def clashes(self, unit: int, iv: Interval) -> int:
        overlap = sum(1 for (s, e) in self.busy[unit] if s < iv.busy_end and iv.start < e)
        down = self.down.get(unit)
        if not down:  # most units have no maintenance: skip the walk over the phase's days
            return overlap
        return overlap + sum(1 for d in range(iv.start, iv.end) if d in down)

    def next_commitment(self, unit: int, after: int) -> int:
        later = [d for d in self.down.get(unit, ()) if d >= after]
        later += [s for (s, _e) in self.busy[unit] if s >= after]
        return min(later, default=10**9)

    def free_since(self, unit: int, day: int) -> int:
        return max((e for (_s, e) in self.busy[unit] if e <= day), default=-10**9)

    def distinct_futures(self, units: list[int], day: int) -> list[int]:
        """Free units with the same future (maintenance days and fixed phases from ``day`` on) are
        interchangeable for every later phase: trying one of them is enough (symmetry)."""
        seen: set[tuple[tuple[int, ...], tuple[tuple[int, int], ...]]] = set()
        kept = []
        for unit in units:
            future = (tuple(sorted(d for d in self.down.get(unit, ()) if d >= day)),
                      tuple(sorted((s, e) for (s, e) in self.busy[unit] if e > day)))
            if future not in seen:
                seen.add(future)
                kept.append(unit)
        return kept

    def place(self, todo: list[Interval], k: int) -> bool:
        if k == len(todo):
            return True
        iv = todo[k]
        free = [u for u in range(1, self.n_units + 1) if self.clashes(u, iv) == 0]
        free.sort(key=lambda u: (self.next_commitment(u, iv.busy_end), -self.free_since(u, iv.start)))
        for unit in self.distinct_futures(free, iv.start):
            self.tries += 1
            if self.tries > SEARCH_LIMIT:
                return False
            self.busy[unit].append((iv.start, iv.busy_end))
            self.out[iv.key] = unit
            if self.place(todo, k + 1):
                return True
            self.busy[unit].pop()
            del self.out[iv.key]
        return False

    def greedy(self, rtype: str, todo: list[Interval]) -> None:
        """Fallback: least-conflict assignment; the clash is logged (and the checker reports it)."""
        for iv in todo:
            if iv.key in self.out:
                continue
            unit = min(range(1, self.n_units + 1),
                       key=lambda u: (self.clashes(u, iv), -self.free_since(u, iv.start)))
            if self.clashes(unit, iv):
                log.warning("no free %s unit for days %d-%d: assigned to unit %d with a clash",
                            rtype, iv.start, iv.busy_end, unit)
            self.busy[unit].append((iv.start, iv.busy_end))
            self.out[iv.key] = unit


def _pins_clash(busy: dict[int, list[tuple[int, int]]]) -> bool:
    """Whether two phases pinned to the same unit overlap."""
    for spans in busy.values():
        ordered = sorted(spans)
        if any(later[0] < earlier[1] for earlier, later in pairwise(ordered)):
            return True
    return False


def _recursion_ok(depth: int) -> bool:
    """The search recurses once per phase; make sure Python's stack allows it."""
    import sys

    needed = depth + 200
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)
    return True
