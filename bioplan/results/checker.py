"""Independent plan checker: verify a :class:`~bioplan.results.Plan` against its scenario.

Written from the scenario and the Plan tables only (never from the optimisation model), so a bug
in the model and the same bug in the checker are unlikely to coincide. ``check_plan(plan)`` returns
one message per violated invariant (empty list = every invariant holds); each message names the
table, the offending rows and the numbers.

Conventions checked (the Plan contract in ``docs/architecture.md``):

- A batch is the set of ``batches`` rows sharing a ``batch_id``; its phases follow the recipe's
  phases in order, back to back, each lasting the recipe's phase days. It is seeded on the first
  phase's ``start_day`` and harvested on the last phase's ``end_day`` (ends are exclusive), its
  *production day*. Consecutive phases on the same reactor type continue in the same vessel
  (one *stay*); a stay ``[start, end)`` keeps its unit busy on ``[start, end + turnaround)``:
  no turnaround between phases inside a stay.
- Cytokines: a phase row's ``cytokine_mg`` [mg] sums the mass-dosed factors and ``epo_kU`` [kU]
  the activity-dosed ones (EPO) that the phase uses: seed cells × the recipe's
  ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``. A hand-made recipe table may give only the
  totals ``cytokine_<F>_<unit>_per_seed_cell``; then only the batch totals are checked, and the
  factor may appear in ``media_use`` on any day of the batch.
- Operations (labour): one at the start of every stay (seeding or transfer to another vessel)
  and one harvest; a phase continuing in the same vessel is not an operation.
- Whole units, same-vessel continuation and dates: :mod:`bioplan.results.checks.units`.
- Units of a batch become available (its *cohort day*) on production day + release delay; shelf
  life counts from production, so the release delay eats into it: a cohort is usable on days
  ``cohort_day .. production_day + shelf_life_days - 1``. Initial inventory is cohort 0.
- Expired units leave the inventory on the last usable day or the day after; nothing is held
  later than that.
- Starting material: lots = seed cells / cells per lot (continuous), counted in the week
  (``seed day // 7``) the batch is seeded.
- Costs: starting material = lots × cost per lot; basal medium = litres × price; each cytokine =
  seed cells × use per seed cell × price; reactor capital = (owned + added) × cost per unit-day ×
  horizon days; reactor operation = phase days (without turnaround) × cost per day; labour =
  operations × cost per operation; expiry waste = expired units × expiry cost; shortage penalty =
  short units × penalty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bioplan.results.checks.batches import (
    check_batch_recipes,
    check_capacity,
    check_occupancy,
    check_reactor_units,
    check_vessels,
)
from bioplan.results.checks.costs import check_cost_by_product, check_costs, recompute_costs
from bioplan.results.checks.products import (
    check_deliveries_meet_demand,
    check_inventory_balance,
    check_shelf_life,
    check_storage,
)
from bioplan.results.checks.resources import RESOURCE_CHECKS
from bioplan.results.checks.units import UNIT_CHECKS
from bioplan.results.checks.view import PlanView

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

__all__ = ["CHECKS", "check_plan", "recompute_costs", "run_check"]


def check_plan(plan: Plan) -> list[str]:
    """Every violated invariant of ``plan`` as one message (empty list: all hold).

    A plan without a solution (infeasible, no solution) has nothing to check and gives ``[]``.

    >>> check_plan(plan)                                            # doctest: +SKIP
    ['deliveries: platelet on day 9 from cohort 3 is after its last usable day 7']
    """
    if not plan.has_solution:
        return []
    view = PlanView.of(plan)
    problems: list[str] = []
    for check in CHECKS:
        problems.extend(run_check(check, view))
    return problems


def run_check(check: Callable[[PlanView], list[str]], view: PlanView) -> list[str]:
    """One check's messages; a table it cannot read is a finding too, never an exception.
    (``bioplan.results.checks.recourse.check_recourse`` runs the same checks on a realisation
    whose units may also be discarded for lack of storage.)"""
    try:
        return check(view)
    except (KeyError, ValueError, TypeError) as err:  # a malformed table is a finding too
        return [f"{check.__name__.removeprefix('check_')}: could not check ({err!r})"]


CHECKS: list[Callable[[PlanView], list[str]]] = [
    check_batch_recipes,
    check_vessels,
    check_reactor_units,
    check_capacity,
    check_occupancy,
    check_deliveries_meet_demand,
    check_shelf_life,
    check_inventory_balance,
    check_storage,
    *RESOURCE_CHECKS,
    check_costs,
    check_cost_by_product,
    *UNIT_CHECKS,
]
"""Every check, in the order its messages are reported."""
