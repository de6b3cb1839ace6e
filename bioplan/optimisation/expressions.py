"""Helpers of the constraint groups: fast linear expressions and the registered elastic slacks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from bioplan.contracts import SLACKS, Slack


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

    Constraint groups call this so the elastic re-solve relaxes exactly the hard limits; the
    elastic objective prices every slack listed in ``m.elastic_slacks`` with its registered
    weight. A slack missing from :data:`bioplan.contracts.SLACKS` raises ``KeyError`` here.
    """
    if SLACKS.get(slack.name) is not slack:
        msg = f"elastic slack {slack.name!r} is not registered in bioplan.contracts.SLACKS"
        raise KeyError(msg)
    if not m.elastic:
        return None
    var = pyo.Var(index, domain=pyo.NonNegativeReals)
    m.add_component(slack.name, var)
    m.elastic_slacks.append(slack.name)
    return var
