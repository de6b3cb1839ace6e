"""Checks of the limited resources: starting material, media preparation, labour."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from bioplan.results.checks import view
from bioplan.results.checks.view import PlanView


def check_starting_material(v: PlanView) -> list[str]:
    """Lots used per source and week (by seeding day) stay within the lots available per week."""
    found: list[str] = []
    per_week: dict[tuple[str, int], float] = defaultdict(float)
    for b in v.batches:
        source, lots = view.batch_lots(v, b)
        if source is not None and b.seed_day >= 0:
            per_week[(source, b.seed_day // 7)] += lots
    for (source, week), lots in sorted(per_week.items()):
        limit = v.scenario.sources[source].lots_per_week
        if limit is not None and view.exceeds(lots, limit):
            found.append(f"{source} week {week} (days {7 * week}-{7 * week + 6}): {lots:.4g} lots "
                         f"used, {limit:g} available")
    return view.listed("batches", found)


def check_media(v: PlanView) -> list[str]:
    """Medium prepared per horizon day stays within the preparation capacity; the ``media_use``
    table holds all the medium and cytokines of the batches, and medium only on days a phase runs
    (days before the horizon, of fixed batches, are history and not held to the capacity)."""
    found: list[str] = []
    media = v.plan.media_use
    cap = v.scenario.media.prep_capacity_L_per_day
    daily = view.series(media, "medium_L", ["day"]) if "medium_L" in media.columns else {}
    active: set[int] = set()
    for b in v.batches:
        for phase in b.phases:
            active.update(range(phase.start_day, phase.end_day))
    for day, litres in sorted(daily.items()):
        if cap is not None and 0 <= day < v.horizon and view.exceeds(litres, cap):
            found.append(f"day {day}: {litres:.6g} L of medium prepared, capacity {cap:g} L/day")
        if litres > view.ABS_TOL_UNITS and day not in active:
            found.append(f"day {day}: {litres:.6g} L of medium but no batch phase runs")
    in_horizon = [d for d in active if 0 <= d < v.horizon]
    if v.batches and (in_horizon or daily):
        total = sum(p.medium_L for b in v.batches for p in b.phases)
        if not view.close(sum(daily.values()), total, 1e-3):
            found.append(f"medium_L sums to {sum(daily.values()):.6g} L but the batches use "
                         f"{total:.6g} L")
        for (factor, unit), amount in view.cytokine_totals(v).items():
            col = f"{factor}_{unit}"
            got = float(media[col].sum()) if col in media.columns else 0.0
            if not view.close(got, amount, 1e-6):
                found.append(f"{col} sums to {got:.6g} but the batches use {amount:.6g}")
        using = _factor_days(v)
        for (factor, unit), days in sorted(using.items()):
            col = f"{factor}_{unit}"
            if col not in media.columns:
                continue
            for day, amount in sorted(view.series(media, col, ["day"]).items()):
                if amount > 1e-9 and day not in days:
                    found.append(f"day {day}: {amount:.6g} {unit} of {factor} but no batch phase "
                                 f"using {factor} runs")
    return view.listed("media_use", found)


def _factor_days(v: PlanView) -> dict[tuple[str, str], set[int]]:
    """(factor, unit) -> days on which a batch phase that uses the factor runs (every phase of a
    batch whose recipe gives only the factor's total)."""
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    for b in v.batches:
        for key, per_phase in v.phase_cytokine_use(b).items():
            if per_phase is None:
                if v.cytokine_use(b).get(key, 0.0) > 0:
                    for phase in b.phases:
                        days[key].update(range(phase.start_day, phase.end_day))
                continue
            for phase, amount in zip(b.phases, per_phase, strict=False):
                if amount > 0:
                    days[key].update(range(phase.start_day, phase.end_day))
    return days


def check_labour(v: PlanView) -> list[str]:
    """Operations (seedings, transfers, harvests) per day stay within the labour limit."""
    limit = v.scenario.labour.operations_per_day
    if limit is None:
        return []
    found = [f"day {day}: {n} operations, limit {limit}"
             for day, n in sorted(v.operations().items()) if 0 <= day < v.horizon and n > limit]
    return view.listed("batches", found)


RESOURCE_CHECKS: list[Callable[[PlanView], list[str]]] = [
    check_starting_material, check_media, check_labour,
]
"""This module's checks, in :data:`bioplan.results.checker.CHECKS` (a new limit's check is added
here, with no edit of the checker)."""
