"""The capacity rows of the model that carry a shadow price, and where they sit in the matrix.

A leaf of the optimisation package (no Pyomo import): the compiler locates these rows
(:func:`capacity_rows`) and the fixed-integer LP (:mod:`bioplan.optimisation.duals`) and the exact
re-solves (:mod:`bioplan.optimisation.exact_prices`) read or change them by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CapacityRow:
    """How one group of capacity rows maps to a resource and a day."""

    component: str
    """Name of the Pyomo constraint component."""
    unit: str
    """Unit of its shadow price."""
    day_scale: int = 1
    """Days per index step (7 for weekly rows: the index is a week, the day its first day)."""


LOT_ROWS = "starting_material"
"""Component name of the lots-per-source-and-week rows (the constraint shares its cost term's
name; this is the one place that spells it)."""

CAPACITY_ROWS: tuple[CapacityRow, ...] = (
    CapacityRow("reactor_occupancy", "USD per reactor-day"),
    CapacityRow("media_prep", "USD per L of media preparation"),
    CapacityRow("labour", "USD per operation"),
    CapacityRow(LOT_ROWS, "USD per lot", day_scale=7),
    CapacityRow("storage", "USD per unit-day of storage"),
)
"""Every capacity row group with a shadow price (model component names of
:mod:`bioplan.optimisation.reactors`, ``resources`` and ``inventory``)."""

BY_COMPONENT = {r.component: r for r in CAPACITY_ROWS}
DUAL_TOL = 1e-9
"""Duals smaller than this [k$ per row unit] are read as zero (HiGHS's dual feasibility is 1e-7)."""


def resource_of(component: str, index: Any) -> tuple[str, int]:
    """(resource name, day) of one capacity row, e.g. ``("reactor:tank", 12)``."""
    spec = BY_COMPONENT[component]
    if component == "reactor_occupancy":
        t, day = index
        return f"reactor:{t}", int(day)
    if component == LOT_ROWS:
        q, week = index
        return f"source:{q}", int(week) * spec.day_scale
    if component == "storage":
        p, day = index
        return f"storage:{p}", int(day)
    return component, int(index)


@dataclass
class DualRows:
    """Positions of the capacity rows in a compiled model (picklable, no Pyomo objects)."""

    positions: np.ndarray
    """Row numbers in the compiled matrix."""
    keys: list[tuple[str, Any]]
    """(component name, index) of each of those rows."""


def capacity_rows(rows: list[Any]) -> DualRows:
    """Find the capacity rows among the compiled model's rows (``compile_model``'s row list)."""
    positions: list[int] = []
    keys: list[tuple[str, Any]] = []
    for i, con in enumerate(rows):
        name = con.parent_component().local_name
        if name in BY_COMPONENT:
            positions.append(i)
            keys.append((name, con.index()))
    return DualRows(np.asarray(positions, dtype=int), keys)
