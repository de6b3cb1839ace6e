"""Explain an infeasible scenario in process terms with an elastic re-solve.

The re-solve gives every hard limit (reactor fleet per day, starting material per week, media
preparation and labour per day, storage, the minimum service level) a priced slack and minimises
the slacks. Non-zero slacks say which resource falls short, on which days, by how much, and which
products' batches need it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pandas as pd

from bioplan.contracts import Products, Shape, Slack
from bioplan.optimisation.data import Option, PlanData
from bioplan.optimisation.guard import solve_guarded
from bioplan.optimisation.outcome import SolveOptions

Values = dict[str, dict[Any, float]]

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


def _batches(data: PlanData, values: Values) -> list[tuple[Option, int]]:
    """(option, seeding day) of every slot the elastic plan starts at least one batch in."""
    return [data.slot(s) for s, n in values.get("slot_batches", {}).items() if n >= 0.5]


def _products_on(data: PlanData, values: Values, rtype: str, first: int, last: int) -> list[str]:
    """Products whose batches hold a ``rtype`` reactor (phase plus turnaround) on any of days
    first..last."""
    found = set()
    for opt, d in _batches(data, values):
        for ph in opt.phases:
            lo, hi = d + ph.offset_days, d + ph.offset_days + ph.days + ph.turnaround_days - 1
            if ph.reactor_type == rtype and lo <= last and first <= hi:
                found.add(opt.product)
    return sorted(found)


def _products_active(data: PlanData, values: Values, first: int, last: int) -> list[str]:
    """Products whose batches run (seeding day to harvest day) on any of days first..last."""
    return sorted({opt.product for opt, d in _batches(data, values)
                   if d <= last and first <= d + opt.days})


Finding = tuple[Any, int, int, float]
"""(key, first day, last day, slack amount) of one shortfall."""


def _findings(slack: Slack, values: dict[Any, float], data: PlanData) -> Iterator[Finding]:
    """The shortfalls of one slack, grouped as its shape says."""
    if slack.shape is Shape.KEY_DAY:
        for key, days in _by_key(values).items():
            for first, last, need in _spans(days):
                yield key, first, last, need
    elif slack.shape is Shape.KEY_WEEK:
        for (key, w), x in values.items():
            if x > TOL:
                yield key, 7 * w, 7 * w + 6, x
    elif slack.shape is Shape.DAY:
        for first, last, need in _spans({d: x for d, x in values.items() if x > TOL}):
            yield None, first, last, need
    else:
        for key, x in values.items():
            if x > TOL:
                yield key, 0, data.horizon_days - 1, x


def _any(products: list[str]) -> str:
    return ", ".join(products) or "any product"


def finding_context(slack: Slack, data: PlanData, v: Values, f: Finding) -> tuple[list[str], str]:
    """The products concerned and the limit that gives, as the slack's registry entry says
    (:class:`bioplan.contracts.Products` and its ``limit`` template)."""
    key, first, last, _x = f
    item = getattr(data, slack.keyed_by)[key] if slack.keyed_by else None
    limit = slack.limit.format(data=data, item=item)
    if slack.products is Products.ON_REACTOR:
        return _products_on(data, v, key, first, last), limit
    if slack.products is Products.ACTIVE:
        return _products_active(data, v, first, last), limit
    if slack.products is Products.OF_SOURCE:
        return sorted({o.product for o in data.options if o.source == key}), limit
    return [key], limit


def _short_days(v: Values, product: str) -> tuple[int, int] | None:
    days = sorted(d for (q, d), u in v.get("demand_short", {}).items() if q == product and u > TOL)
    return (days[0], days[-1]) if days else None


def explanation_rows(data: PlanData, v: Values, slacks: tuple[Slack, ...]
                     ) -> list[tuple[Any, ...]]:
    """One row (``EXPLANATION_COLUMNS``) per shortfall of each of ``slacks`` (the elastic
    model's, in build order)."""
    rows: list[tuple[Any, ...]] = []
    for slack in slacks:
        for finding in _findings(slack, v.get(slack.name, {}), data):
            key, first, last, amount = finding
            if slack.shape is Shape.KEY:
                first, last = _short_days(v, key) or (first, last)
            products, limit = finding_context(slack, data, v, finding)
            message = slack.message.format(amount=amount, key=key, first=first, last=last,
                                           limit=limit, products=_any(products))
            rows.append((", ".join(products), slack.resource.format(key=key), first, last, amount,
                         slack.unit, message))
    return rows


def explain_infeasibility(data: PlanData, options: SolveOptions, guard_s: float
                          ) -> tuple[pd.DataFrame, str]:
    """Findings table (one row per resource shortfall) and a one-line summary."""
    result = solve_guarded(data, SolveOptions(options.time_limit_s, ELASTIC_GAP, options.threads,
                                              interface=options.interface),
                           guard_s, elastic=True)
    if not result.status.has_solution:
        frame = pd.DataFrame(columns=EXPLANATION_COLUMNS)
        frame.index.name = "finding"
        return frame, f"infeasible; the elastic re-solve found no explanation ({result.message})"
    frame = pd.DataFrame(explanation_rows(data, result.values, result.slacks), columns=EXPLANATION_COLUMNS)
    frame.index.name = "finding"
    if frame.empty:
        return frame, "infeasible; the elastic re-solve needed no slack (numerical trouble?)"
    causes = "; ".join(frame["message"].head(3))
    service = [p for p, pd_ in data.products.items() if pd_.min_service_level is not None]
    head = f"hard minimum service level of {', '.join(service)} cannot be met: " if service else ""
    return frame, f"infeasible: {head}{causes}"
