"""Plain records of runs read from the store, and whether a run's process still lives."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from bioplan.runs.schema import RunRow

STALE_AFTER_S = 600.0
"""A ``running`` row of another host whose heartbeat is older than this is reported stale [s]."""


@dataclass(frozen=True)
class RunInfo:
    """One run as read from the store (plain data, detached from the database session)."""

    run_id: str
    name: str
    status: str
    exit_code: int | None
    inputs_hash: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    hostname: str
    pid: int
    config_path: str | None
    scenario_name: str | None
    demand_file: str | None
    demand_sha256: str | None
    plan_start_date: str | None
    previous_run_id: str | None
    n_fixed_batches: int | None
    objective_usd: float | None
    gap: float | None
    run_dir: str | None
    error: str | None
    options: dict[str, Any] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    versions: dict[str, Any] = field(default_factory=dict)
    stale: bool = False
    """``running`` but its process is gone (same host) or silent for too long (other host)."""

    @property
    def duration_s(self) -> float | None:
        """Wall-clock seconds from start to finish (None while running)."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (timestamps as ISO strings)."""
        out = asdict(self)
        for key in ("started_at", "finished_at", "heartbeat_at"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        out["duration_s"] = self.duration_s
        return out


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def process_created(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def process_alive(hostname: str, pid: int, created: float | None) -> bool | None:
    """Whether the process that owns a run still lives: True/False on this host, None elsewhere."""
    if hostname != socket.gethostname():
        return None
    now_created = process_created(pid)
    if now_created is None:
        return False
    if created is not None and abs(now_created - created) > 1.0:
        return False  # the pid was recycled by another process
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def info_from_row(row: RunRow) -> RunInfo:
    """The plain record of a stored row; a ``running`` row is ``stale`` when its process is gone
    (this host) or its heartbeat is older than :data:`STALE_AFTER_S` (other hosts)."""
    stale = False
    if row.status == "running":
        alive = process_alive(row.hostname, row.pid, row.pid_created)
        if alive is None:
            beat = row.heartbeat_at or row.started_at
            stale = (now_utc() - beat).total_seconds() > STALE_AFTER_S
        else:
            stale = not alive
    return RunInfo(
        run_id=row.run_id,
        name=row.name,
        status=row.status,
        exit_code=row.exit_code,
        inputs_hash=row.inputs_hash,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        hostname=row.hostname,
        pid=row.pid,
        config_path=row.config_path,
        scenario_name=row.scenario_name,
        demand_file=row.demand_file,
        demand_sha256=row.demand_sha256,
        plan_start_date=row.plan_start_date,
        previous_run_id=row.previous_run_id,
        n_fixed_batches=row.n_fixed_batches,
        objective_usd=row.objective_usd,
        gap=row.gap,
        run_dir=row.run_dir,
        error=row.error,
        options=dict(row.options or {}),
        kpis=dict(row.kpis or {}),
        timings=dict(row.timings or {}),
        outputs=list(row.outputs or []),
        versions=dict(row.versions or {}),
        stale=stale,
    )
