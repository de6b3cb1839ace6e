"""The second stage of a plan: re-dispatch realised product, first-expiry-first (no Pyomo).

Once the batches are fixed, what is left to decide for one realisation of the yields is which
released units go to which day's demand, which are held, and which are thrown away. Products do not
share any second-stage resource, so the recourse splits into one problem per product. For one
product with released units ``R[c]`` on cohort days ``c`` (usable on days ``c .. c + life − 1``),
demand ``D[d]``, a storage limit ``K`` on end-of-day stock, a price ``π ≥ 0`` per unit short and
``e ≥ 0`` per unit wasted (expired inside the horizon, or discarded for lack of storage), the rule

1. deliver as much as the usable stock allows every day (``min(D[d], stock)``),
2. issue the units that expire first (FEFO), and
3. when the end-of-day stock exceeds ``K``, discard the excess, oldest units first,

is an optimal solution of the recourse LP (the cohort / demand / storage rows of the planning
model with the first stage fixed, plus a discard column per cohort and day). Proof by exchange:

- (1) if demand on day d goes short while a unit u is usable on d, move u to day d. If u was
  delivered on a later day d', d' is now short instead (cost unchanged, and day d' is treated the
  same way later); if u was wasted or left at the horizon, the cost falls by π (and maybe e). End-
  of-day stock only falls, so the storage rows stay satisfied;
- (2) if a younger unit v is issued on day d while an older unit u (usable on d) is held, swap
  them: v is usable on every later day u was, so the swapped solution is feasible and wastes no more;
- (3) discarding is forced only by the storage row, by exactly the excess, and the oldest units
  are the least useful (they serve a subset of the days a younger unit serves), so discarding
  them last thing in the day (after the day's deliveries) dominates any other choice.

``tests/optimisation/test_recourse.py`` checks the rule against HiGHS on random instances.

All arrays are vectorised over samples (first axis), so a thousand realisations cost one pass
over the days: per day one cumulative sum over the cohorts that are usable that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOL = 1e-9
"""Quantities below this are treated as zero [unit]."""


@dataclass
class Dispatch:
    """One product's recourse over N samples (all arrays [unit], first axis = sample)."""

    delivered: np.ndarray
    """(N, H) units delivered on each day."""
    short: np.ndarray
    """(N, H) demand not met on each day."""
    stock: np.ndarray
    """(N, H) usable stock at the end of each day."""
    discarded: np.ndarray
    """(N, H) units thrown away at the end of each day for lack of storage."""
    expired: np.ndarray
    """(N, H) units whose last usable day was the day before (costed; inside the horizon)."""
    left: np.ndarray
    """(N,) units still usable at the end of the horizon (not costed, as in the plan)."""
    by_cohort: np.ndarray | None = None
    """(N, M, H) deliveries from each cohort on each day (only with ``detail=True``)."""
    discarded_by_cohort: np.ndarray | None = None
    """(N, M, H) discards from each cohort on each day (only with ``detail=True``)."""


def _take_oldest_first(block: np.ndarray, amount: np.ndarray | float) -> np.ndarray:
    """How much to take from each column of ``block`` (N, k; oldest first) to take ``amount``
    (N,) or a scalar in total, oldest columns first (never more than there is)."""
    cum = np.cumsum(block, axis=1)
    taken = np.minimum(cum, np.reshape(amount, (-1, 1)))
    out = np.diff(taken, axis=1, prepend=0.0)
    return np.maximum(out, 0.0)


def fefo_dispatch(
    cohort_days: np.ndarray,
    releases: np.ndarray,
    demand: np.ndarray,
    life_days: int,
    storage_units: float | None = None,
    *,
    detail: bool = False,
) -> Dispatch:
    """Optimal re-dispatch of one product (see the module docstring for the rule and its proof).

    Parameters
    ----------
    cohort_days : (M,) release day of each cohort [day], ascending; may be negative (released
        before the horizon) or beyond it (never usable).
    releases : (N, M) units released in each cohort in each sample [unit].
    demand : (H,) demand per day [unit/day].
    life_days : days a cohort can be delivered (shelf life − release delay) [day].
    storage_units : limit on end-of-day stock [unit]; None = unlimited.
    detail : also return deliveries by cohort and day (memory N × M × H).

    >>> d = fefo_dispatch(np.array([0, 2]), np.array([[3.0, 1.0]]), np.array([1.0, 1, 1, 1]), 2)
    >>> d.delivered.tolist(), float(d.expired.sum()), d.left.tolist()
    ([[1.0, 1.0, 1.0, 0.0]], 1.0, [0.0])
    """
    days = np.asarray(cohort_days, dtype=int)
    order = np.argsort(days, kind="stable")
    days = days[order]
    stock_by = np.array(releases, dtype=float)[:, order]
    n, m = stock_by.shape
    horizon = len(demand)
    z = np.zeros((n, horizon))
    out = Dispatch(delivered=z.copy(), short=z.copy(), stock=z.copy(), discarded=z.copy(),
                   expired=z.copy(), left=np.zeros(n))
    if detail:
        out.by_cohort = np.zeros((n, m, horizon))
        out.discarded_by_cohort = np.zeros((n, m, horizon))
    first_day = np.maximum(days, 0)
    last_day = days + life_days - 1  # last usable day
    for d in range(horizon):
        lo = int(np.searchsorted(last_day, d, side="left")) if m else 0
        # last_day is ascending with days, so cohorts lo.. have last_day >= d
        hi = int(np.searchsorted(first_day, d, side="right")) if m else 0
        gone = (last_day == d - 1) & (last_day >= 0) & (days < horizon)
        if gone.any():
            out.expired[:, d] = stock_by[:, gone].sum(axis=1)
        if hi <= lo:
            out.short[:, d] = demand[d]
            continue
        block = stock_by[:, lo:hi]
        take = _take_oldest_first(block, float(demand[d]))
        block -= take
        if out.by_cohort is not None:
            out.by_cohort[:, lo:hi, d] = take
        out.delivered[:, d] = take.sum(axis=1)
        out.short[:, d] = np.maximum(demand[d] - out.delivered[:, d], 0.0)
        held = block.sum(axis=1)
        if storage_units is not None:
            excess = np.maximum(held - storage_units, 0.0)
            if (excess > TOL).any():
                thrown = _take_oldest_first(block, excess)
                block -= thrown
                if out.discarded_by_cohort is not None:
                    out.discarded_by_cohort[:, lo:hi, d] = thrown
                out.discarded[:, d] = excess
                held = held - excess
        out.stock[:, d] = held
    usable_at_end = (last_day >= horizon - 1) & (days < horizon)
    out.left = stock_by[:, usable_at_end].sum(axis=1)
    if out.by_cohort is not None:
        back = np.empty_like(order)
        back[order] = np.arange(m)
        out.by_cohort = out.by_cohort[:, back, :]
        assert out.discarded_by_cohort is not None
        out.discarded_by_cohort = out.discarded_by_cohort[:, back, :]
    return out
