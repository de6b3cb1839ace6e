"""A compiled model as plain numpy arrays: picklable, so it can go to a pool worker.

``highspy.HighsLp`` cannot be pickled; this holds the same numbers (costs, bounds, the
column-wise matrix, integrality) plus the column keys and the capacity rows, so an exact
re-solve only changes a bound and passes the model to a fresh HiGHS — no Pyomo build, no compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class LpArrays:
    """The arrays of a ``HighsLp`` (see ``solve.compile_model``)."""

    col_cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    integer: np.ndarray
    """True for integer columns."""
    keys: list[tuple[str, Any]]
    """(component name, index) of every column."""
    dual_rows: Any
    """:class:`bioplan.optimisation.duals.DualRows` (the capacity rows) or None."""

    @classmethod
    def from_highs_lp(cls, lp: Any, keys: list[tuple[str, Any]], dual_rows: Any) -> LpArrays:
        import highspy

        kinds = list(lp.integrality_)
        integer = (np.array([k == highspy.HighsVarType.kInteger for k in kinds], dtype=bool)
                   if kinds else np.zeros(lp.num_col_, dtype=bool))
        a = lp.a_matrix_
        return cls(np.array(lp.col_cost_, dtype=float), float(lp.offset_),
                   np.array(lp.col_lower_, dtype=float), np.array(lp.col_upper_, dtype=float),
                   np.array(lp.row_lower_, dtype=float), np.array(lp.row_upper_, dtype=float),
                   np.array(a.start_, dtype=np.int32), np.array(a.index_, dtype=np.int32),
                   np.array(a.value_, dtype=float), integer, keys, dual_rows)

    def to_highs_lp(self) -> Any:
        """A fresh ``highspy.HighsLp`` with these numbers."""
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_ = len(self.col_cost)
        lp.num_row_ = len(self.row_lower)
        lp.col_cost_ = self.col_cost
        lp.offset_ = self.offset
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.a_start
        lp.a_matrix_.index_ = self.a_index
        lp.a_matrix_.value_ = self.a_value
        if self.integer.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else
                               highspy.HighsVarType.kContinuous for i in self.integer]
        return lp

    def column_positions(self, component: str) -> dict[Any, int]:
        """Column number of each index of ``component``."""
        return {index: j for j, (name, index) in enumerate(self.keys) if name == component}
