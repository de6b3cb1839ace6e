"""Independent check of one yield realisation's recourse: units discarded for lack of storage.

A realisation of a plan (one sample of a robust plan's program, or of ``bioplan evaluate``) keeps
the plan's batches and re-dispatches what they release. When the stock left at the end of a day
exceeds the product's storage capacity, the excess is thrown away (the recourse rule of
``bioplan.optimisation.recourse``). The Plan tables have no column for that: the realisation
carries a ``discards`` table (index ``day, product, cohort_day``, column ``units``) and its
``expiries`` table counts the discarded units as wasted on the day they are thrown away (priced
like expired units, as in the recourse's objective).

:func:`check_recourse` runs every check of :func:`~bioplan.results.checker.check_plan` with two
changes, plus the checks of the discards themselves:

- the whole-unit check is left out: a realisation's units are what its draw's cells make (the plan
  packages whole bags; a sample's yield factor scales them);

- the inventory balance (``check_inventory_balance``) is checked on a copy of the tables in which
  each discarded unit stays in its cohort's stock until the cohort's last usable day and leaves the
  day after, like an expired unit: the ``expiries`` of the discard day lose it, those of the
  cohort's expiry day gain it (nothing when that day is past the horizon). Every other check (the
  storage limit, the costs, shelf life, deliveries) sees the realisation as it is;
- discards are not negative, belong to a product with a storage capacity and to a cohort that is
  released by then and still usable, are *forced* (on a day with discards the stock held at the end
  of the day equals the capacity: nothing is thrown away that could be kept), and are counted in
  that day's ``expiries``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd

from bioplan.results.checker import CHECKS, run_check
from bioplan.results.checks import view
from bioplan.results.checks.products import check_inventory_balance
from bioplan.results.checks.units import check_whole_units
from bioplan.results.checks.view import PlanView

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

DISCARD_INDEX = ["day", "product", "cohort_day"]
"""Index levels of a ``discards`` table (its column is ``units`` [unit])."""


def _frame(values: dict[tuple[int, str, int] | tuple[int, str], float], index: list[str]
           ) -> pd.DataFrame:
    rows = [(*key, units) for key, units in sorted(values.items()) if units > view.ABS_TOL_UNITS]
    return pd.DataFrame(rows, columns=[*index, "units"]).set_index(index).sort_index()


def carried(plan: Plan, discards: pd.DataFrame) -> Plan:
    """A copy of ``plan`` whose discarded units stay in stock until their cohort expires (see the
    module docstring): the tables the inventory balance must close on."""
    v = PlanView.of(plan)
    stock = defaultdict(float, view.series(plan.inventory, "units", DISCARD_INDEX))
    wasted = defaultdict(float, view.series(plan.expiries, "units", ["day", "product"]))
    for (day, product, cohort), units in view.series(discards, "units", DISCARD_INDEX).items():
        if product not in v.products:
            continue
        last = v.last_usable_day(product, cohort)
        for held in range(day, min(last, v.horizon - 1) + 1):
            stock[(held, product, cohort)] += units
        wasted[(day, product)] -= units
        if last + 1 < v.horizon:
            wasted[(last + 1, product)] += units
    return dataclasses.replace(plan, inventory=_frame(stock, DISCARD_INDEX),
                               expiries=_frame(wasted, ["day", "product"]))


def discard_problems(plan: Plan, discards: pd.DataFrame) -> list[str]:
    """The discards themselves: sign, product, cohort, forced by the storage limit, counted."""
    v = PlanView.of(plan)
    found: list[str] = []
    held = view.series(plan.inventory, "units", ["day", "product"])
    wasted = view.series(plan.expiries, "units", ["day", "product"])
    released = v.released()
    per_day: dict[tuple[int, str], float] = defaultdict(float)
    for (day, product, cohort), units in sorted(
            view.series(discards, "units", DISCARD_INDEX).items()):
        prod = v.products.get(product)
        if units < -view.ABS_TOL_UNITS:
            found.append(f"day {day} {product} cohort {cohort}: negative discard {units:g}")
            continue
        if prod is None or prod.storage_capacity_units is None:
            found.append(f"day {day} {product}: {units:g} units discarded but {product!r} has no "
                         f"storage limit")
            continue
        if released.get((product, cohort), 0.0) <= view.ABS_TOL_UNITS or day < max(cohort, 0) or (
                day > v.last_usable_day(product, cohort)):
            found.append(f"day {day} {product}: {units:g} units discarded from cohort {cohort}, "
                         f"which holds nothing usable that day")
        per_day[(day, product)] += units
    for (day, product), units in sorted(per_day.items()):
        capacity = v.products[product].storage_capacity_units
        kept = held.get((day, product), 0.0)
        if units > view.ABS_TOL_UNITS and capacity is not None and not view.close(kept, capacity):
            found.append(f"day {day} {product}: {units:g} units discarded while only {kept:g} of "
                         f"{capacity:g} storage is used (a discard must be forced by the limit)")
        if view.exceeds(units, wasted.get((day, product), 0.0)):
            found.append(f"day {day} {product}: {units:g} units discarded but expiries count "
                         f"{wasted.get((day, product), 0.0):g}")
    return view.listed("discards", found)


def check_recourse(plan: Plan, discards: pd.DataFrame | None = None) -> list[str]:
    """Every violated invariant of a realisation ``plan`` with its ``discards`` (see the module
    docstring); without discards this is :func:`~bioplan.results.checker.check_plan`.

    >>> realisation, discards = realised_with_discards(plan, factors)   # doctest: +SKIP
    >>> check_recourse(realisation, discards)                            # doctest: +SKIP
    []
    """
    if not plan.has_solution:
        return []
    if discards is None or discards.empty:
        discards = pd.DataFrame({"units": []}, index=pd.MultiIndex.from_tuples(
            [], names=DISCARD_INDEX))
    as_is, balanced = PlanView.of(plan), PlanView.of(carried(plan, discards))
    problems: list[str] = []
    for check in CHECKS:
        if check is check_whole_units:
            continue  # a realisation's units are its draw's cells: whole bags are the plan's
        problems += run_check(check, balanced if check is check_inventory_balance else as_is)
    return problems + discard_problems(plan, discards)
