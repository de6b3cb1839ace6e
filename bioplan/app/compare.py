"""KPIs of several plans side by side (session plans and stored runs alike).

The flattening of a ``summary.json`` into ``metric`` -> number is the run store's own
(:mod:`bioplan.runs.compare`, as ``bioplan compare`` prints it): one definition, one key format
(``objective_usd``, ``service_level:rbc``, ``cost_breakdown:basal_medium``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from bioplan.formatting import quantity
from bioplan.runs.compare import _flat_kpis

if TYPE_CHECKING:
    from bioplan.results import Plan
    from bioplan.runs import RunInfo


@dataclass(frozen=True)
class _SummaryRun:
    """The three attributes of a :class:`RunInfo` that the run store's flattening reads."""

    objective_usd: float | None
    gap: float | None
    kpis: dict[str, Any] = field(default_factory=dict)


def summary_of(plan_or_summary: Plan | Mapping[str, Any]) -> dict[str, Any]:
    """A plan's ``summary()``, or a stored ``summary.json`` mapping as it is."""
    if isinstance(plan_or_summary, Mapping):
        return dict(plan_or_summary)
    return plan_or_summary.summary()


def flat_kpis(plan_or_summary: Plan | Mapping[str, Any]) -> dict[str, float]:
    """Numeric KPIs as ``metric`` -> value, keyed as ``bioplan compare`` keys them."""
    summary = summary_of(plan_or_summary)
    run = _SummaryRun(summary.get("objective"), summary.get("gap"), summary)
    return _flat_kpis(cast("RunInfo", run))


def compare_kpis(plans: Mapping[str, Plan | Mapping[str, Any]]) -> pd.DataFrame:
    """Numeric KPIs of several plans side by side, each later plan with its delta to the first.

    Index ``kpi``; columns: one per plan, then ``Δ <name>`` for every plan after the first.
    Text KPIs (the status) are left out: see :func:`compare_status`.
    """
    flat = {name: flat_kpis(p) for name, p in plans.items()}
    frame = pd.DataFrame(flat).apply(pd.to_numeric, errors="coerce").astype(float)
    frame = frame.dropna(how="all")
    frame.index.name = "kpi"
    names = list(flat)
    for name in names[1:]:
        frame[f"Δ {name}"] = frame[name] - frame[names[0]]
    return frame


def kpi_unit(kpi: str) -> str:
    """The unit of a KPI key from :func:`compare_kpis` (``""`` when it has none)."""
    head = kpi.split(":", 1)[0]
    if head in ("objective_usd", "bound", "cost_breakdown"):
        return "USD"
    if head == "cost_per_delivered_unit":
        return "USD/unit"
    if head in ("gap", "service_level"):
        return "fraction"
    if head.startswith("units_"):
        return "units"
    if head == "reactors_added":
        return "reactors"
    if head.endswith("_seconds"):
        return "s"
    return ""


def compare_status(plans: Mapping[str, Plan | Mapping[str, Any]]) -> dict[str, str]:
    """Status of each plan (``optimal``, ``feasible`` ...)."""
    return {name: str(summary_of(p).get("status", "?")) for name, p in plans.items()}


_KPI_LABELS = {
    "objective_usd": "Total cost", "bound": "Bound", "gap": "Gap", "cost_breakdown": "Cost",
    "cost_per_delivered_unit": "Cost per delivered unit", "service_level": "Service level",
    "units_demanded": "Demanded", "units_delivered": "Delivered", "units_short": "Short",
    "units_expired": "Expired", "reactors_added": "Reactors added",
}


def kpi_label(kpi: str) -> str:
    """A readable name with its unit: ``cost_breakdown:basal_medium`` -> ``Cost: basal medium [USD]``."""
    head, _, sub = kpi.partition(":")
    name = _KPI_LABELS.get(head, head.replace("_", " ").capitalize())
    if sub:
        name = f"{name}: {sub.replace('_', ' ')}"
    unit = kpi_unit(kpi)
    return f"{name} [{unit}]" if unit else name


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_kpis` for reading: readable row names, every value formatted in its unit
    (money with $, fractions as %, counts in engineering notation)."""
    shown = pd.DataFrame(
        {col: [quantity(v, kpi_unit(str(k))) for k, v in table[col].items()] for col in table.columns},
        index=pd.Index([kpi_label(str(k)) for k in table.index], name="kpi"))
    return shown
