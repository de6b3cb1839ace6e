"""Standard form of our models read straight off their ``LinearExpression`` rows.

Pyomo's ``LinearStandardFormCompiler`` walks every row with its general linear-repn visitor
(0.23-0.29 s CPU on the benchmark's M instance, 0.85 s on L; seconds of wall time under load),
although every capacity and balance row of ours is built as a ``LinearExpression`` of variables
and monomials with float coefficients (:mod:`bioplan.optimisation.expressions`).
:func:`direct_standard_form` reads those arguments directly and assembles the column-wise
matrix with numpy.

It reproduces Pyomo's result exactly, because MIP times move by up to ±35 % with row and column
order alone (``RECIPES.md``):

- rows: the active constraints in Pyomo's order (``component_data_objects`` with ordered
  indices), in mixed form: an equality is one row (sense 0), a ranged row is its upper row
  (sense 1) then its lower row (sense −1), trivial rows are dropped;
- columns: a variable component enters, whole and in index order, when the objective (first)
  or a row (in row order) first mentions one of its unfixed members; columns without an entry
  in the matrix or the objective are dropped; fixed columns are moved to the right-hand side;
- coefficients: a variable's terms are summed in the visitor's order (each ``LinearExpression``
  or sum first, then into its parent), so even the floating-point roundings agree.

An expression node this module does not know (a ``Param``, a product, a nonlinear term) makes
that one row (or the objective) go through Pyomo's own visitor, sharing the same column
recorder, so order and values still agree; a model with template or several objectives is
handed to Pyomo's compiler whole (export suffixes are ignored, as Pyomo's compiler ignores them
with a warning). About 1.5× faster than Pyomo's (``docs/outside-highs.md``);
``tests/optimisation/test_direct_compile.py`` compares both compilers entry by entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.numeric_types import native_types, value
from pyomo.core.base import (
    Block,
    Constraint,
    Expression,
    ExternalFunction,
    Objective,
    Param,
    RangeSet,
    Set,
    Suffix,
    Var,
)
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    SumExpression,
)
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression
from pyomo.network import Port
from pyomo.repn.util import categorize_valid_components

from bioplan.optimisation.compile_reader import SORTER, ExpressionReader

log = logging.getLogger(__name__)

_RELATIONS = (InequalityExpression, EqualityExpression)


class NotDirect(Exception):
    """The model needs Pyomo's compiler as a whole (template rows, several objectives)."""


@dataclass
class StandardForm:
    """A model in mixed standard form: ``row_lower ≤ A x ≤ row_upper`` per ``rows`` entry, the
    same fields as Pyomo's ``LinearStandardFormInfo`` that :mod:`~bioplan.optimisation.compile`
    reads."""

    columns: list[Any]
    """Column variables (``VarData``), in column order."""
    rows: list[tuple[Any, int]]
    """(constraint, sense) per row: 0 equality, 1 ``≤ rhs``, −1 ``≥ rhs``."""
    rhs: np.ndarray
    a_start: np.ndarray
    """Column starts of the CSC matrix (``num_col + 1``) [int32]."""
    a_index: np.ndarray
    """Row of each nonzero [int32]."""
    a_value: np.ndarray
    cost: np.ndarray
    """Objective coefficient per column (the first active objective)."""
    offset: float
    """Objective constant."""
    fallback_rows: int = 0
    """Rows (and objectives) read by Pyomo's visitor because of an unknown node."""
    compiler: str = "direct"
    """Which compiler made it: ``direct`` or ``pyomo``."""


def _check_components(m: Any) -> None:
    """Pyomo's own check for components it cannot compile (same set of valid types)."""
    _map, unknown = categorize_valid_components(
        m, active=True, sort=SORTER,
        valid={Block, Constraint, Var, Param, Expression, ExternalFunction, Set, RangeSet, Port},
        targets={Suffix, Objective})
    if unknown:
        msg = f"components the standard form cannot hold: {sorted(unknown)}"
        raise NotDirect(msg)


def _objectives(m: Any, reader: ExpressionReader) -> list[tuple[Any, dict[int, Any]]]:
    objectives = list(m.component_data_objects(Objective, active=True, sort=SORTER))
    if len(objectives) > 1 or any(hasattr(o, "template_expr") for o in objectives):
        msg = "several or template objectives"
        raise NotDirect(msg)
    return [reader.read(o.expr, o) for o in objectives]


class _Rows:
    """Rows as they are read: their constraints, right-hand sides and row-wise entries."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, int]] = []
        self.rhs: list[Any] = []
        self.vids: list[int] = []
        self.values: list[Any] = []
        self.lengths: list[int] = []

    def add(self, con: Any, sense: int, rhs: Any, lin: dict[int, Any]) -> None:
        self.rows.append((con, sense))
        self.rhs.append(rhs)
        self.vids.extend(lin)
        self.values.extend(lin.values())
        self.lengths.append(len(lin))


_SUMS = frozenset({LinearExpression, SumExpression, NegationExpression})
"""Expression classes that are always potentially variable and never a single fixed term."""


def _variable(side: Any) -> bool:
    return side.__class__ not in native_types and side.is_potentially_variable()


def _side_by_side(lhs: Any, rhs: Any) -> bool:
    """Both sides variable (``to_bounded_expression`` would build ``lhs − rhs``) and ``rhs`` not
    a fixed term (:func:`_fixed_term`)."""
    if lhs.__class__ not in _SUMS and not _variable(lhs):
        return False
    return rhs.__class__ in _SUMS or (_variable(rhs) and not _fixed_term(rhs))


def _fixed_term(side: Any) -> bool:
    """A variable or monomial of a fixed variable: Pyomo's ``lhs - rhs`` folds it into the left
    side's ``LinearExpression``, whose constant then sums in another order."""
    if side.__class__ is MonomialTermExpression:
        return bool(side._args_[1].fixed)
    return bool(side.is_variable_type() and side.fixed)


