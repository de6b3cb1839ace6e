"""Solve a built Pyomo model with HiGHS and return a typed result.

The model is compiled to matrices (:mod:`bioplan.optimisation.compile`) and handed to ``highspy``
in one bulk call: one fresh ``Highs`` object per solve, values read back as arrays and only when a
solution exists.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import pyomo.core as pyo

import bioplan.optimisation.heuristic as heuristic
from bioplan.optimisation.compile import Compiled, compile_for_highs
from bioplan.optimisation.outcome import (
    SolveOptions,
    SolveResult,
    failure,
    infeasible,
    new_highs,
    optimal,
    relative_gap,
    stopped_early,
    unbounded,
)
from bioplan.optimisation.quiet_highs import run_highs

log = logging.getLogger(__name__)


def solve_model(m: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    """Compile ``m``, solve it with a fresh HiGHS and read back the values (or, with
    ``options.interface == "pyomo"``, solve it through Pyomo's HiGHS interface)."""
    if options.interface == "pyomo":
        from bioplan.optimisation.solve_pyomo import solve_with_pyomo_highs

        return solve_with_pyomo_highs(m, options)
    return solve_compiled(compile_for_highs(m, options.save_lp), options)


def solve_compiled(compiled: Compiled, options: SolveOptions) -> SolveResult:
    """Solve a compiled model with a fresh HiGHS and read back the values."""
    import highspy

    lp, keys, facts = compiled.lp, compiled.keys, compiled.facts
    start_values: list[float] | None = None
    heuristic_s = 0.0
    if options.start:
        start_values = [options.start.get(name, {}).get(index, 0.0) for name, index in keys]
    elif options.lp_guided_start and facts["integer_columns"] >= heuristic.MIN_INTEGER_COLUMNS:
        start_values, heuristic_s, facts["start_heuristic"] = heuristic.lp_guided_start(
            lp, keys, options)
    t0 = time.perf_counter()
    h = new_highs(max(options.time_limit_s - heuristic_s, 0.1 * options.time_limit_s), options)
    h.passModel(lp)
    compiled.lp = None  # HiGHS holds its own copy
    kept = lp if (options.price_resources or options.keep_model) else None
    del lp
    if start_values is not None:
        start = highspy.HighsSolution()
        start.col_value = start_values
        start.value_valid = True
        h.setSolution(start)
    t1 = time.perf_counter()
    run_highs(h)
    t2 = time.perf_counter()
    facts["highs_version"] = h.version()
    facts["highs_run_s"] = h.getRunTime() + heuristic_s
    status = h.getModelStatus()
    info = h.getInfo()
    has_primal = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    mip = facts["integer_columns"] > 0
    objective = float(info.objective_function_value) if has_primal else None
    bound = float(info.mip_dual_bound) if mip else objective
    if bound is not None and not math.isfinite(bound):
        bound = None
    S = highspy.HighsModelStatus
    if status == S.kOptimal:
        result = optimal()
    elif status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        result = infeasible()
    elif status == S.kUnbounded:
        result = unbounded()
    elif status in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit, S.kSolutionLimit,
                    S.kObjectiveBound, S.kObjectiveTarget, S.kMemoryLimit):
        result = stopped_early(has_primal)
    else:
        result = failure(f"HiGHS failed ({h.modelStatusToString(status)})")
    facts["solver_status"] = h.modelStatusToString(status)
    if result.status.has_solution:
        result.objective = objective
        result.bound = bound
        result.gap = relative_gap(objective, bound) if mip else 0.0
        values = np.asarray(h.getSolution().col_value)
        result.values = _values(keys, values)
    t3 = time.perf_counter()
    result.timings = {"transfer": compiled.seconds + t1 - t0, "solve": t2 - t1 + heuristic_s,
                      "extract": t3 - t2}
    result.facts = facts
    if kept is not None and result.status.has_solution:
        del h
        _after_solve(kept, compiled, options, result)
    return result


def _after_solve(lp: Any, compiled: Compiled, options: SolveOptions, result: SolveResult) -> None:
    """The shadow prices (fixed-integer LP) and the kept model, as ``options`` ask."""
    t0 = time.perf_counter()
    if options.price_resources and compiled.dual_rows is not None:
        from bioplan.optimisation.duals import fixed_lp_duals

        duals = fixed_lp_duals(lp, compiled.keys, compiled.dual_rows, result.values,
                               threads=options.threads, time_limit_s=options.time_limit_s)
        result.prices = duals.prices if duals.ok else None
        result.facts["dual_lp"] = {"ok": duals.ok, "objective": duals.objective,
                                   "highs_run_s": duals.seconds, "message": duals.message}
    t1 = time.perf_counter()
    if options.keep_model:
        from bioplan.optimisation.lp_arrays import LpArrays

        result.model = LpArrays.from_highs_lp(lp, compiled.keys, compiled.dual_rows)
    result.timings["duals"] = t1 - t0
    result.timings["transfer"] += time.perf_counter() - t1


def _values(keys: list[tuple[str, Any]], values: np.ndarray) -> dict[str, dict[Any, float]]:
    out: dict[str, dict[Any, float]] = {}
    for j in np.flatnonzero(np.abs(values) > 1e-9):
        name, index = keys[j]
        out.setdefault(name, {})[index] = float(values[j])
    return out

