"""Store URLs and engines: which database a run store is, and whether it may be opened.

A store is an SQLite file (``sqlite:///runs/bioplan-runs.sqlite``, or a bare path ending in
``.sqlite``/``.sqlite3``/``.db``) or a PostgreSQL database (``postgresql://user@host/db``; the
psycopg 3 driver is used). An in-memory SQLite database is refused (every record would be lost
when the process ends) unless a caller asks for one explicitly.

Opening a store checks it before anything is written: an SQLite file must pass
``PRAGMA quick_check`` and must not be an empty file or another program's database; an
unreachable server is a one-line :class:`~bioplan.errors.InputError` with a fix, never a raw
driver exception.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bioplan.errors import InputError

ENV_STORE_URL = "BIOPLAN_STORE_URL"
"""Environment variable naming the store URL (overridden by ``--store``)."""

DEFAULT_STORE_URL = "sqlite:///runs/bioplan-runs.sqlite"
"""The store used when neither ``--store``, ``BIOPLAN_STORE_URL`` nor the run config names one."""

SQLITE_BUSY_TIMEOUT_S = 60.0
"""How long an SQLite writer waits for another one before giving up [s]."""

CONNECT_TIMEOUT_S = 10
"""How long to wait for a PostgreSQL server to answer before reporting it unreachable [s]."""

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
"""Endings a bare path (no ``scheme://``) must have to be taken as an SQLite store."""

URL_FIX = "use sqlite:///path/to/runs.sqlite or postgresql://user@host/db"


def resolve_store_url(url: str | None = None, config_url: str | None = None) -> str:
    """The store URL to use: ``url`` (``--store``), else ``$BIOPLAN_STORE_URL``, else the run
    config's ``store``, else :data:`DEFAULT_STORE_URL`."""
    return url or os.environ.get(ENV_STORE_URL) or config_url or DEFAULT_STORE_URL


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` for the psycopg 3 driver; paths for SQLite.

    >>> normalise_url("runs/x.sqlite")
    'sqlite:///runs/x.sqlite'
    """
    if "://" not in url:  # a bare file path
        if not url.strip() or not url.lower().endswith(SQLITE_SUFFIXES):
            msg = f"not a database URL: {url!r}"
            raise InputError(msg, field="store", fix=f"{URL_FIX} (a bare path must end in "
                             f"{', '.join(SQLITE_SUFFIXES)})")
        return f"sqlite:///{url}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def parse_url(raw: str) -> URL:
    """The SQLAlchemy URL of ``raw`` (after :func:`normalise_url`), or an InputError."""
    try:
        parsed = make_url(normalise_url(raw))
    except (ArgumentError, ValueError) as err:
        msg = f"not a database URL: {raw!r}"
        raise InputError(msg, field="store", fix=URL_FIX) from err
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        msg = f"store URL {raw!r} names no database"
        raise InputError(msg, field="store", fix="end the URL with /<database name>")
    return parsed


def is_memory(parsed: URL) -> bool:
    """Whether ``parsed`` is an in-memory SQLite database (``sqlite://``, ``sqlite:///:memory:``)."""
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def make_engine(parsed: URL, *, create: bool, allow_memory: bool) -> Engine:
    """An engine for ``parsed`` after the checks of the module docstring."""
    display = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True,
                                 connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        except (NoSuchModuleError, ModuleNotFoundError) as err:
            msg = f"unsupported store backend {parsed.drivername!r}"
            raise InputError(msg, field="store", fix="use an sqlite:/// or postgresql:// URL") from err
    if is_memory(parsed):
        if not allow_memory:
            msg = f"{display} is an in-memory database: every run record would be lost"
            raise InputError(msg, field="store",
                             fix="give a file, e.g. --store sqlite:///runs/bioplan-runs.sqlite")
        engine = create_engine(parsed, poolclass=StaticPool)
        configure_sqlite(engine, wal=False)
        return engine
    check_sqlite_file(Path(str(parsed.database)).expanduser(), display, create=create)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    configure_sqlite(engine, wal=True)
    return engine


def check_sqlite_file(path: Path, display: str, *, create: bool) -> None:
    """An SQLite store file exists (or may be created), is not empty, and passes quick_check."""
    try:
        _check_sqlite_file(path, display, create=create)
    except OSError as err:  # a name too long, a loop of links, no permission ...
        msg = f"cannot use {display} ({err.strerror or err})"
        raise InputError(msg, field="store", fix="give a path of a file you can write") from None


def _check_sqlite_file(path: Path, display: str, *, create: bool) -> None:
    if path.is_dir():
        msg = f"{display} is a folder, not an SQLite file"
        raise InputError(msg, field="store", fix="give the path of a .sqlite file")
    if not path.exists():
        if not create:
            msg = f"no bioplan run store at {display} (no such file)"
            raise InputError(msg, field="store",
                             fix="run `bioplan run` once to create it, or give --store / $BIOPLAN_STORE_URL")
        try:
            path.resolve().parent.mkdir(parents=True, exist_ok=True)
            _create_sqlite_store(path)
        except (OSError, SQLAlchemyError) as err:
            reason = getattr(err, "strerror", None) or str(getattr(err, "orig", err))
            msg = f"cannot create {display} ({reason})"
            raise InputError(msg, field="store", fix="give a path in a folder you can write to") from None
        return
    if path.stat().st_size == 0:
        msg = f"{display} is an empty file, not a bioplan run store"
        raise InputError(msg, field="store",
                         fix="delete the empty file (bioplan creates the store) or give another --store")
    _quick_check(path, display)


def _create_sqlite_store(path: Path) -> None:
    """Create a new store file with its schema, atomically: it is built under a temporary name and
    hard-linked into place, so no other process ever sees an empty or half-made store file (and an
    empty file at ``path`` can be refused as not a store)."""
    from bioplan.runs.schema import SCHEMA_VERSION, Base, SchemaRow

    tmp = path.with_name(f".{path.name}.{os.getpid()}.creating")
    tmp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{tmp}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        with engine.begin() as conn:
            Base.metadata.create_all(conn)
            conn.execute(insert(SchemaRow).values(id=1, version=SCHEMA_VERSION,
                                                  updated_at=dt.datetime.now(dt.UTC)))
        engine.dispose()
        with contextlib.suppress(FileExistsError):  # another process created the store meanwhile
            os.link(tmp, path)  # atomic
    finally:
        engine.dispose()
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _quick_check(path: Path, display: str) -> None:
    """``PRAGMA quick_check`` on a read-only connection: a damaged file is refused unopened."""
    fix = ("restore the file from a backup, or move it aside so that a new store is created; "
           "`bioplan store check` reports the damage")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_S)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        msg = f"{display} is not a readable SQLite database ({err})"
        raise InputError(msg, field="store", fix=fix) from None
    problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
    if problems:
        msg = f"{display} is damaged (quick_check: {problems[0]}; {len(problems)} problem(s))"
        raise InputError(msg, field="store", fix=fix)


def configure_sqlite(engine: Engine, *, wal: bool) -> None:
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


def unreachable(display: str, err: BaseException) -> InputError:
    """The InputError for a store that cannot be reached or opened (first line of the cause)."""
    cause = getattr(err, "orig", None) or err
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()),
                 type(cause).__name__)
    msg = f"cannot open the run store {display}: {first}"
    return InputError(msg, field="store",
                      fix="check the URL, that the server runs and accepts connections, and the "
                          "credentials (or the file's path and permissions)")
