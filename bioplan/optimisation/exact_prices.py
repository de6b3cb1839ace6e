"""Exact marginal values: re-solve the plan's own compiled model with one more unit of a resource.

The value of one more reactor of type t (or one more L/day of media preparation) is
``V = z(plan) − z(plan's model with the capacity raised)`` [USD over the horizon]: a re-solve,
because a whole reactor changes integer decisions that no dual sees. Each re-solve here

- reuses the model compiled for the plan (:class:`~bioplan.optimisation.lp_arrays.LpArrays`):
  only bounds change — the right-hand side of the capacity rows (``reactor_occupancy[t, ·]``
  +1 unit, ``media_prep[·]`` +1 L/day) and, for a reactor, the fleet bound on the batches of the
  slots that use it (see ``data._slots``);
- starts from the plan (still feasible with more capacity), so ``V ≥ 0`` from the first incumbent;
  for a reactor type the plan bought or rented, from the plan with one unit fewer added (the same
  capacity, one unit's capital cheaper): a re-solve stopping at the plan's gap would otherwise
  often stop at the plan itself;
- runs on a process pool (one HiGHS thread per worker) with its own gap and time limit.

The extra reactor's own capital cost is not charged (the bound changes, no unit is bought), so
``V`` is gross, as in the re-solves it replaces.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bioplan.contracts import PlanStatus
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.lp_arrays import LpArrays
from bioplan.optimisation.outcome import SolveOptions, new_highs, relative_gap
from bioplan.optimisation.quiet_highs import run_highs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    """One more unit of one resource, as bound changes of the compiled model."""

    resource: str
    """``reactor:<type>`` or ``media_prep``."""
    rows: np.ndarray
    """Rows whose upper bound rises by one (unit or L/day)."""
    cols: np.ndarray
    """Columns whose upper bound changes (batches and units of the slots using the reactor)."""
    col_upper: np.ndarray
    """Their new upper bounds."""
    added_col: int = -1
    """Column of ``reactor_added[t]`` (−1: none): the start buys or rents one unit fewer."""


@dataclass(frozen=True)
class VariantResult:
    resource: str
    status: PlanStatus
    """OPTIMAL (to its gap), FEASIBLE (stopped at its time limit with a plan) or NO_SOLUTION."""
    objective: float | None
    """Incumbent objective of the re-solve [k$]."""
    gap: float | None
    """The re-solve's own relative gap [-]."""
    seconds: float
    """HiGHS run time [s]."""


def _rows_of(model: LpArrays, component: str, match: Any = None) -> np.ndarray:
    rows = model.dual_rows
    return np.array([pos for pos, (name, index) in zip(rows.positions, rows.keys, strict=True)
                     if name == component and (match is None or index[0] == match)], dtype=int)


def _fleet_bounds(data: PlanData, model: LpArrays, reactor: str) -> tuple[np.ndarray, np.ndarray]:
    """Columns and new upper bounds of ``slot_batches`` / ``slot_units`` with one more unit of
    ``reactor``: ``n_max(s) = max(1, min(fleet'(j), need(s)))``, ``x_max(s) = u_max(s) n_max(s)``."""
    batches, units = model.column_positions("slot_batches"), model.column_positions("slot_units")
    cols: list[int] = []
    upper: list[float] = []
    for s in range(len(data.slot_day)):
        opt = data.options[data.slot_option[s]]
        if all(ph.reactor_type != reactor for ph in opt.phases):
            continue
        fleet = min(data.reactors[ph.reactor_type].owned + data.reactors[ph.reactor_type].max_added
                    + (ph.reactor_type == reactor) for ph in opt.phases)
        bmax = float(max(1.0, min(fleet, data.slot_batches_need[s])))
        for positions, value in ((batches, bmax), (units, float(data.slot_units_max[s]) * bmax)):
            if s in positions:
                cols.append(positions[s])
                upper.append(value)
    return np.asarray(cols, dtype=int), np.asarray(upper, dtype=float)


