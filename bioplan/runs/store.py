"""The run store: where unattended planning runs are recorded (SQLAlchemy 2).

An SQLite file by default (embedded, no setup; WAL journal and a busy timeout so concurrent runs
on one host wait for each other instead of failing), or PostgreSQL for teams through a URL
(``--store`` or the ``BIOPLAN_STORE_URL`` environment variable)::

    sqlite:///runs/bioplan-runs.sqlite                 (relative to the working directory)
    postgresql://user:password@db.example.org/bioplan  (the psycopg 3 driver is used)

>>> store = RunStore("sqlite://")                      # in memory
>>> store.list_runs()
[]
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    event,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, defer
from sqlalchemy.pool import StaticPool

from bioplan.errors import InputError
from bioplan.runs.schema import (
    FINISHED_STATUSES,
    PLAN_STATUSES,
    SCHEMA_VERSION,
    Base,
    RunRow,
    SchemaRow,
)

log = logging.getLogger(__name__)

ENV_STORE_URL = "BIOPLAN_STORE_URL"
"""Environment variable naming the store URL (overridden by ``--store``)."""

DEFAULT_STORE_URL = "sqlite:///runs/bioplan-runs.sqlite"
"""The store used when neither ``--store``, ``BIOPLAN_STORE_URL`` nor the run config names one."""

SQLITE_BUSY_TIMEOUT_S = 60.0
"""How long an SQLite writer waits for another one before giving up [s]."""

HEARTBEAT_INTERVAL_S = 30.0
"""How often a running run refreshes ``heartbeat_at`` [s]."""

STALE_AFTER_S = 600.0
"""A ``running`` row of another host whose heartbeat is older than this is reported stale [s]."""

_PG_LOCK_KEY = 0x62696F706C616E  # "bioplan": serialises schema creation on PostgreSQL

MIGRATIONS: dict[int, Callable[[Connection], None]] = {}
"""``MIGRATIONS[n]`` upgrades a store from schema version ``n`` to ``n + 1``."""


def resolve_store_url(url: str | None = None, config_url: str | None = None) -> str:
    """The store URL to use: ``url`` (``--store``), else ``$BIOPLAN_STORE_URL``, else the run
    config's ``store``, else :data:`DEFAULT_STORE_URL`."""
    return url or os.environ.get(ENV_STORE_URL) or config_url or DEFAULT_STORE_URL


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` for the psycopg 3 driver; paths for SQLite."""
    if "://" not in url:  # a bare file path
        return f"sqlite:///{url}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _process_created(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def process_alive(hostname: str, pid: int, created: float | None) -> bool | None:
    """Whether the process that owns a run still lives: True/False on this host, None elsewhere."""
    if hostname != socket.gethostname():
        return None
    now_created = _process_created(pid)
    if now_created is None:
        return False
    if created is not None and abs(now_created - created) > 1.0:
        return False  # the pid was recycled by another process
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class RunStore:
    """Record and query planning runs in an SQLite file or a PostgreSQL database.

    Parameters
    ----------
    url : SQLAlchemy URL (see the module docstring); None uses :func:`resolve_store_url`.
    create : create the tables when the store is empty (else an empty store is an error).
    """

    def __init__(self, url: str | None = None, *, create: bool = True) -> None:
        raw = resolve_store_url(url)
        self.url = normalise_url(raw)
        try:
            parsed = make_url(self.url)
        except (ArgumentError, ValueError) as err:
            raise InputError(
                f"not a database URL: {raw!r}",
                field="store",
                fix="use sqlite:///path/to/runs.sqlite or postgresql://user@host/db",
            ) from err
        self.backend = parsed.get_backend_name()
        self.engine = self._make_engine(parsed, create)
        self._init_schema(create)

    # -- engine ------------------------------------------------------------------------------
    def _make_engine(self, parsed: URL, create: bool) -> Engine:
        try:
            if self.backend == "sqlite":
                database = parsed.database
                in_memory = not database or database == ":memory:"
                if not in_memory and not create and not Path(str(database)).expanduser().exists():
                    raise InputError(
                        f"no bioplan run store at {self.display_url} (no such file)",
                        field="store",
                        fix="run `bioplan run` once to create it, or give --store / $BIOPLAN_STORE_URL",
                    )
                if not in_memory:
                    Path(str(database)).expanduser().resolve().parent.mkdir(
                        parents=True, exist_ok=True
                    )
                engine = create_engine(
                    parsed,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
                    **({"poolclass": StaticPool} if in_memory else {}),
                )
                _configure_sqlite(engine, wal=not in_memory)
                return engine
            return create_engine(parsed, pool_pre_ping=True)
        except (NoSuchModuleError, ModuleNotFoundError) as err:
            raise InputError(
                f"unsupported store backend {parsed.drivername!r}",
                field="store",
                fix="use an sqlite:/// or postgresql:// URL",
            ) from err

    @property
    def display_url(self) -> str:
        """The URL with any password masked."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close the connection pool."""
        self.engine.dispose()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as err:
            if "could not connect" in str(err) or "connection" in str(err).lower():
                raise InputError(
                    f"cannot reach the run store {self.display_url}: {err.orig}",
                    field="store",
                    fix="check the URL, the server and the credentials",
                ) from err
            raise

    def _init_schema(self, create: bool) -> None:
        with self._begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            has_schema = conn.dialect.has_table(conn, SchemaRow.__tablename__)
            if not has_schema:
                if not create:
                    raise InputError(
                        f"no bioplan run store at {self.display_url}",
                        field="store",
                        fix="run `bioplan run` once to create it, or check the URL",
                    )
                Base.metadata.create_all(conn)
                conn.execute(
                    insert(SchemaRow).values(id=1, version=SCHEMA_VERSION, updated_at=_now())
                )
                log.info("created run store schema v%d at %s", SCHEMA_VERSION, self.display_url)
                return
            version = conn.execute(select(SchemaRow.version).where(SchemaRow.id == 1)).scalar()
            if version is None:
                raise InputError(
                    f"run store {self.display_url} has no schema version row",
                    field="store",
                    fix="point --store at a store created by bioplan",
                )
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"run store schema v{version} is newer than this bioplan supports "
                    f"(v{SCHEMA_VERSION})",
                    field="store",
                    fix="upgrade bioplan",
                )
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(
                    update(SchemaRow).where(SchemaRow.id == 1).values(version=version, updated_at=_now())
                )
                log.info("migrated run store to schema v%d", version)

    def schema_version(self) -> int:
        """The schema version recorded in the store."""
        with self._begin() as conn:
            return int(conn.execute(select(SchemaRow.version)).scalar_one())

    # -- writing -----------------------------------------------------------------------------
    def start_run(
        self,
        *,
        run_id: str,
        name: str,
        inputs_hash: str,
        scenario: Any,
        options: dict[str, Any],
        versions: dict[str, Any],
        config_path: str | None = None,
        scenario_name: str | None = None,
        demand_file: str | None = None,
        demand_sha256: str | None = None,
        plan_start_date: str | None = None,
        previous_run_id: str | None = None,
        n_fixed_batches: int | None = None,
    ) -> None:
        """Insert the ``running`` row (call before solving)."""
        now = _now()
        pid = os.getpid()
        row = RunRow(
            run_id=run_id,
            name=name,
            status="running",
            inputs_hash=inputs_hash,
            started_at=now,
            heartbeat_at=now,
            hostname=socket.gethostname(),
            pid=pid,
            pid_created=_process_created(pid),
            config_path=config_path,
            scenario_name=scenario_name,
            scenario=scenario,
            demand_file=demand_file,
            demand_sha256=demand_sha256,
            options=options,
            plan_start_date=plan_start_date,
            previous_run_id=previous_run_id,
            n_fixed_batches=n_fixed_batches,
            versions=versions,
        )
        with self._begin() as conn, Session(bind=conn) as session:
            session.add(row)
            session.flush()

    def heartbeat(self, run_id: str) -> None:
        """Refresh ``heartbeat_at`` of a running run."""
        with self._begin() as conn:
            conn.execute(
                update(RunRow)
                .where(RunRow.run_id == run_id, RunRow.status == "running")
                .values(heartbeat_at=_now())
            )

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        exit_code: int,
        objective_usd: float | None = None,
        gap: float | None = None,
        kpis: dict[str, Any] | None = None,
        timings: dict[str, Any] | None = None,
        run_dir: str | None = None,
        outputs: list[str] | None = None,
        batches: list[dict[str, Any]] | None = None,
        error: str | None = None,
    ) -> bool:
        """Complete a run in one ``UPDATE``; False if it was already finished.

        A row that another process reaped as dead (``failed`` without an exit code) while this run
        was in fact alive — possible only when two hosts share a hostname — is completed too.
        """
        reaped = and_(RunRow.status == "failed", RunRow.exit_code.is_(None))
        with self._begin() as conn:
            result = conn.execute(
                update(RunRow)
                .where(RunRow.run_id == run_id, or_(RunRow.status == "running", reaped))
                .values(
                    status=status,
                    exit_code=exit_code,
                    finished_at=_now(),
                    objective_usd=objective_usd,
                    gap=gap,
                    kpis=kpis,
                    timings=timings,
                    run_dir=run_dir,
                    outputs=outputs,
                    batches=batches,
                    error=error,
                )
            )
            return bool(result.rowcount)

    def reap_stale(self) -> list[str]:
        """Mark ``running`` rows whose process died (this host) or went silent (other hosts,
        heartbeat older than :data:`STALE_AFTER_S`) as ``failed``; returns their run ids."""
        reaped = []
        for info in self.list_runs(status="running"):
            if not info.stale:
                continue
            with self._begin() as conn:
                result = conn.execute(
                    update(RunRow)
                    .where(RunRow.run_id == info.run_id, RunRow.status == "running")
                    .values(
                        status="failed",
                        exit_code=None,
                        finished_at=_now(),
                        error=(
                            f"the run's process ({info.hostname} pid {info.pid}) ended without "
                            "finishing: killed or crashed"
                        ),
                    )
                )
            if result.rowcount:
                log.warning("run %s: process gone, marked failed", info.run_id)
                reaped.append(info.run_id)
        return reaped

    # -- reading -----------------------------------------------------------------------------
    def _info(self, row: RunRow) -> RunInfo:
        stale = False
        if row.status == "running":
            alive = process_alive(row.hostname, row.pid, row.pid_created)
            if alive is None:
                beat = row.heartbeat_at or row.started_at
                stale = (_now() - beat).total_seconds() > STALE_AFTER_S
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

    def list_runs(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        inputs_hash: str | None = None,
        limit: int | None = None,
    ) -> list[RunInfo]:
        """Runs, newest first, optionally filtered."""
        query = (
            select(RunRow)
            .options(defer(RunRow.scenario), defer(RunRow.batches))  # the heavy columns
            .order_by(RunRow.started_at.desc(), RunRow.run_id.desc())
        )
        if name is not None:
            query = query.where(RunRow.name == name)
        if status is not None:
            query = query.where(RunRow.status == status)
        if inputs_hash is not None:
            query = query.where(RunRow.inputs_hash == inputs_hash)
        if limit is not None:
            query = query.limit(limit)
        with self._begin() as conn, Session(bind=conn) as session:
            return [self._info(row) for row in session.scalars(query)]

    def get(self, run_id: str) -> RunInfo:
        """One run by id or by a unique prefix of its id."""
        with self._begin() as conn, Session(bind=conn) as session:
            light = (defer(RunRow.scenario), defer(RunRow.batches))
            row = session.get(RunRow, run_id, options=light)
            if row is None:
                rows = list(session.scalars(
                    select(RunRow).options(*light).where(RunRow.run_id.startswith(run_id)).limit(2)
                ))
                if len(rows) != 1:
                    what = "no run" if not rows else "more than one run"
                    raise InputError(
                        f"{what} matches {run_id!r} in {self.display_url}",
                        field="RUN",
                        fix="see `bioplan history` for run ids",
                    )
                row = rows[0]
            return self._info(row)

    def batches(self, run_id: str) -> list[dict[str, Any]]:
        """The stored batches table of a run (records; empty when the run has no plan)."""
        with self._begin() as conn:
            value = conn.execute(select(RunRow.batches).where(RunRow.run_id == run_id)).scalar()
        return list(value or [])

    def scenario(self, run_id: str) -> Any:
        """The stored validated scenario (parsed JSON) of a run."""
        with self._begin() as conn:
            return conn.execute(select(RunRow.scenario).where(RunRow.run_id == run_id)).scalar()

    def find_finished(self, inputs_hash: str) -> RunInfo | None:
        """The newest finished run (a plan, infeasible or no solution) with these inputs."""
        for info in self.list_runs(inputs_hash=inputs_hash):
            if info.status in FINISHED_STATUSES:
                return info
        return None

    def find_active(self, inputs_hash: str) -> RunInfo | None:
        """A live ``running`` run with these inputs (another process is solving it right now)."""
        for info in self.list_runs(inputs_hash=inputs_hash, status="running"):
            if not info.stale:
                return info
        return None

    def previous_plan(self, name: str, on_or_before: str | None) -> RunInfo | None:
        """The newest run of plan line ``name`` that produced a plan whose start date is on or
        before ``on_or_before`` (ISO date; None: any) — the base of a rolling horizon."""
        for info in self.list_runs(name=name):
            if info.status not in PLAN_STATUSES:
                continue
            if on_or_before and info.plan_start_date and info.plan_start_date > on_or_before:
                continue
            return info
        return None


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    """WAL journal, busy timeout, and ``BEGIN IMMEDIATE`` transactions.

    Immediate transactions take the write lock up front, so two writers queue on the busy timeout
    instead of one failing with "database is locked" when it upgrades a read to a write.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
