"""Evaluate one sweep point: load the scenario with the point's values, plan, return a KPI row.

:func:`evaluate_point` runs in worker processes (a local process pool or Dask workers), so it is a
module-level function of plain, picklable arguments, and it never raises: a failing point comes
back as a row with ``status = "error"`` and the error text.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bioplan.contracts import PENALTY_TERMS
from bioplan.errors import BioplanError
from bioplan.sweeps.spec import YIELD_PREFIX, _CardDraw

ERROR_STATUS = "error"


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs for one point (picklable)."""

    point_id: int
    grid_id: int
    sample_id: int | None
    base: dict[str, Any]
    """The validated base scenario, self-contained (``Scenario.model_dump_json()`` parsed: demand
    and hand-made recipe rows inline), so workers need no access to the scenario files."""
    values: dict[str, Any]
    solver: dict[str, Any] = field(default_factory=dict)


def evaluate_point(task: PointTask) -> dict[str, Any]:
    """Plan one point and return its row (identification, parameter values, status, KPIs)."""
    row: dict[str, Any] = {
        "point_id": task.point_id,
        "grid_id": task.grid_id,
        "sample_id": task.sample_id,
    }
    values = dict(task.values)
    started = time.perf_counter()
    try:
        overrides = {k: v for k, v in values.items() if not k.startswith(YIELD_PREFIX)}
        scenario = _load(task, overrides)
        yield_values = {k: v for k, v in values.items() if k.startswith(YIELD_PREFIX)}
        if yield_values:
            from bioplan.sweeps.yields_bridge import perturbed_recipe_overrides

            recipe_overrides, used = perturbed_recipe_overrides(scenario, yield_values)
            values.update(used)
            scenario = _load(task, overrides | recipe_overrides)
        result = _plan(scenario, task.solver)
        row.update(param_columns(values))
        row.update(plan_kpis(result))
    except Exception as err:
        row.update(param_columns(values))
        row["status"] = ERROR_STATUS
        row["error"] = _describe(err)
    row["wall_time_s"] = round(time.perf_counter() - started, 3)
    return row


def _plan(scenario: Any, solver: dict[str, Any]) -> Any:
    from bioplan.planning import plan

    options = {k: v for k, v in solver.items() if v is not None}
    # shadow prices cost one LP in the plan's own solve (``price_usd:<resource>`` columns)
    return plan(scenario, **options, marginal_values="dual")


def _load(task: PointTask, overrides: dict[str, Any]) -> Any:
    from bioplan.scenario import scenario_from_dict

    return scenario_from_dict(task.base, overrides=overrides, file="sweep point")


def _describe(err: BaseException) -> str:
    if isinstance(err, BioplanError):
        return f"{type(err).__name__}: {err.describe()}"
    last = traceback.extract_tb(err.__traceback__)[-1:] if err.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(err).__name__}: {err}{where}"


def param_columns(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if isinstance(value, _CardDraw):
            value = None  # not resolved (the point failed before the card was sampled)
        out[name] = value
    return out


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plan_kpis(plan: Any) -> dict[str, Any]:
    """The KPI columns of a plan: status, cost, service level, per-product figures, cost terms."""
    summary = plan.summary()
    row: dict[str, Any] = {
        "status": str(plan.status),
        "error": None,
        "objective_usd": _finite(plan.objective_usd),
        "gap": _finite(plan.gap),
    }
    demanded = summary.get("units_demanded") or {}
    delivered = summary.get("units_delivered") or {}
    total_demanded = sum(v for v in demanded.values() if v is not None)
    total_delivered = sum(v for v in delivered.values() if v is not None)
    has_plan = row["objective_usd"] is not None and plan.has_solution
    row["units_demanded"] = float(total_demanded)
    row["units_delivered"] = float(total_delivered) if has_plan else None
    row["service_level"] = (
        total_delivered / total_demanded if has_plan and total_demanded > 0 else None
    )
    production_cost = None
    if has_plan:
        breakdown = summary.get("cost_breakdown") or {}
        production_cost = sum(
            v for k, v in breakdown.items() if v is not None and k not in PENALTY_TERMS
        )
    row["cost_per_unit_usd"] = (
        production_cost / total_delivered if production_cost is not None and total_delivered > 0
        else None
    )
    for key, column in (
        ("service_level", "service_level"),
        ("cost_per_delivered_unit", "cost_per_unit_usd"),
        ("units_delivered", "units_delivered"),
        ("units_short", "units_short"),
        ("units_expired", "units_expired"),
    ):
        for product, value in (summary.get(key) or {}).items():
            row[f"{column}:{product}"] = _finite(value)
    for term, value in (summary.get("cost_breakdown") or {}).items():
        row[f"cost_usd:{term}"] = _finite(value)
    for reactor, value in (summary.get("reactors_added") or {}).items():
        row[f"reactors_added:{reactor}"] = int(value)
    values = getattr(plan, "marginal_values", None)
    if values is not None and "usd_per_unit" in values.columns:
        for resource, value in values["usd_per_unit"].items():
            row[f"price_usd:{resource}"] = _finite(value)
    row["solve_time_s"] = _finite(plan.timings.get("solve"))
    return row
