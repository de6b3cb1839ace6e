"""Column names and typed identifiers shared between the layers (no Pyomo, plotting or UI).

A cytokine is identified by its factor and its dosing unit: :class:`CytokineKey`. Recipe tables
name its total use ``cytokine_<FACTOR>_<unit>_per_seed_cell`` (:data:`CYTOKINE_COLUMN`, the one
pattern), plan tables ``<FACTOR>_<unit>`` (``media_use``) and cost rows ``cytokine:<FACTOR>``.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple, cast

CytokineUnit = Literal["mg", "kU"]
"""Mass-dosed factors in mg, activity-dosed ones (EPO) in kU."""

CYTOKINE_COLUMN = re.compile(r"^cytokine_(?P<factor>.+)_(?P<unit>mg|kU)_per_seed_cell$")
"""A recipe table's total-cytokine column (``cytokine_EPO_kU_per_seed_cell``): factor and unit."""

PHASE_CYTOKINE_COLUMN = re.compile(r"^phase(?P<k>\d+)_(?P<total>cytokine_.+_(?:mg|kU)_per_seed_cell)$")
"""A recipe table's per-phase cytokine column (``phase2_cytokine_EPO_kU_per_seed_cell``)."""


class CytokineKey(NamedTuple):
    """One cytokine: ``factor`` (``EPO``, ``SCF``) and the ``unit`` it is dosed in."""

    factor: str
    unit: CytokineUnit

    @classmethod
    def from_column(cls, column: str) -> CytokineKey | None:
        """The key of a recipe-table total column, or None if ``column`` is not one."""
        match = CYTOKINE_COLUMN.match(column)
        if match is None:
            return None
        return cls(match["factor"], cast(CytokineUnit, match["unit"]))

    @property
    def label(self) -> str:
        """``EPO_kU``: the column of ``Plan.media_use`` and the key of per-cytokine amounts."""
        return f"{self.factor}_{self.unit}"

    @property
    def per_seed_column(self) -> str:
        """``cytokine_EPO_kU_per_seed_cell``: the recipe table's total column."""
        return f"cytokine_{self.factor}_{self.unit}_per_seed_cell"

    def phase_column(self, k: int) -> str:
        """``phase<k>_cytokine_EPO_kU_per_seed_cell``: the recipe table's column of phase ``k``."""
        return f"phase{k}_{self.per_seed_column}"

    @property
    def cost_row(self) -> str:
        """``cytokine:EPO``: this factor's row of ``Plan.cost_breakdown``."""
        return f"cytokine:{self.factor}"


def cytokine_keys(columns: object) -> list[CytokineKey]:
    """The cytokines of a recipe table, in column order (``columns``: the table's columns)."""
    keys = (CytokineKey.from_column(str(c)) for c in columns)  # type: ignore[attr-defined]
    return [k for k in keys if k is not None]


BATCH_COLUMNS = [
    "product", "recipe", "phase", "reactor_type", "reactor_unit", "start_day", "end_day",
    "seed_cells", "product_units", "medium_L", "cytokine_mg", "epo_kU",
]
"""Columns of ``Plan.batches`` (index ``batch_id``): one row per batch phase; ``end_day`` is
exclusive and excludes turnaround; ``seed_cells`` [cells] and ``product_units`` [units] repeat the
batch's totals on each of its phase rows; ``medium_L`` [L], ``cytokine_mg`` [mg] (the mass-dosed
factors, summed) and ``epo_kU`` [kU] (the activity-dosed factors — EPO — summed) are that phase's
own use: seed cells × the recipe's ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``, or, for a
hand-made recipe table without those columns, the recipe's total split by the phases' medium."""


class TableSchema(NamedTuple):
    """Index levels and columns of one plan table."""

    levels: tuple[str, ...]
    """Index level names."""
    columns: tuple[str, ...]


PLAN_TABLES: dict[str, TableSchema] = {
    "batches": TableSchema(("batch_id",), tuple(BATCH_COLUMNS)),
    "deliveries": TableSchema(("day", "product", "cohort_day"), ("units",)),
    "shortages": TableSchema(("day", "product"), ("units",)),
    "expiries": TableSchema(("day", "product"), ("units",)),
    "inventory": TableSchema(("day", "product", "cohort_day"), ("units",)),
    "occupancy": TableSchema(("day", "reactor_type"), ("units_busy", "units_available")),
    "media_use": TableSchema(("day",), ("medium_L",)),
    "capacity": TableSchema(("reactor_type",), ("units_owned", "units_added", "acquisition")),
    "cost_by_product": TableSchema(("product", "term"), ("usd",)),
    "marginal_values": TableSchema(("resource",),
                                   ("usd_per_unit", "unit", "gap", "above_noise", "method")),
    "bottlenecks": TableSchema(("resource", "day"), ("date", "shadow_price", "unit")),
}
"""The tables of a ``Plan``: index names (as the optimisation's sets) and columns (with units);
``media_use`` adds one ``<FACTOR>_<unit>`` column per cytokine."""
