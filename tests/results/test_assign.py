"""Unit assignment after the solve: maintenance pins down-time to one unit."""

from __future__ import annotations

from bioplan.results.assign import Interval, assign_units


def _clash_free(intervals: list[Interval], units: dict[int, int], down: dict[int, set[int]]) -> bool:
    for a in intervals:
        if any(d in down.get(units[a.key], set()) for d in range(a.start, a.end)):
            return False
        for b in intervals:
            same_unit = a.key < b.key and units[a.key] == units[b.key]
            if same_unit and a.start < b.busy_end and b.start < a.busy_end:
                return False
    return True


def test_phase_spanning_the_window_avoids_the_down_unit() -> None:
    """Two units, unit 1 down on day 4. Worked by hand: A (days 0-1) takes unit 1, B (days 1-5)
    spans the window so takes unit 2, C (days 2-3, done before day 4) fits on unit 1 again."""
    ivs = [
        Interval(key=0, reactor_type="t", start=0, end=2, busy_end=2),
        Interval(key=1, reactor_type="t", start=1, end=6, busy_end=6),
        Interval(key=2, reactor_type="t", start=2, end=4, busy_end=4),
    ]
    down = {1: {4}}
    units = assign_units(ivs, {"t": 2}, {("t", 1): down[1]})
    assert units == {0: 1, 1: 2, 2: 1}
    assert _clash_free(ivs, units, down)


def test_many_identical_units_with_one_window_assign_without_clash() -> None:
    """Nine units, unit 1 down on days 21-22, and a staggered stream of 6-day phases with one
    turnaround day, never more than 8 busy on days 21-22 (the model's occupancy bound): a
    clash-free assignment exists and is found (the shipped 'platelets-only:line-only' case)."""
    starts = [5, 5, 7, 8, 9, 9, 10, 11, 12, 12, 13, 14, 15, 16, 17, 17, 18, 19, 19, 20, 22, 23, 23,
              24, 24, 25, 26, 26, 27]
    ivs = [Interval(key=i, reactor_type="t", start=s, end=s + 6, busy_end=s + 7)
           for i, s in enumerate(starts)]
    down = {1: {21, 22}}
    units = assign_units(ivs, {"t": 9}, {("t", 1): down[1]})
    assert _clash_free(ivs, units, down)


def test_pins_that_cannot_all_hold_raise_when_clashes_are_not_allowed() -> None:
    """Two units; phases pinned to unit 1 on days 0-4 and 2-6 overlap, so no assignment keeps
    both pins: strict mode says so, the default falls back (and logs the clash)."""
    import pytest

    from bioplan.results.assign import AssignmentFailed

    ivs = [
        Interval(key=0, reactor_type="t", start=0, end=4, busy_end=4, unit=1),
        Interval(key=1, reactor_type="t", start=2, end=6, busy_end=6, unit=1),
    ]
    with pytest.raises(AssignmentFailed):
        assign_units(ivs, {"t": 2}, {}, allow_clash=False)
    assert assign_units(ivs, {"t": 2}, {}) == {0: 1, 1: 1}
