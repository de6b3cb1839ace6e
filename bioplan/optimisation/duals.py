"""Shadow prices of the capacity rows from one extra LP: the plan with its integer decisions fixed.

After the MIP, every integer column (batches per slot, reactors added) is fixed at the plan's
value and integrality is dropped; what is left is an LP in the continuous decisions (batch sizes,
deliveries, stock, shortages) whose optimum is the plan itself. The dual of each capacity row of
that LP is its **shadow price**: the cost saved [USD] per unit more of that resource on that day
(or week), *with the batches held as planned*.

What such a dual does and does not tell:

- it prices a **marginal** unit (one more litre of media preparation on day τ, one more lot in
  week w, one more stock place on day d), valid as long as the same rows stay binding;
- it does **not** price a whole extra reactor: reactor-days and operations are used by whole
  batches, and with the batches fixed a sliver more of a reactor-day can change nothing, so those
  duals are zero. The value of a whole extra reactor (a new batch, a re-planned schedule) needs a
  re-solve: ``plan(..., marginal_values="exact")``;
- a degenerate LP has many optimal duals; HiGHS returns one of them (e.g. the value of the media
  limit of a 7-day batch may sit on any of its 7 days: the horizon sum is what is unique).

Rows priced (component of the model -> resource, unit)::

    reactor_occupancy[t, τ]   reactor:<t>        USD per reactor-day
    media_prep[τ]             media_prep         USD per L of preparation (that day)
    labour[τ]                 labour             USD per operation
    starting_material[q, w]   source:<q>         USD per lot (that week; ``day`` = its first day)
    storage[p, d]             storage:<p>        USD per unit-day of storage

No Pyomo here beyond what the compiled model carries: the LP is a ``highspy.HighsLp``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from bioplan.optimisation.capacity_rows import (
    BY_COMPONENT,
    DUAL_TOL,
    DualRows,
    capacity_rows,
    resource_of,
)

log = logging.getLogger(__name__)


@dataclass
class DualResult:
    """Outcome of the fixed-integer LP."""

    ok: bool
    """True if HiGHS solved the LP to optimality (else ``prices`` is empty)."""
    prices: dict[tuple[str, Any], float]
    """Shadow price of every capacity row with a non-zero dual [k$ per row unit, ≥ 0 = saving]."""
    objective: float | None
    """The LP's objective [k$]: equals the plan's within tolerances."""
    seconds: float
    """HiGHS run time of the LP [s]."""
    message: str = ""


def fixed_lp_duals(lp: Any, keys: list[tuple[str, Any]], rows: DualRows,
                   values: dict[str, dict[Any, float]], *, threads: int = 1,
                   time_limit_s: float = 60.0) -> DualResult:
    """Fix the integer columns of ``lp`` at ``values`` (the plan), solve the LP, read the duals.

    ``lp`` is the compiled MIP (``highspy.HighsLp``, left unchanged), ``keys`` its columns'
    (component, index), ``values`` the plan's non-zero values by component and index.

    Sign: for a ``≤`` capacity row of a minimisation, HiGHS's row dual ``y ≤ 0`` is the change of
    the objective per unit more right-hand side; the shadow price reported is ``−y`` (the cost
    saved), so a binding capacity has a positive price.
    """
    import highspy

    from bioplan.optimisation.quiet_highs import quiet_highs, run_for_row_duals

    integer = _integer_mask(lp)
    fixed = np.array([round(values.get(name, {}).get(index, 0.0)) for name, index in keys],
                     dtype=float)
    lower = np.asarray(lp.col_lower_, dtype=float).copy()
    upper = np.asarray(lp.col_upper_, dtype=float).copy()
    lower[integer] = fixed[integer]
    upper[integer] = fixed[integer]
    h = quiet_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    h.changeColsIntegrality(len(keys), np.arange(len(keys), dtype=np.int32),
                            np.full(len(keys), highspy.HighsVarType.kContinuous))
    idx = np.flatnonzero(integer).astype(np.int32)
    if idx.size:
        h.changeColsBounds(int(idx.size), idx, lower[idx], upper[idx])
    row_dual, seconds, message = run_for_row_duals(h, "fixed-integer LP")
    if row_dual is None:
        return DualResult(False, {}, None, seconds, message)
    prices: dict[tuple[str, Any], float] = {}
    for pos, key in zip(rows.positions, rows.keys, strict=True):
        y = -float(row_dual[pos])
        if abs(y) > DUAL_TOL:
            prices[key] = y
    objective = float(h.getInfo().objective_function_value)
    return DualResult(True, prices, objective, seconds)


def _integer_mask(lp: Any) -> np.ndarray:
    import highspy

    kinds = list(lp.integrality_)
    if not kinds:
        return np.zeros(lp.num_col_, dtype=bool)
    return np.array([k == highspy.HighsVarType.kInteger for k in kinds], dtype=bool)


def shadow_prices(data: Any, values: dict[str, dict[Any, float]], *, threads: int = 1,
                  time_limit_s: float = 60.0) -> DualResult:
    """Build and compile the model for ``data`` (a ``PlanData``), then :func:`fixed_lp_duals` at
    the plan ``values`` (``SolveResult.values``). The stand-alone route; the planner's own solve
    runs the same LP on the model it already compiled (``SolveOptions.price_resources``)."""
    from bioplan.optimisation.compile import compile_model
    from bioplan.optimisation.model import build_model

    model = build_model(data)  # alive while its rows are read (their block is a weak reference)
    lp, columns, rows, _facts = compile_model(model)
    keys = [(v.parent_component().local_name, v.index()) for v in columns]
    return fixed_lp_duals(lp, keys, capacity_rows(rows), values, threads=threads,
                          time_limit_s=time_limit_s)


def price_records(prices: dict[tuple[str, Any], float]) -> list[tuple[str, int, float, str]]:
    """(resource, day, shadow price [USD], unit) of every priced row, sorted by resource and day."""
    from bioplan.optimisation.data import USD_SCALE

    out = []
    for (component, index), value in prices.items():
        resource, day = resource_of(component, index)
        out.append((resource, day, round(value * USD_SCALE, 6), BY_COMPONENT[component].unit))
    return sorted(out)
