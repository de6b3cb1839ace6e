"""Robust plans in sweeps: ``robust:`` in the sweep file makes every point a robust plan.

The sweep's ``robust:`` (``true`` or a block of ``uncertainty:`` keys, see
:mod:`bioplan.robust.settings`) goes on top of each point's own scenario ``uncertainty:`` block,
so a grid over ``uncertainty.samples`` or ``uncertainty.service_level`` varies the robust settings
per point. Each row of a robust point gains the figures of ``plan.robust``
(:data:`ROBUST_COLUMNS`) and, per product, the out-of-sample P10 and mean service of the robust
plan and of the deterministic plan beside it.
"""

from __future__ import annotations

import math
from typing import Any

from bioplan.robust.settings import merged_uncertainty

ROBUST_COLUMNS = ("samples", "engine", "expected_cost_usd", "bound_usd", "gap",
                  "deterministic_objective_usd", "price_of_robustness_usd", "vss_usd",
                  "vss_se_usd", "evpi_usd", "evpi_se_usd")
"""``plan.robust`` entries copied into a point's row as ``robust:<entry>``."""
SERVICE_COLUMNS = ("robust_p10", "deterministic_p10", "robust_mean", "deterministic_mean")
"""Per product out-of-sample service columns, ``service_<entry>:<product>``."""


def requested(spec_robust: Any) -> dict[str, Any] | None:
    """The keys a sweep's ``robust:`` gives (picklable), None when it asks for none."""
    if spec_robust is None:
        return None
    return dict(spec_robust.model_dump(include=spec_robust.model_fields_set))


def point_uncertainty(scenario: Any, keys: dict[str, Any] | None) -> Any:
    """The point's robust settings (its scenario's block with ``keys`` on top), or None."""
    if keys is None:
        return None
    from bioplan.scenario.schema import Uncertainty

    return merged_uncertainty(scenario.uncertainty, Uncertainty.model_validate(keys),
                              file="sweep point")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def robust_columns(plan: Any) -> dict[str, Any]:
    """The ``robust:<entry>`` and ``service_<entry>:<product>`` columns of a robust plan ({}
    for a deterministic one)."""
    robust = getattr(plan, "robust", None)
    if not robust:
        return {}
    row = {f"robust:{key}": _plain(robust.get(key)) for key in ROBUST_COLUMNS}
    for product, service in (robust.get("service") or {}).items():
        for key in SERVICE_COLUMNS:
            row[f"service_{key}:{product}"] = _plain(service.get(key))
    return row
