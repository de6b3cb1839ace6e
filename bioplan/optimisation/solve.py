"""Solve a built Pyomo model with HiGHS and return a typed result.

The model is compiled to matrices with Pyomo's standard-form compiler and handed to ``highspy``
in one bulk call (the cheapest route measured on this machine, see ../shared/RECIPES.md): one
fresh ``Highs`` object per solve, values read back as arrays and only when a solution exists.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)


class SolveStatus(StrEnum):
    """What the solver achieved."""

    OPTIMAL = "optimal"
    """Solved to the requested relative gap."""
    FEASIBLE = "feasible"
    """Stopped at the time limit with an incumbent (see ``gap``)."""
    INFEASIBLE = "infeasible"
    """Proven infeasible (or infeasible-or-unbounded: every cost is non-negative, so infeasible)."""
    NO_SOLUTION = "no_solution"
    """Stopped at the time limit before any feasible plan was found."""
    KILLED = "killed"
    """The wall-clock guard killed the solve process (HiGHS ignored its time limit)."""
    ERROR = "error"
    """HiGHS or the solve process failed; ``message`` says how."""

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 60.0
    """HiGHS time limit [s] (soft; the wall-clock guard is the hard one)."""
    mip_gap: float = 0.01
    """Relative MIP gap at which HiGHS stops [-]."""
    threads: int = 1
    save_lp: str | None = None
    """Write the model to this file before solving (``.lp`` or ``.mps``, by extension)."""
    start: dict[str, dict[Any, float]] | None = None
    """A known feasible solution (``SolveResult.values`` of a related solve) to start from."""
    lp_guided_start: bool = True
    """Start large MIPs from the LP-guided heuristic plan (see ``heuristic``; ``highspy`` only)."""
    interface: Literal["highspy", "pyomo"] = "highspy"
    """How the Pyomo model reaches HiGHS: ``highspy`` (standard-form compiler, matrices passed to
    ``highspy`` in bulk; the faster route) or ``pyomo`` (Pyomo's own HiGHS interface,
    ``pyomo.contrib.solver``, see :mod:`bioplan.optimisation.solve_pyomo`; no starting solution
    and no LP-guided start)."""
    price_resources: bool = False
    """After the MIP, solve the LP with its integer decisions fixed and return the shadow prices
    of the capacity rows (``SolveResult.prices``; :mod:`bioplan.optimisation.duals`; ``highspy``
    interface only)."""
    keep_model: bool = False
    """Return the compiled model as plain arrays (``SolveResult.model``) so exact re-solves can
    change a bound and solve again without rebuilding (``highspy`` interface only)."""


@dataclass
class SolveResult:
    """A solve outcome; values are in the model's scaled units."""

    status: SolveStatus
    termination: str = ""
    """HiGHS's model status (or ``killed`` / the exception text)."""
    message: str = ""
    objective: float | None = None
    """Incumbent objective [model units, k$]."""
    bound: float | None = None
    """Best proven lower bound [k$]."""
    gap: float | None = None
    """(objective − bound) / |objective| [-]."""
    values: dict[str, dict[Any, float]] = field(default_factory=dict)
    """Non-zero variable values by component name and index (only with a solution)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds: ``build``, ``transfer`` (compile + hand over to HiGHS), ``solve`` (HiGHS run),
    ``extract`` (reading values)."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Model size, coefficient ranges, HiGHS version, peak memory of the solve process."""
    prices: dict[tuple[str, Any], float] | None = None
    """Shadow prices of the capacity rows [k$ per row unit] by (component, index), with
    ``SolveOptions.price_resources`` (None if not asked or the fixed-integer LP failed)."""
    model: Any = None
    """The compiled model as :class:`bioplan.optimisation.lp_arrays.LpArrays`, with
    ``SolveOptions.keep_model``."""


NO_PLAN = "no plan satisfies the hard constraints"
UNBOUNDED = "model unbounded: check variable bounds"


def stopped_early(has_solution: bool) -> SolveResult:
    """The result of a solve stopped by a limit: FEASIBLE with an incumbent, else NO_SOLUTION."""
    if has_solution:
        return SolveResult(SolveStatus.FEASIBLE, message="stopped at the time limit with a plan")
    return SolveResult(SolveStatus.NO_SOLUTION,
                       message="stopped at the time limit before finding any plan")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _range(values: np.ndarray) -> list[float]:
    nz = np.abs(values[np.nonzero(values)])
    nz = nz[np.isfinite(nz)]
    return [float(nz.min()), float(nz.max())] if nz.size else [0.0, 0.0]


def compile_model(m: Any) -> tuple[Any, list[Any], list[Any], dict[str, Any]]:
    """Pyomo model → (``highspy.HighsLp``, column variables, row constraints, facts)."""
    import highspy
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    repn = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    columns = list(repn.columns)
    n_col, n_row = len(columns), len(repn.rows)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    cost = repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(n_col)
    lp.col_cost_ = cost
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    lower = np.array([-inf if v.lb is None else v.lb for v in columns], dtype=float)
    upper = np.array([inf if v.ub is None else v.ub for v in columns], dtype=float)
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    rhs = np.asarray(repn.rhs, dtype=float)
    sense = np.array([s for (_c, s) in repn.rows], dtype=int)
    lp.row_lower_ = np.where(sense >= 0, np.where(sense == 0, rhs, -inf), rhs)
    lp.row_upper_ = np.where(sense <= 0, np.where(sense == 0, rhs, inf), rhs)
    a = repn.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    if integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    facts = {
        "columns": n_col,
        "rows": n_row,
        "nonzeros": int(a.nnz),
        "integer_columns": int(integer.sum()),
        "matrix_range": _range(a.data),
        "cost_range": _range(cost),
        "rhs_range": _range(rhs),
        "bound_range": _range(np.concatenate([lower, upper])),
    }
    return lp, columns, [con for (con, _s) in repn.rows], facts


