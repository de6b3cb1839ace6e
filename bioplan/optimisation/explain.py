"""Explain an infeasible scenario in process terms with an elastic re-solve.

The re-solve gives every hard limit (reactor fleet per day, starting material per week, media
preparation and labour per day, storage, the minimum service level) a priced slack and minimises
the slacks. Non-zero slacks say which resource falls short, on which days, by how much, and which
products' batches need it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from bioplan.optimisation.data import Option, PlanData
from bioplan.optimisation.guard import solve_guarded
from bioplan.optimisation.solve import SolveOptions

EXPLANATION_COLUMNS = ["product", "resource", "first_day", "last_day", "shortfall", "unit", "message"]
TOL = 1e-6
"""Slacks at or below this are zero [model units: units, lots, L/day, operations/day]."""
ELASTIC_GAP = 1e-4
"""Relative MIP gap of the elastic re-solve [-], tighter than a plan's so the reported shortfalls
are close to the least that explains the infeasibility."""


def _spans(days: dict[int, float]) -> list[tuple[int, int, float]]:
    """Runs of consecutive days as (first, last, largest value in the run)."""
    spans: list[tuple[int, int, float]] = []
    for d in sorted(days):
        if spans and d == spans[-1][1] + 1:
            first, _last, need = spans[-1]
            spans[-1] = (first, d, max(need, days[d]))
        else:
            spans.append((d, d, days[d]))
    return spans


def _by_key(values: dict[tuple[str, int], float]) -> dict[str, dict[int, float]]:
    """The slacks above ``TOL`` of a (key, day)-indexed variable, grouped by key."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for (k, d), x in values.items():
        if x > TOL:
            out[k][d] = x
    return out


def _batches(data: PlanData, values: dict[str, dict[Any, float]]) -> list[tuple[Option, int]]:
    """(option, seeding day) of every slot the elastic plan starts at least one batch in."""
    return [data.slot(s) for s, n in values.get("slot_batches", {}).items() if n >= 0.5]


def _products_on(data: PlanData, values: dict[str, dict[Any, float]], rtype: str,
                 first: int, last: int) -> list[str]:
    """Products whose batches hold a ``rtype`` reactor (phase plus turnaround) on any of days
    first..last."""
    found = set()
    for opt, d in _batches(data, values):
        for ph in opt.phases:
            lo, hi = d + ph.offset_days, d + ph.offset_days + ph.days + ph.turnaround_days - 1
            if ph.reactor_type == rtype and lo <= last and first <= hi:
                found.add(opt.product)
    return sorted(found)


def _products_active(data: PlanData, values: dict[str, dict[Any, float]], first: int,
                     last: int) -> list[str]:
    """Products whose batches run (seeding day to harvest day) on any of days first..last."""
    return sorted({opt.product for opt, d in _batches(data, values)
                   if d <= last and first <= d + opt.days})


def explain_infeasibility(data: PlanData, options: SolveOptions, guard_s: float
                          ) -> tuple[pd.DataFrame, str]:
    """Findings table (one row per resource shortfall) and a one-line summary."""
    result = solve_guarded(data, SolveOptions(options.time_limit_s, ELASTIC_GAP, options.threads,
                                                  interface=options.interface),
                           guard_s, elastic=True)
    rows: list[tuple[Any, ...]] = []
    if not result.status.has_solution:
        frame = pd.DataFrame(columns=EXPLANATION_COLUMNS)
        frame.index.name = "finding"
        return frame, f"infeasible; the elastic re-solve found no explanation ({result.message})"
    v = result.values
    for t, days in _by_key(v.get("reactor_extra_units", {})).items():
        for first, last, need in _spans(days):
            products = _products_on(data, v, t, first, last)
            rows.append((", ".join(products), f"reactor {t}", first, last, need, "units",
                         f"{need:.3g} more {t} unit(s) needed on days {first}-{last} beyond the "
                         f"{data.reactors[t].owned} owned + {data.reactors[t].max_added} allowed "
                         f"(batches of {', '.join(products) or 'any product'})"))
    for (q, w), x in v.get("source_extra_lots", {}).items():
        if x > TOL:
            products = sorted({o.product for o in data.options if o.source == q})
            rows.append((", ".join(products), f"starting material {q}", 7 * w, 7 * w + 6, x, "lots",
                         f"{x:.3g} more lots of {q} needed in the week of days {7 * w}-{7 * w + 6} "
                         f"(limit {data.sources[q]:g} per week)"))
    for name, resource, unit, limit in (
            ("media_extra_L", "media preparation", "L/day", data.media_prep_capacity),
            ("labour_extra_operations", "labour", "operations/day", data.labour_limit)):
        days = {d: x for d, x in v.get(name, {}).items() if x > TOL}
        for first, last, need in _spans(days):
            products = _products_active(data, v, first, last)
            rows.append((", ".join(products), resource, first, last, need, unit,
                         f"{resource} short by up to {need:.3g} {unit} on days {first}-{last} "
                         f"(capacity {limit:g} {unit}; batches of "
                         f"{', '.join(products) or 'any product'})"))
    for p, days in _by_key(v.get("storage_extra_units", {})).items():
        for first, last, need in _spans(days):
            cap = data.products[p].storage_capacity
            rows.append((p, f"storage {p}", first, last, need, "units",
                         f"{p} storage over capacity by up to {need:.3g} units on days {first}-{last} "
                         f"(capacity {cap:g} units; stock held between release and delivery)"))
    for p, x in v.get("service_missing_units", {}).items():
        if x > TOL:
            short_days = sorted(d for (q, d), u in v.get("demand_short", {}).items()
                                if q == p and u > TOL)
            first, last = (short_days[0], short_days[-1]) if short_days else (0, data.horizon_days - 1)
            rows.append((p, "service level", first, last, x, "units",
                         f"{p}: even with the resources above, {x:.3g} units short of the minimum "
                         f"service level {data.products[p].min_service_level:g} (short on days "
                         f"{first}-{last}: demand before batches can be released, or no recipe "
                         "can serve it within its shelf life)"))
    frame = pd.DataFrame(rows, columns=EXPLANATION_COLUMNS)
    frame.index.name = "finding"
    if frame.empty:
        return frame, "infeasible; the elastic re-solve needed no slack (numerical trouble?)"
    causes = "; ".join(frame["message"].head(3))
    service = [p for p, pd_ in data.products.items() if pd_.min_service_level is not None]
    head = f"hard minimum service level of {', '.join(service)} cannot be met: " if service else ""
    return frame, f"infeasible: {head}{causes}"
