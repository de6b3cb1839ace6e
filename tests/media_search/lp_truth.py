"""The LP's own reduced costs ``c − Aᵀy`` of a compiled model, the truth the pricing tests
compare the hand-written reduced costs with."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


def lp_reduced_costs(lp: Any, rows: list[Any]) -> np.ndarray:
    """Solve ``lp`` (a ``highspy.HighsLp``) with integrality dropped and return every column's
    ``c − Aᵀy``, the batch-size rows' duals set to 0 (a new column's own batch-size rows have
    zero duals, and the priced direction keeps ``x = u·n``)."""
    import highspy

    a = sp.csc_matrix((np.array(lp.a_matrix_.value_), np.array(lp.a_matrix_.index_),
                       np.array(lp.a_matrix_.start_)), shape=(lp.num_row_, lp.num_col_))
    lp.integrality_ = []
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    y = np.array(h.getSolution().row_dual)
    for i, con in enumerate(rows):
        if con.parent_component().local_name.startswith("batch_size"):
            y[i] = 0.0
    return np.asarray(np.array(lp.col_cost_) - a.T @ y)
