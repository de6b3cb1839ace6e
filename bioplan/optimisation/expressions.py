"""Helpers of the constraint groups: fast linear expressions and the registered elastic slacks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from bioplan.contracts import Slack


def linear(coefs: Sequence[float], variables: Sequence[Any], constant: float = 0.0) -> Any:
    """``constant + Σ coefs[i] · variables[i]`` as one Pyomo ``LinearExpression``."""
    args: list[Any] = [MonomialTermExpression((float(c), v)) for c, v in zip(coefs, variables, strict=True)]
    if constant:
        args.append(float(constant))
    return LinearExpression(args)


def total(variables: Iterable[Any], constant: float = 0.0) -> Any:
    """``constant + Σ variables`` (unit coefficients).

    Bare variables are valid ``LinearExpression`` arguments and cost nothing to wrap, unlike
    monomials (~2 µs each): most rows of the model are unit-coefficient sums.
    """
    args: list[Any] = list(variables)
    if constant:
        args.append(float(constant))
    return LinearExpression(args)


def elastic_slack(m: pyo.ConcreteModel, slack: Slack, index: Any) -> Any:
    """A non-negative slack variable ``slack.name`` over ``index`` if the model is elastic, else
    None.

    Constraint groups call this with the :class:`~bioplan.contracts.Slack` they define beside
    their rows, so the elastic re-solve relaxes exactly the hard limits. The slack is registered
    on the model (``m.elastic_slacks``, in build order): the elastic objective prices it with its
    weight and the explanation lists it in that order.
    """
    if not m.elastic:
        return None
    var = pyo.Var(index, domain=pyo.NonNegativeReals)
    m.add_component(slack.name, var)  # a second slack of the same name raises here
    m.elastic_slacks.append(slack)
    return var
