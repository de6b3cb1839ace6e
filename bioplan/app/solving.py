"""What the dashboard's solve worker runs (in a child process, see :mod:`bioplan.app.job`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bioplan.results import Plan
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty


def solve(scenario: Scenario, time_limit_s: float | None = None, mip_gap: float | None = None,
          marginal_values: bool = True, robust: Uncertainty | None = None) -> Plan:
    """Plan ``scenario``. Marginal values are the shadow prices of one fixed-integer LP (cheap:
    on by default); ``robust``: plan against yield samples (see :func:`bioplan.planning.plan`)."""
    from bioplan.planning import plan

    return plan(scenario, time_limit_s=time_limit_s, mip_gap=mip_gap,
                marginal_values=marginal_values, robust=robust)


def warm_up(scenario: str | None = None) -> None:
    """Import the planner and compute (cache) the recipe tables of ``scenario`` (the built-in
    default when None): what a standby solve worker does before its first job."""
    import bioplan.planning  # noqa: F401  (Pyomo, HiGHS, pandas)
    from bioplan.scenario import load_scenario

    load_scenario(scenario).recipe_table()


def solve_many(items: list[tuple[str, Scenario]], time_limit_s: float | None = None,
               mip_gap: float | None = None) -> dict[str, Plan]:
    """Plan each ``(label, scenario)`` in turn (one worker process, one what-if after the other:
    on two cores concurrent solves only slow each other down)."""
    return {label: solve(scenario, time_limit_s, mip_gap) for label, scenario in items}