def _write_named(lp: Any, columns: list[Any], rows: list[Any], path: str | Path) -> None:
    """Give ``lp`` readable column/row names and write it to ``path`` (``.lp``/``.mps``)."""

    lp.col_names_ = [_clean(v.name) for v in columns]
    names, seen = [], set()
    for con in rows:
        name = _clean(con.name)
        if name in seen:
            name += "_lo"
        seen.add(name)
        names.append(name)
    lp.row_names_ = names
    h = silent_highs()
    h.passModel(lp)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    h.writeModel(str(path))


def _clean(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_." else "_" for ch in name)


_BANNER_SHOWN = False


def silent_highs() -> Any:
    """A fresh ``highspy.Highs`` with its output off.

    The first ``Highs`` of a process prints HiGHS's banner on file descriptor 1 whatever
    ``output_flag`` says (see ../shared/RECIPES.md): that one construction runs with fd 1 pointed
    at /dev/null, so ``--json`` output stays pure JSON.
    """
    global _BANNER_SHOWN
    import os
    import sys

    import highspy

    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def new_highs(time_limit_s: float, options: SolveOptions) -> Any:
    """A fresh, silent HiGHS with this time limit [s] and ``options``' gap and threads."""
    h = silent_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("threads", int(options.threads))
    return h


def solve_model(m: Any, options: SolveOptions) -> SolveResult:
    """Compile ``m``, solve it with a fresh HiGHS and read back the values (or, with
    ``options.interface == "pyomo"``, solve it through Pyomo's HiGHS interface)."""
    if options.interface == "pyomo":
        from bioplan.optimisation.solve_pyomo import solve_with_pyomo_highs

        return solve_with_pyomo_highs(m, options)
    return solve_compiled(compile_for_highs(m, options.save_lp), options)


@dataclass
class Compiled:
    """A model as HiGHS input plus what is needed to read its solution back (no Pyomo objects,
    so the Pyomo model can be freed before HiGHS runs)."""

    lp: Any
    keys: list[tuple[str, Any]]
    """(component name, index) of every column."""
    facts: dict[str, Any]
    seconds: float
    dual_rows: Any = None
    """Positions of the capacity rows (:class:`bioplan.optimisation.duals.DualRows`), found only
    when shadow prices or exact re-solves are asked for."""


def compile_for_highs(m: Any, save_lp: str | None = None, *, capacity_rows: bool = False
                      ) -> Compiled:
    """Compile ``m`` to a ``HighsLp``; write it to ``save_lp`` (``.lp``/``.mps``) if given; with
    ``capacity_rows``, also locate the capacity rows (for shadow prices and exact re-solves)."""
    t0 = time.perf_counter()
    lp, columns, rows, facts = compile_model(m)
    if save_lp:
        _write_named(lp, columns, rows, save_lp)
    keys = [(v.parent_component().local_name, v.index()) for v in columns]
    compiled = Compiled(lp, keys, facts, 0.0)
    if capacity_rows:
        from bioplan.optimisation.duals import capacity_rows as find_rows

        compiled.dual_rows = find_rows(rows)
    compiled.seconds = time.perf_counter() - t0
    return compiled


def solve_compiled(compiled: Compiled, options: SolveOptions) -> SolveResult:
    """Solve a compiled model with a fresh HiGHS and read back the values."""
    import highspy

    from bioplan.optimisation.heuristic import MIN_INTEGER_COLUMNS, lp_guided_start

    lp, keys, facts = compiled.lp, compiled.keys, compiled.facts
    start_values: list[float] | None = None
    heuristic_s = 0.0
    if options.start:
        start_values = [options.start.get(name, {}).get(index, 0.0) for name, index in keys]
    elif options.lp_guided_start and facts["integer_columns"] >= MIN_INTEGER_COLUMNS:
        start_values, heuristic_s, facts["start_heuristic"] = lp_guided_start(lp, keys, options)
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
    h.run()
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
        result = SolveResult(SolveStatus.OPTIMAL)
    elif status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        result = SolveResult(SolveStatus.INFEASIBLE, message=NO_PLAN)
    elif status == S.kUnbounded:
        result = SolveResult(SolveStatus.ERROR, message=UNBOUNDED)
    elif status in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit, S.kSolutionLimit,
                    S.kObjectiveBound, S.kObjectiveTarget, S.kMemoryLimit):
        result = stopped_early(has_primal)
    else:
        result = SolveResult(SolveStatus.ERROR, message=f"HiGHS failed ({h.modelStatusToString(status)})")
    result.termination = h.modelStatusToString(status)
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


def write_model_file(m: Any, path: str | Path) -> None:
    """Write ``m`` to ``path`` (``.lp`` or ``.mps``) through HiGHS, with readable names."""
    lp, columns, rows, _facts = compile_model(m)
    _write_named(lp, columns, rows, path)
