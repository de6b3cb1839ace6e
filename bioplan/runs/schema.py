"""Tables of the run store (SQLAlchemy 2 declarative models) and the schema version.

Two tables:

- ``bioplan_schema``: one row holding the schema version the store was created or migrated to;
- ``bioplan_runs``: one row per planning run. A row is inserted with status ``running`` *before*
  the solve and completed by a single ``UPDATE`` afterwards, so a run is either visibly in progress
  (or, once its process is gone, marked ``failed``) or fully recorded — never half-recorded.

Bump :data:`SCHEMA_VERSION` and add a step to ``bioplan.runs.store.MIGRATIONS`` whenever a column
changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1
"""Version of the tables below; stored in ``bioplan_schema.version``."""

RUN_STATUSES = ("running", "optimal", "feasible", "infeasible", "no_solution", "failed")
"""``running`` until finished; then the plan status, or ``failed`` (error, crash, kill)."""

FINISHED_STATUSES = ("optimal", "feasible", "infeasible", "no_solution")
"""Statuses of runs that completed; an identical input reports such a run instead of re-solving."""

PLAN_STATUSES = ("optimal", "feasible")
"""Statuses of runs that produced a plan (usable as the previous plan of a rolling horizon)."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - defensive, drivers return datetimes
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the run-store tables."""


class SchemaRow(Base):
    """The single row recording the store's schema version."""

    __tablename__ = "bioplan_schema"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class RunRow(Base):
    """One planning run."""

    __tablename__ = "bioplan_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    """The plan line: runs of the same name roll their horizon over each other."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    inputs_hash: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    pid_created: Mapped[float | None] = mapped_column(Float)
    """Process creation time (epoch seconds), so a recycled pid is not mistaken for the run."""
    config_path: Mapped[str | None] = mapped_column(Text)
    scenario_name: Mapped[str | None] = mapped_column(String(200))
    scenario: Mapped[Any] = mapped_column(JSON)
    """The validated scenario (``Scenario.model_dump_json()``, parsed)."""
    demand_file: Mapped[str | None] = mapped_column(Text)
    demand_sha256: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[Any] = mapped_column(JSON)
    """Solver options and rolling-horizon settings."""
    plan_start_date: Mapped[str | None] = mapped_column(String(10))
    """``horizon.start_date`` of the planned scenario (ISO date): day 0 of the plan grid."""
    previous_run_id: Mapped[str | None] = mapped_column(String(64))
    n_fixed_batches: Mapped[int | None] = mapped_column(Integer)
    objective_usd: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    kpis: Mapped[Any | None] = mapped_column(JSON)
    timings: Mapped[Any | None] = mapped_column(JSON)
    run_dir: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[Any | None] = mapped_column(JSON)
    """Relative paths of the files in ``run_dir``."""
    versions: Mapped[Any] = mapped_column(JSON)
    batches: Mapped[Any | None] = mapped_column(JSON)
    """The plan's batches table (records), for rolling horizons and ``bioplan compare``."""
    error: Mapped[str | None] = mapped_column(Text)
