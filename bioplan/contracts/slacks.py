"""The slack registry: the elastic re-solve's priced slacks, each written once.

A constraint group relaxes a hard limit with ``elastic_slack(m, SLACKS[<name>], index)``
(:mod:`bioplan.optimisation.expressions`); the elastic objective prices it with ``weight`` and
the explanation (:mod:`bioplan.optimisation.explain`) reports it with ``resource``, ``unit`` and
``message``. Creating a slack that is not registered here raises at once.

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


_SLACKS = (
    Slack("reactor_extra_units", 1.0, "reactor {key}", "units", Shape.KEY_DAY,
          "{amount:.3g} more {key} unit(s) needed on days {first}-{last} beyond the {limit} "
          "(batches of {products})",
          Products.ON_REACTOR, "{item.owned} owned + {item.max_added} allowed", "reactors"),
    Slack("source_extra_lots", 1.0, "starting material {key}", "lots", Shape.KEY_WEEK,
          "{amount:.3g} more lots of {key} needed in the week of days {first}-{last} "
          "(limit {limit} per week)",
          Products.OF_SOURCE, "{item:g}", "sources"),
    Slack("media_extra_L", 1e-3, "media preparation", "L/day", Shape.DAY,
          "media preparation short by up to {amount:.3g} L/day on days {first}-{last} "
          "(capacity {limit} L/day; batches of {products})",
          Products.ACTIVE, "{data.media_prep_capacity:g}"),
    Slack("labour_extra_operations", 1.0, "labour", "operations/day", Shape.DAY,
          "labour short by up to {amount:.3g} operations/day on days {first}-{last} "
          "(capacity {limit} operations/day; batches of {products})",
          Products.ACTIVE, "{data.labour_limit:g}"),
    Slack("storage_extra_units", 1.0, "storage {key}", "units", Shape.KEY_DAY,
          "{key} storage over capacity by up to {amount:.3g} units on days {first}-{last} "
          "(capacity {limit} units; stock held between release and delivery)",
          Products.KEY, "{item.storage_capacity:g}", "products"),
    Slack("service_missing_units", 1e3, "service level", "units", Shape.KEY,
          "{key}: even with the resources above, {amount:.3g} units short of the minimum "
          "service level {limit} (short on days {first}-{last}: demand before batches can be "
          "released, or no recipe can serve it within its shelf life)",
          Products.KEY, "{item.min_service_level:g}", "products"),
)

SLACKS: dict[str, Slack] = {s.name: s for s in _SLACKS}
"""Every elastic slack by name, in the order the explanation lists them. Missing the service
level is the last resort (weight 1e3), so the re-solve first says which resource would have to
grow; media litres are cheap (1e-3) as they come in thousands."""