def _row(reader: ExpressionReader, con: Any) -> tuple[Any, Any, Any, dict[int, Any]]:
    """``(lb, ub, constant, {id(var): coefficient})`` of one constraint, as
    ``to_bounded_expression`` and the visitor give them.

    A relation with variables on both sides is read side by side (``lhs`` plus the negated
    ``rhs``, the order in which the visitor adds ``lhs − rhs``) instead of building that
    difference for every row as ``to_bounded_expression`` does.
    """
    expr = con.expr
    if expr.__class__ in _RELATIONS:
        lhs, rhs = expr._args_
        if _side_by_side(lhs, rhs):
            offset, lin = reader.read_difference(lhs, rhs, con)
            return (0 if expr.__class__ is EqualityExpression else None), 0, offset, lin
    lb, body, ub = con.to_bounded_expression()
    if lb.__class__ not in native_types:
        lb = value(lb)
    if ub.__class__ not in native_types:
        ub = value(ub)
    if lb is None and ub is None:
        return None, None, 0, {}
    offset, lin = reader.read(body, con)
    return lb, ub, offset, lin


def _read_rows(m: Any, reader: ExpressionReader) -> _Rows:
    """Every active constraint in mixed form (``LinearStandardFormCompiler``, ``mixed_form``)."""
    out = _Rows()
    plain: set[type] = set()
    for con in m.component_data_objects(Constraint, active=True, sort=SORTER):
        if con.__class__ not in plain:
            if hasattr(con, "template_expr"):
                msg = "template constraints"
                raise NotDirect(msg)
            plain.add(con.__class__)
        lb, ub, offset, lin = _row(reader, con)
        if lb is None and ub is None:
            continue
        if not lin and offset.__class__ in native_types:
            if (lb is None or lb <= offset) and (ub is None or ub >= offset):
                continue
            msg = f"model contains a trivially infeasible constraint, '{con.name}'"
            raise InfeasibleConstraintException(msg)
        if lb == ub:
            out.add(con, 0, ub - offset, lin)
            continue
        if ub is not None:
            out.add(con, 1, ub - offset, lin)
        if lb is not None:
            out.add(con, -1, lb - offset, lin)
    return out


def direct_standard_form(m: Any) -> StandardForm:
    """``m`` in mixed standard form, identical to Pyomo's ``LinearStandardFormCompiler`` with
    ``mixed_form=True`` (see the module docstring); raises :class:`NotDirect` for a model only
    Pyomo's compiler handles."""
    _check_components(m)
    reader = ExpressionReader()
    objectives = _objectives(m, reader)
    rows = _read_rows(m, reader)
    order = {vid: j for j, vid in enumerate(reader.var_map)}
    n_col, nnz = len(order), len(rows.vids)
    col = np.fromiter(map(order.__getitem__, rows.vids), dtype=np.int64, count=nnz)
    row = np.repeat(np.arange(len(rows.rows), dtype=np.int32), rows.lengths)
    val = np.fromiter(rows.values, dtype=float, count=nnz)
    perm = np.argsort(col, kind="stable")  # column-wise, rows ascending within a column
    col, row, val = col[perm], row[perm], val[perm]
    cost = np.zeros(n_col)
    in_objective = np.zeros(n_col, dtype=bool)
    offset = 0.0
    for k, (const, lin) in enumerate(objectives):
        j = np.fromiter(map(order.__getitem__, lin), dtype=np.int64, count=len(lin))
        in_objective[j] = True
        if k == 0:
            cost[j] = np.fromiter(lin.values(), dtype=float, count=len(lin))
            offset = float(const)
    columns = list(reader.var_map.values())
    keep = (np.bincount(col, minlength=n_col) > 0) | in_objective
    rhs = np.asarray(rows.rhs, dtype=float)
    offset = _move_fixed(columns, keep, (col, row, val), rhs, cost, offset)
    entry = keep[col]
    counts = np.bincount(col[entry], minlength=n_col)[keep]
    start = np.zeros(int(keep.sum()) + 1, dtype=np.int32)
    np.cumsum(counts, out=start[1:])
    if reader.fallbacks:
        log.debug("direct compile: %d rows read by Pyomo's visitor", reader.fallbacks)
    return StandardForm(
        columns=[v for v, k in zip(columns, keep, strict=True) if k], rows=rows.rows, rhs=rhs,
        a_start=start, a_index=row[entry].astype(np.int32), a_value=val[entry], cost=cost[keep],
        offset=offset, fallback_rows=reader.fallbacks)


def _move_fixed(columns: list[Any], keep: np.ndarray, entries: tuple[np.ndarray, ...],
                rhs: np.ndarray, cost: np.ndarray, offset: float) -> float:
    """Fixed columns with entries: ``rhs −= A[:, F] x_F`` (column by column, as scipy's product
    does), ``offset += c_F · x_F``, and drop them from ``keep``; returns the new offset."""
    fixed = np.fromiter((v.fixed for v in columns), dtype=bool, count=len(columns)) & keep
    if not fixed.any():
        return offset
    x = np.zeros(len(columns))
    x[fixed] = [columns[j].value for j in np.flatnonzero(fixed)]
    col, row, val = entries
    hit = fixed[col]
    moved = np.zeros(len(rhs))
    np.add.at(moved, row[hit], val[hit] * x[col[hit]])
    rhs -= moved
    offset = float(offset + cost[fixed] @ x[fixed])
    keep &= ~fixed
    return offset
