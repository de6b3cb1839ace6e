"""The slack registry: the elastic re-solve's priced slacks, each written once.

A constraint group relaxes a hard limit with ``elastic_slack(m, SLACKS[<name>], index)``
(:mod:`bioplan.optimisation.expressions`); the elastic objective prices it with ``weight`` and
the explanation (:mod:`bioplan.optimisation.explain`) reports it with ``resource``, ``unit`` and
``message``. Creating a slack that is not registered here raises at once.

Message fields: ``amount`` (the slack, in ``unit``), ``key`` (reactor type, source or product),
``first`` / ``last`` (days), ``limit`` (the limit that gives) and ``products``.
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


_SLACKS = (
    Slack("reactor_extra_units", 1.0, "reactor {key}", "units", Shape.KEY_DAY,
          "{amount:.3g} more {key} unit(s) needed on days {first}-{last} beyond the {limit} "
          "(batches of {products})"),
    Slack("source_extra_lots", 1.0, "starting material {key}", "lots", Shape.KEY_WEEK,
          "{amount:.3g} more lots of {key} needed in the week of days {first}-{last} "
          "(limit {limit} per week)"),
    Slack("media_extra_L", 1e-3, "media preparation", "L/day", Shape.DAY,
          "media preparation short by up to {amount:.3g} L/day on days {first}-{last} "
          "(capacity {limit} L/day; batches of {products})"),
    Slack("labour_extra_operations", 1.0, "labour", "operations/day", Shape.DAY,
          "labour short by up to {amount:.3g} operations/day on days {first}-{last} "
          "(capacity {limit} operations/day; batches of {products})"),
    Slack("storage_extra_units", 1.0, "storage {key}", "units", Shape.KEY_DAY,
          "{key} storage over capacity by up to {amount:.3g} units on days {first}-{last} "
          "(capacity {limit} units; stock held between release and delivery)"),
    Slack("service_missing_units", 1e3, "service level", "units", Shape.KEY,
          "{key}: even with the resources above, {amount:.3g} units short of the minimum "
          "service level {limit} (short on days {first}-{last}: demand before batches can be "
          "released, or no recipe can serve it within its shelf life)"),
)

SLACKS: dict[str, Slack] = {s.name: s for s in _SLACKS}
"""Every elastic slack by name, in the order the explanation lists them. Missing the service
level is the last resort (weight 1e3), so the re-solve first says which resource would have to
grow; media litres are cheap (1e-3) as they come in thousands."""
