"""The one Pareto definition: the rows no other row dominates (all criteria minimised).

Both uses rank recipes with it: ``bioplan media`` (per card: cost of materials, days, reactor-days;
:mod:`bioplan.media_options`) and the planner's option pruning (per product, source and reactor
route: the same criteria with reactor costs included, reactor-days per type and the limited
resources; :func:`bioplan.optimisation.options.pareto_options`).
"""

from __future__ import annotations

import numpy as np


def pareto_efficient(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (n × k, all minimised) that no other row dominates
    (at least as good in every criterion and strictly better in one). Rows with NaN are never
    efficient.

    >>> pareto_efficient(np.array([[1, 2], [2, 1], [2, 2], [1, 2]])).tolist()
    [True, True, False, True]
    """
    n = len(points)
    valid = ~np.isnan(points).any(axis=1)
    efficient = valid.copy()
    others = points[valid]
    for i in range(n):
        if not valid[i]:
            continue
        dominated = (others <= points[i]).all(axis=1) & (others < points[i]).any(axis=1)
        efficient[i] = not dominated.any()
    return efficient
