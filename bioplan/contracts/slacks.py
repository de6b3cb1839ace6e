"""What an elastic slack is: the elastic re-solve's priced slacks, each written once.

Each constraint group that relaxes a hard limit defines its :class:`Slack` beside its rows (e.g.
``REACTOR_SLACK`` in :mod:`bioplan.optimisation.reactors`) and creates it with
``elastic_slack(m, SLACK, index)`` (:mod:`bioplan.optimisation.expressions`), which registers it
on the model (``m.elastic_slacks``, in build order). The elastic objective prices the registered
slacks with ``weight`` and the explanation (:mod:`bioplan.optimisation.explain`) reports them,
in that order, with ``resource``, ``unit`` and ``message``. A slack variable the elastic model
creates outside ``elastic_slack`` fails ``tests/optimisation/test_registries.py``.

Message fields: ``amount`` (the slack, in ``unit``), ``key`` (reactor type, source or product),
``first`` / ``last`` (days), ``limit`` (the limit that gives) and ``products``.

The explanation's context is declarative too, so a new slack needs no edit elsewhere: ``products``
says which products a finding concerns (:class:`Products`) and ``limit`` is a template formatted
with ``data`` (the model's ``PlanData``) and ``item`` (``data.<keyed_by>[key]``, the reactor,
source or product the finding is about; ``None`` for unkeyed slacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Shape(StrEnum):
    """How a slack is indexed, which decides how the explanation groups it."""

    KEY_DAY = "key_day"
    """(key, day): runs of consecutive days per key."""
    KEY_WEEK = "key_week"
    """(key, week): one finding per week."""
    DAY = "day"
    """day: runs of consecutive days."""
    KEY = "key"
    """key: one finding per key."""


class Products(StrEnum):
    """Which products a finding concerns (the explanation's ``product`` column)."""

    ON_REACTOR = "on_reactor"
    """Products whose batches hold a reactor of type ``key`` on the finding's days."""
    ACTIVE = "active"
    """Products whose batches run (seeding to harvest) on the finding's days."""
    OF_SOURCE = "of_source"
    """Products whose options draw on starting-material source ``key``."""
    KEY = "key"
    """The key itself is the product."""


@dataclass(frozen=True)
class Slack:
    """One elastic slack."""

    name: str
    """The Pyomo variable's name."""
    weight: float
    """Price in the elastic objective [per unit of the slack]."""
    resource: str
    """The explanation's ``resource`` column (``{key}`` is filled in)."""
    unit: str
    shape: Shape
    message: str
    """Template of the explanation's message (fields in the module docstring)."""
    products: Products
    """Which products a finding concerns."""
    limit: str
    """Template of the limit that gives (``{data...}``, ``{item...}``; see the module docstring)."""
    keyed_by: str = ""
    """The ``PlanData`` mapping the slack's key indexes (``reactors``, ``sources``, ``products``)."""
