"""Reading one linear Pyomo expression the way Pyomo's ``LinearRepnVisitor`` does, fast.

:class:`ExpressionReader` gives ``(constant, {id(var): coefficient})`` for the node types our
model builders make (``LinearExpression`` of variables, monomials with number coefficients and
numbers; sums, negations, named expressions of those), with the same column recording
(:class:`ColumnRecorder`: a variable's whole component enters on its first unfixed mention) and
the same order of additions, so coefficients round alike. Any other node raises
:class:`Unknown` inside and that expression goes through Pyomo's own visitor, sharing the same
recorder. Used by :mod:`bioplan.optimisation.compile_direct`.
"""

from __future__ import annotations

from typing import Any

from pyomo.common.errors import InvalidConstraintError
from pyomo.common.numeric_types import native_numeric_types, native_types, value
from pyomo.core.base.expression import ExpressionData, ScalarExpression
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    SumExpression,
)
from pyomo.repn.linear import LinearRepnVisitor
from pyomo.repn.util import FileDeterminism, FileDeterminism_to_SortComponents

SORTER = FileDeterminism_to_SortComponents(FileDeterminism.ORDERED)
"""Pyomo's ordering for its default ``file_determinism`` (component order, ordered indices)."""
_NAMED = (ScalarExpression, ExpressionData)


class Unknown(Exception):
    """An expression node the direct reader does not handle (that row goes to Pyomo's visitor)."""


class ColumnRecorder:
    """Pyomo's ``TemplateVarRecorder`` without its template bookkeeping: on the first mention of
    an unfixed variable, its whole component (fixed members too) enters ``var_map`` in index
    order. ``LinearRepnVisitor`` uses only ``var_map`` and ``add``."""

    def __init__(self) -> None:
        self.var_map: dict[int, Any] = {}
        self._components: set[int] = set()

    def add(self, var: Any) -> None:
        component = var.parent_component()
        if id(component) in self._components:
            return
        self._components.add(id(component))
        var_map = self.var_map
        for v in component.values(SORTER):
            var_map[id(v)] = v


class ExpressionReader:
    """Reads linear expressions into ``(constant, {id(var): coefficient})`` with the same column
    recording and the same order of additions as Pyomo's ``LinearRepnVisitor``."""

    def __init__(self) -> None:
        self.recorder = ColumnRecorder()
        self.var_map = self.recorder.var_map
        self.visitor = LinearRepnVisitor({}, var_recorder=self.recorder)
        self.fallbacks = 0

    def read(self, expr: Any, owner: Any) -> tuple[Any, dict[int, Any]]:
        """Constant and nonzero coefficients of ``expr``, the body of ``owner`` (a constraint or
        objective, named in errors)."""
        try:
            const, lin = self._node(expr)
        except Unknown:
            self.fallbacks += 1
            repn = self.visitor.walk_expression(expr)
            if repn.nonlinear is not None:
                msg = (f"Model {owner.ctype.__name__.lower()} ({owner.name}) contains nonlinear "
                       "terms that cannot be compiled to standard (linear) form.")
                raise InvalidConstraintError(msg) from None
            return repn.constant, repn.linear
        if 0 in lin.values():
            lin = {vid: c for vid, c in lin.items() if c}
        return const, lin

    def read_difference(self, lhs: Any, rhs: Any, owner: Any) -> tuple[Any, dict[int, Any]]:
        """:meth:`read` of ``lhs − rhs`` without building it: ``lhs`` read, then ``rhs`` added
        with multiplier −1 (``LinearRepn.append``)."""
        try:
            const, lin = self._node(lhs)
            rconst, rlin = self._node(rhs)
        except Unknown:
            return self.read(lhs - rhs, owner)
        if rconst:
            const += -1 * rconst
        for vid, coef in rlin.items():
            if vid in lin:
                lin[vid] += -1 * coef
            else:
                lin[vid] = -1 * coef
        if 0 in lin.values():
            lin = {vid: c for vid, c in lin.items() if c}
        return const, lin

    def _node(self, expr: Any) -> tuple[Any, dict[int, Any]]:
        cls = expr.__class__
        if cls is LinearExpression:
            return self._linear(expr.args)
        if cls in native_numeric_types:
            return expr, {}
        if cls is SumExpression:
            return self._sum(expr.args)
        if cls is MonomialTermExpression:
            coef, var = expr.args
            if coef.__class__ not in native_numeric_types:
                raise Unknown
            lin: dict[int, Any] = {}
            return self._record(lin, coef, var), lin
        if cls is NegationExpression:
            const, lin = self._node(expr.args[0])
            return -1 * const, {vid: -1 * c for vid, c in lin.items()}
        if cls in _NAMED:
            return self._node(expr.expr)
        if cls not in native_types and expr.is_variable_type():
            lin = {}
            return self._record(lin, 1, expr), lin
        raise Unknown

    def _record(self, lin: dict[int, Any], coef: Any, var: Any) -> Any:
        """Add ``coef · var`` to ``lin``; return the constant it makes if ``var`` is fixed (and
        not yet a column), else 0 (Pyomo's ``record_monomial``)."""
        vid = id(var)
        if vid not in self.var_map:
            if var.fixed:
                return coef * value(var.value)
            self.recorder.add(var)
        if vid in lin:
            lin[vid] += coef
        elif coef:
            lin[vid] = coef
        return 0

    def _linear(self, args: Any) -> tuple[Any, dict[int, Any]]:
        """A ``LinearExpression``'s arguments (the hot loop, :meth:`_record` inlined): fixed
        variables' constants first, then the numbers (Pyomo's ``_before_linear``)."""
        lin: dict[int, Any] = {}
        var_map = self.var_map
        fixed: Any = 0
        const: Any = 0
        for arg in args:
            cls = arg.__class__
            if cls is MonomialTermExpression:
                coef, var = arg._args_
                if coef.__class__ not in native_numeric_types:
                    raise Unknown
            elif cls is VarData or (cls not in native_numeric_types and arg.is_variable_type()):
                coef, var = 1, arg
            elif cls in native_numeric_types:
                const += arg
                continue
            else:
                raise Unknown
            vid = id(var)
            if vid not in var_map:
                if var.fixed:
                    fixed += coef * value(var.value)
                    continue
                self.recorder.add(var)
            if vid in lin:
                lin[vid] += coef
            elif coef:
                lin[vid] = coef
        return fixed + const, lin

    def _sum(self, args: Any) -> tuple[Any, dict[int, Any]]:
        """A sum: each argument read on its own, then added in order (``LinearRepn.append``)."""
        lin: dict[int, Any] = {}
        const: Any = 0
        for arg in args:
            c, sub = self._node(arg)
            const += c
            for vid, coef in sub.items():
                if vid in lin:
                    lin[vid] += coef
                else:
                    lin[vid] = coef
        return const, lin