def variants(data: PlanData, model: LpArrays) -> list[Variant]:
    """One variant per reactor type, and one for media preparation when it is limited."""
    out = []
    added = model.column_positions("reactor_added")
    for name in data.reactors:
        cols, upper = _fleet_bounds(data, model, name)
        out.append(Variant(f"reactor:{name}", _rows_of(model, "reactor_occupancy", name),
                           cols, upper, added.get(name, -1)))
    if data.media_prep_capacity is not None:
        out.append(Variant("media_prep", _rows_of(model, "media_prep"), np.zeros(0, dtype=int),
                           np.zeros(0)))
    return out


_MODEL: LpArrays | None = None
"""The model a pool worker received once at start-up (see ``_init``)."""


def _init(model: LpArrays) -> None:
    global _MODEL
    _MODEL = model


def solve_variant(model: LpArrays, variant: Variant, start: np.ndarray,
                  options: SolveOptions) -> VariantResult:
    """Raise the variant's bounds, start from ``start`` (the plan) and solve with a fresh HiGHS."""
    import highspy

    lp = model.to_highs_lp()
    row_upper = np.asarray(lp.row_upper_, dtype=float)
    row_upper[variant.rows] += 1.0
    lp.row_upper_ = row_upper
    if variant.cols.size:
        col_upper = np.asarray(lp.col_upper_, dtype=float)
        col_upper[variant.cols] = np.maximum(col_upper[variant.cols], variant.col_upper)
        lp.col_upper_ = col_upper
    h = new_highs(options.time_limit_s, options)
    h.passModel(lp)
    start = start.copy()
    if variant.added_col >= 0 and start[variant.added_col] >= 1:
        start[variant.added_col] -= 1.0
    sol = highspy.HighsSolution()
    sol.col_value = list(start)
    sol.value_valid = True
    h.setSolution(sol)
    t0 = time.perf_counter()
    run_highs(h)
    seconds = time.perf_counter() - t0
    info = h.getInfo()
    has = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        outcome = PlanStatus.OPTIMAL
    else:
        outcome = PlanStatus.FEASIBLE if has else PlanStatus.NO_SOLUTION
    objective = float(info.objective_function_value) if has else None
    gap = relative_gap(objective, float(info.mip_dual_bound)) if has else None
    return VariantResult(variant.resource, outcome, objective, gap, seconds)


def _task(args: tuple[Variant, np.ndarray, SolveOptions]) -> VariantResult:
    assert _MODEL is not None, "pool worker started without its model"
    return solve_variant(_MODEL, *args)


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def exact_values(data: PlanData, model: LpArrays, values: dict[str, dict[Any, float]],
                 options: SolveOptions, *, workers: int = 2, guard_s: float | None = None,
                 ) -> list[VariantResult]:
    """Re-solve every variant (see :func:`variants`) on a pool of ``workers`` processes.

    ``options`` give each re-solve its gap and time limit [s] (threads are set to 1); ``guard_s``
    [s] is a hard wall-clock limit for the whole set, after which the pool is terminated and the
    unfinished variants are reported without a solution (NO_SOLUTION, no objective).
    """
    todo = variants(data, model)
    start = np.array([values.get(name, {}).get(index, 0.0) for name, index in model.keys])
    opts = replace(options, threads=1, start=None, price_resources=False, keep_model=False)
    if not todo:
        return []
    if workers <= 1 or len(todo) == 1 or multiprocessing.current_process().daemon:
        return [solve_variant(model, v, start, opts) for v in todo]
    guard = guard_s if guard_s is not None else 2 * opts.time_limit_s * len(todo) + 30
    pool = _context().Pool(min(workers, len(todo)), initializer=_init, initargs=(model,))
    try:
        pending = [(v, pool.apply_async(_task, ((v, start, opts),))) for v in todo]
        deadline = time.perf_counter() + guard
        results = []
        for v, job in pending:
            try:
                results.append(job.get(max(deadline - time.perf_counter(), 0.0)))
            except multiprocessing.TimeoutError:
                results.append(VariantResult(v.resource, PlanStatus.NO_SOLUTION, None, None, guard))
    finally:
        pool.terminate()
        pool.join()
    return results
