"""Module-level functions for SolveJob tests (a spawn child must be able to import them)."""

from __future__ import annotations

import time

from bioplan.errors import InputError


def slow_square(x: int, delay_s: float = 0.0) -> int:
    time.sleep(delay_s)
    return x * x


def bad_input() -> None:
    raise InputError("demand is negative", file="s.yaml", field="demand.units", fix="use >= 0")


def boom() -> None:
    raise ValueError("kaput")


def fake_solve(scenario: object, time_limit_s: float | None, mip_gap: float | None) -> object:
    """Stands in for the planner: a hand-made plan whose cost follows the demand scale."""
    from tests.dashboard import fakes

    time.sleep(0.3)
    scale = getattr(getattr(scenario, "demand", None), "scale", 1.0)
    return fakes.plan(scale=scale)


def slow_solve(scenario: object, time_limit_s: float | None, mip_gap: float | None) -> object:
    time.sleep(120)
    return None


def bad_input_solve(scenario: object, time_limit_s: float | None, mip_gap: float | None) -> object:
    bad_input()
    return None


def fake_solve_many(items: list[tuple[str, object]], time_limit_s: float | None,
                    mip_gap: float | None) -> dict[str, object]:
    """Stands in for ``solve_many``: one hand-made plan per what-if, carrying its scenario."""
    plans = {}
    for label, scn in items:
        plan = fake_solve(scn, time_limit_s, mip_gap)
        plan.scenario = scn  # type: ignore[attr-defined]
        plans[label] = plan
    return plans
