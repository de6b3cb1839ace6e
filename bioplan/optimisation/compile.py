"""Compile a Pyomo model to HiGHS matrices and write it as LP/MPS with readable names.

Two compilers give the same standard form (rows, columns, order, bounds, coefficients):

- ``direct`` (the default): :mod:`bioplan.optimisation.compile_direct` reads our rows'
  ``LinearExpression`` arguments and assembles the matrix with numpy (about 1.5× faster by CPU
  time on the benchmark's M and L, and it does not load Pyomo's deferred ``scipy``;
  ``docs/outside-highs.md``);
- ``pyomo``: Pyomo's ``LinearStandardFormCompiler`` (the cheapest Pyomo route measured on this
  machine, see ../shared/RECIPES.md), also used when the direct reader declines a model.

Choose with ``compiler=`` or the environment variable ``BIOPLAN_COMPILER`` (``direct`` or
``pyomo``; children of a guarded solve inherit it).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.errors import InputError
from bioplan.optimisation.compile_direct import NotDirect, StandardForm, direct_standard_form
from bioplan.optimisation.quiet_highs import quiet_highs

log = logging.getLogger(__name__)

COMPILER_ENV = "BIOPLAN_COMPILER"
"""Environment variable choosing the compiler: ``direct`` (default) or ``pyomo``."""
COMPILERS = ("direct", "pyomo")


def _range(values: np.ndarray) -> list[float]:
    nz = np.abs(values[np.nonzero(values)])
    nz = nz[np.isfinite(nz)]
    return [float(nz.min()), float(nz.max())] if nz.size else [0.0, 0.0]


def chosen_compiler(compiler: str | None = None) -> str:
    """``compiler`` if given, else ``$BIOPLAN_COMPILER``, else ``direct``."""
    choice = (compiler or os.environ.get(COMPILER_ENV) or "direct").strip().lower()
    if choice not in COMPILERS:
        msg = f"unknown compiler {choice!r}"
        raise InputError(msg, field=COMPILER_ENV, fix=f"use one of {', '.join(COMPILERS)}")
    return choice


def pyomo_standard_form(m: pyo.ConcreteModel) -> StandardForm:
    """``m`` through Pyomo's ``LinearStandardFormCompiler`` (mixed form), as a
    :class:`~bioplan.optimisation.compile_direct.StandardForm`."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    repn = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    a = repn.A.tocsc()
    columns = list(repn.columns)
    cost = repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(len(columns))
    return StandardForm(
        columns=columns, rows=[(con, sense) for (con, sense) in repn.rows],
        rhs=np.asarray(repn.rhs, dtype=float), a_start=a.indptr, a_index=a.indices,
        a_value=a.data, cost=np.asarray(cost, dtype=float),
        offset=float(repn.c_offset[0]) if len(repn.c_offset) else 0.0, compiler="pyomo")


def standard_form(m: pyo.ConcreteModel, compiler: str | None = None) -> StandardForm:
    """``m`` in mixed standard form by the chosen compiler (:func:`chosen_compiler`)."""
    if chosen_compiler(compiler) == "direct":
        try:
            return direct_standard_form(m)
        except NotDirect as why:
            log.debug("direct compile declined (%s): Pyomo's compiler instead", why)
    return pyomo_standard_form(m)


def compile_model(m: pyo.ConcreteModel, compiler: str | None = None
                  ) -> tuple[Any, list[Any], list[Any], dict[str, Any]]:
    """Pyomo model → (``highspy.HighsLp``, column variables, row constraints, facts)."""
    import highspy

    form = standard_form(m, compiler)
    columns = form.columns
    n_col, n_row = len(columns), len(form.rows)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    cost = form.cost
    lp.col_cost_ = cost
    lp.offset_ = form.offset
    lower = np.array([-inf if v.lb is None else v.lb for v in columns], dtype=float)
    upper = np.array([inf if v.ub is None else v.ub for v in columns], dtype=float)
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    rhs = form.rhs
    sense = np.array([s for (_c, s) in form.rows], dtype=int)
    lp.row_lower_ = np.where(sense >= 0, np.where(sense == 0, rhs, -inf), rhs)
    lp.row_upper_ = np.where(sense <= 0, np.where(sense == 0, rhs, inf), rhs)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = form.a_start
    lp.a_matrix_.index_ = form.a_index
    lp.a_matrix_.value_ = form.a_value
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    if integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    facts = {
        "columns": n_col,
        "rows": n_row,
        "nonzeros": len(form.a_value),
        "compiler": form.compiler,
        "integer_columns": int(integer.sum()),
        "matrix_range": _range(form.a_value),
        "cost_range": _range(cost),
        "rhs_range": _range(rhs),
        "bound_range": _range(np.concatenate([lower, upper])),
    }
    return lp, columns, [con for (con, _s) in form.rows], facts


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
                      capacity_rows: bool = False, compiler: str | None = None) -> Compiled:
    """Compile ``m`` to a ``HighsLp``; write it to ``save_lp`` (``.lp``/``.mps``) if given; with
    ``capacity_rows``, also locate the capacity rows (for shadow prices and exact re-solves).
    ``compiler``: see :func:`chosen_compiler`."""
    t0 = time.perf_counter()
    lp, columns, rows, facts = compile_model(m, compiler)
    if save_lp:
        _write_named(lp, columns, rows, save_lp)
    keys = [(v.parent_component().local_name, v.index()) for v in columns]
    compiled = Compiled(lp, keys, facts, 0.0)
    if capacity_rows:
        from bioplan.optimisation.capacity_rows import capacity_rows as find_rows

        compiled.dual_rows = find_rows(rows)
    compiled.seconds = time.perf_counter() - t0
    return compiled


def write_model_file(m: pyo.ConcreteModel, path: str | Path, compiler: str | None = None) -> None:
    """Write ``m`` to ``path`` (``.lp`` or ``.mps``) through HiGHS, with readable names."""
    lp, columns, rows, _facts = compile_model(m, compiler)
    _write_named(lp, columns, rows, path)
