"""The run store: where unattended planning runs are recorded (SQLAlchemy 2).

An SQLite file by default (embedded, no setup; WAL journal and a busy timeout so concurrent runs
on one host wait for each other instead of failing), or PostgreSQL for teams through a URL
(``--store`` or the ``BIOPLAN_STORE_URL`` environment variable)::

    sqlite:///runs/bioplan-runs.sqlite                 (relative to the working directory)
    postgresql://user:password@db.example.org/bioplan  (the psycopg 3 driver is used)

A store is checked when it is opened (see :mod:`bioplan.runs.store_url`: a damaged, empty or
foreign SQLite file, an unreachable server or a schema this version does not know is refused with
a one-line error), so nothing is ever written into a store that cannot be trusted.

>>> store = RunStore("sqlite://", allow_memory=True)   # in memory: for tests and examples only
>>> store.list_runs()
[]
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, and_, insert, inspect, or_, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, defer

from bioplan.errors import InputError
from bioplan.runs.schema import (
    FINISHED_STATUSES,
    PLAN_STATUSES,
    SCHEMA_VERSION,
    Base,
    RunRow,
    SchemaRow,
)
from bioplan.runs.store_info import (
    STALE_AFTER_S,
    RunInfo,
    info_from_row,
    now_utc,
    process_alive,
    process_created,
)
from bioplan.runs.store_url import (
    DEFAULT_STORE_URL,
    ENV_STORE_URL,
    SQLITE_BUSY_TIMEOUT_S,
    make_engine,
    normalise_url,
    parse_url,
    resolve_store_url,
    unreachable,
)

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_STORE_URL",
    "ENV_STORE_URL",
    "HEARTBEAT_INTERVAL_S",
    "SQLITE_BUSY_TIMEOUT_S",
    "STALE_AFTER_S",
    "RunInfo",
    "RunStore",
    "normalise_url",
    "process_alive",
    "resolve_store_url",
]

HEARTBEAT_INTERVAL_S = 30.0
"""How often a running run refreshes ``heartbeat_at`` [s]."""

_PG_LOCK_KEY = 0x62696F706C616E  # "bioplan": serialises schema creation on PostgreSQL

MIGRATIONS: dict[int, Callable[[Connection], None]] = {}
"""``MIGRATIONS[n]`` upgrades a store from schema version ``n`` to ``n + 1``."""


class RunStore:
    """Record and query planning runs in an SQLite file or a PostgreSQL database.

    Parameters
    ----------
    url : SQLAlchemy URL (see the module docstring); None uses :func:`resolve_store_url`.
    create : create the tables when the store is empty (else an empty store is an error).
    allow_memory : accept an in-memory SQLite database (tests and examples; records are lost).
    """

    def __init__(self, url: str | None = None, *, create: bool = True,
                 allow_memory: bool = False) -> None:
        raw = resolve_store_url(url)
        parsed = parse_url(raw)
        self.url = parsed.render_as_string(hide_password=False)
        self.backend = parsed.get_backend_name()
        self.engine = make_engine(parsed, create=create, allow_memory=allow_memory)
        try:
            self._init_schema(create)
        except BaseException:
            self.engine.dispose()
            raise

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
        except (OperationalError, InterfaceError) as err:
            raise unreachable(self.display_url, err) from err
        except DatabaseError as err:  # e.g. "database disk image is malformed"
            msg = f"the run store {self.display_url} is damaged: {str(err.orig).splitlines()[0]}"
            raise InputError(msg, field="store",
                             fix="run `bioplan store check`; restore the store from a backup"
                             ) from err

    def _init_schema(self, create: bool) -> None:
        with self._begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            if not conn.dialect.has_table(conn, SchemaRow.__tablename__):
                self._create_schema(conn, create)
                return
            version = conn.execute(select(SchemaRow.version).where(SchemaRow.id == 1)).scalar()
            if version is None:
                msg = f"run store {self.display_url} has no schema version row"
                raise InputError(msg, field="store", fix="point --store at a store created by bioplan")
            if version > SCHEMA_VERSION:
                msg = (f"run store schema v{version} is newer than this bioplan supports "
                       f"(v{SCHEMA_VERSION})")
                raise InputError(msg, field="store", fix="upgrade bioplan")
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(update(SchemaRow).where(SchemaRow.id == 1)
                             .values(version=version, updated_at=now_utc()))
                log.info("migrated run store to schema v%d", version)

    def _create_schema(self, conn: Connection, create: bool) -> None:
        """Create the tables in an empty database; refuse another program's database."""
        if not create:
            msg = f"no bioplan run store at {self.display_url}"
            raise InputError(msg, field="store",
                             fix="run `bioplan run` once to create it, or check the URL")
        foreign = sorted(inspect(conn).get_table_names())
        if foreign:
            msg = (f"{self.display_url} holds other tables ({', '.join(foreign[:3])}) but no "
                   "bioplan run store")
            raise InputError(msg, field="store",
                             fix="give a new file or an empty database for the run store")
        Base.metadata.create_all(conn)
        conn.execute(insert(SchemaRow).values(id=1, version=SCHEMA_VERSION, updated_at=now_utc()))
        log.info("created run store schema v%d at %s", SCHEMA_VERSION, self.display_url)

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
        now = now_utc()
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
            pid_created=process_created(pid),
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
                .values(heartbeat_at=now_utc())
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
                    finished_at=now_utc(),
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
                        finished_at=now_utc(),
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

    def incomplete_run_ids(self) -> set[str]:
        """Runs recorded ``failed`` that never recorded outputs (killed or crashed before their
        row was completed): a run folder with such an id is an orphan."""
        with self._begin() as conn:
            rows = conn.execute(select(RunRow.run_id).where(RunRow.status == "failed",
                                                            RunRow.run_dir.is_(None)))
            return {str(r[0]) for r in rows}

    # -- reading -----------------------------------------------------------------------------
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
            return [info_from_row(row) for row in session.scalars(query)]

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
                    msg = f"{what} matches {run_id!r} in {self.display_url}"
                    raise InputError(
                        msg,
                        field="RUN",
                        fix="see `bioplan history` for run ids",
                    )
                row = rows[0]
            return info_from_row(row)

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
