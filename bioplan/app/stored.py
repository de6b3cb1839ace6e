"""Finished runs from the run store, ready to compare with the session's plans."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bioplan.results import Plan


@dataclass(frozen=True)
class StoredRun:
    """A finished run from the run store, ready to compare: its KPIs (``summary.json``-like mapping)
    and, when it has a plan, a schedule-only :class:`Plan` (batches + scenario) for the Gantt chart."""

    run_id: str
    label: str
    kpis: dict[str, Any]
    plan: Plan | None


def store_exists(url: str) -> bool:
    """False only for a SQLite store whose file does not exist yet (other databases: True)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url:
        return True
    return Path(url.removeprefix(prefix).split("?", 1)[0]).exists()


def list_stored_runs(url: str | None, limit: int = 50) -> list[tuple[str, str]]:
    """``(run_id, label)`` of the newest runs with a plan in the store at ``url`` (default store when
    None). Raises :class:`InputError` when the store cannot be opened."""
    from bioplan.runs import RunStore, resolve_store_url
    from bioplan.runs.schema import PLAN_STATUSES

    resolved = resolve_store_url(url)
    if not store_exists(resolved):
        return []  # a fresh start: nothing stored yet is not an error
    store = RunStore(resolved, create=False)
    try:
        runs = [r for r in store.list_runs(limit=limit) if r.status in PLAN_STATUSES]
    finally:
        store.dispose()
    # the full run id (what `bioplan show` takes): a prefix repeats for runs of the same day
    return [(r.run_id, f"{r.run_id} · {r.started_at:%Y-%m-%d %H:%M:%S} UTC · {r.status}")
            for r in runs]


def load_stored_run(url: str | None, run_id: str) -> StoredRun:
    """KPIs and schedule of one stored run."""
    from bioplan.results import Plan, PlanStatus
    from bioplan.runs import RunStore, resolve_store_url
    from bioplan.runs.rolling import records_to_batches
    from bioplan.scenario import Scenario

    store = RunStore(resolve_store_url(url), create=False)
    try:
        info = store.get(run_id)
        kpis = dict(info.kpis)  # a copy: the defaults below must not touch the RunInfo
        kpis.setdefault("objective", info.objective_usd)
        kpis.setdefault("gap", info.gap)
        kpis.setdefault("status", info.status)
        plan = None
        raw = store.scenario(info.run_id)
        records = store.batches(info.run_id)
        if raw:
            scenario = Scenario.model_validate(raw)  # a JSON column: already parsed
            plan = Plan(scenario=scenario, status=PlanStatus(info.status),
                        objective_usd=info.objective_usd, gap=info.gap,
                        batches=records_to_batches(records))
    finally:
        store.dispose()
    label = f"run {info.run_id}"  # unique: the Compare table and charts are keyed by label
    return StoredRun(info.run_id, label, kpis, plan)
