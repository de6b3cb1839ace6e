"""Compile a Pyomo model to HiGHS matrices with Pyomo's standard-form compiler (the cheapest route
measured on this machine, see ../shared/RECIPES.md), and write it as LP/MPS with readable names."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo

from bioplan.optimisation.quiet_highs import quiet_highs


def _range(values: np.ndarray) -> list[float]:
    nz = np.abs(values[np.nonzero(values)])
    nz = nz[np.isfinite(nz)]
    return [float(nz.min()), float(nz.max())] if nz.size else [0.0, 0.0]


def compile_model(m: pyo.ConcreteModel) -> tuple[Any, list[Any], list[Any], dict[str, Any]]:
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
    h = quiet_highs()
    h.passModel(lp)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    h.writeModel(str(path))


def _clean(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_." else "_" for ch in name)


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


def compile_for_highs(m: pyo.ConcreteModel, save_lp: str | None = None, *,
                      capacity_rows: bool = False) -> Compiled:
    """Compile ``m`` to a ``HighsLp``; write it to ``save_lp`` (``.lp``/``.mps``) if given; with
    ``capacity_rows``, also locate the capacity rows (for shadow prices and exact re-solves)."""
    t0 = time.perf_counter()
    lp, columns, rows, facts = compile_model(m)
    if save_lp:
        _write_named(lp, columns, rows, save_lp)
    keys = [(v.parent_component().local_name, v.index()) for v in columns]
    compiled = Compiled(lp, keys, facts, 0.0)
    if capacity_rows:
        from bioplan.optimisation.capacity_rows import capacity_rows as find_rows

        compiled.dual_rows = find_rows(rows)
    compiled.seconds = time.perf_counter() - t0
    return compiled


def write_model_file(m: pyo.ConcreteModel, path: str | Path) -> None:
    """Write ``m`` to ``path`` (``.lp`` or ``.mps``) through HiGHS, with readable names."""
    lp, columns, rows, _facts = compile_model(m)
    _write_named(lp, columns, rows, path)
