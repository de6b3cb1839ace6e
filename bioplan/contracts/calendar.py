"""Shelf life and maintenance windows on the plan grid: one definition of each.

Shelf life counts from **harvest** (``Product.shelf_life_days``); release testing
(``release_delay_days``) eats into it. A cohort is the product of the batches harvested on one
day, available from its release day ``c = harvest + release delay``. It may be delivered on days
``c .. last_usable_day(c)`` (both inclusive) and expires, if left, on ``last_usable_day(c) + 1``.
The model, the extraction, the charts, the checker and the tests all use this function.
"""

from __future__ import annotations


def last_usable_day(release_day: int, shelf_life_days: int, release_delay_days: int) -> int:
    """The last day a cohort released on ``release_day`` may be delivered (inclusive):
    harvest day + shelf life − 1, with harvest day = ``release_day - release_delay_days`` [day].

    >>> last_usable_day(10, shelf_life_days=5, release_delay_days=1)   # harvested on day 9
    13
    """
    return release_day - release_delay_days + shelf_life_days - 1


def maintenance_days(first_day: int, days: int, horizon_days: int) -> range:
    """The plan days a maintenance window takes its unit out of service: from its first day for
    ``days`` days, clipped to the horizon ``0 .. horizon_days - 1`` [day]. The one window rule of
    the model, the unit assignment, the occupancy table and the checker."""
    return range(max(first_day, 0), min(first_day + days, horizon_days))
