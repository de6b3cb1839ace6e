"""Run store on SQLite and on a real PostgreSQL server: schema, lifecycle, crashes, concurrency."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import update

from bioplan.errors import InputError
from bioplan.runs.schema import SCHEMA_VERSION, RunRow, SchemaRow
from bioplan.runs.store import RunStore, normalise_url, resolve_store_url


def _start(store: RunStore, run_id: str, *, name: str = "line", h: str = "h1", date: str = "2027-01-04") -> None:
    store.start_run(
        run_id=run_id,
        name=name,
        inputs_hash=h,
        scenario={"name": "tiny"},
        options={"mip_gap": 0.01},
        versions={"bioplan": "0.1.0"},
        plan_start_date=date,
    )


def test_new_store_has_current_schema_version(store_url: str) -> None:
    store = RunStore(store_url)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.list_runs() == []
    # opening again does not re-create or fail
    assert RunStore(store_url).schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused(store_url: str) -> None:
    store = RunStore(store_url)
    with store.engine.begin() as conn:
        conn.execute(update(SchemaRow).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(InputError, match="newer than this bioplan supports"):
        RunStore(store_url)


def test_run_lifecycle(store_url: str) -> None:
    store = RunStore(store_url)
    _start(store, "r1")
    info = store.get("r1")
    assert info.status == "running" and not info.stale and info.finished_at is None
    assert store.find_finished("h1") is None
    assert store.find_active("h1") is not None
    ok = store.finish_run(
        "r1", status="optimal", exit_code=0, objective_usd=123.5, gap=0.0,
        kpis={"service_level": 1.0}, timings={"total": 1.5}, run_dir="/x/r1",
        outputs=["summary.json"], batches=[{"batch_id": "b1", "start_day": 3}],
    )
    assert ok
    info = store.get("r1")
    assert info.status == "optimal" and info.exit_code == 0
    assert info.kpis == {"service_level": 1.0} and info.outputs == ["summary.json"]
    assert info.duration_s is not None and info.duration_s >= 0
    assert info.started_at.tzinfo is not None
    assert store.batches("r1") == [{"batch_id": "b1", "start_day": 3}]
    assert store.find_finished("h1") == info
    assert store.previous_plan("line", "2027-01-11") == info
    assert store.previous_plan("line", "2027-01-01") is None  # plans from the future are ignored
    assert store.previous_plan("other", None) is None
    # finishing twice is refused (the row is no longer running)
    assert not store.finish_run("r1", status="failed", exit_code=1)
    d = info.to_dict()
    assert {"run_id", "status", "started_at", "inputs_hash"} <= set(d)


def test_get_by_prefix_and_unknown(store_url: str) -> None:
    store = RunStore(store_url)
    _start(store, "20270104T000000Z-aaaa")
    _start(store, "20270104T000000Z-bbbb")
    assert store.get("20270104T000000Z-a").run_id == "20270104T000000Z-aaaa"
    with pytest.raises(InputError, match="more than one run"):
        store.get("20270104")
    with pytest.raises(InputError, match="no run matches"):
        store.get("nope")


def test_killed_process_leaves_running_row_that_is_reaped(store_url: str) -> None:
    """A process SIGKILLed after inserting its row: the row is visibly stale, then failed."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from bioplan.runs.store import RunStore
        store = RunStore({store_url!r})
        store.start_run(run_id="killed", name="line", inputs_hash="hk", scenario={{}},
                        options={{}}, versions={{}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert proc.returncode == -9
    store = RunStore(store_url)
    info = store.get("killed")
    assert info.status == "running" and info.stale
    assert store.find_active("hk") is None  # a dead run does not block a new one
    assert store.reap_stale() == ["killed"]
    info = store.get("killed")
    assert info.status == "failed" and "killed or crashed" in (info.error or "")
    assert store.reap_stale() == []


def test_concurrent_writers_all_recorded(store_url: str) -> None:
    RunStore(store_url)  # create the schema first: the writers race only on rows

    def work(i: int) -> None:
        store = RunStore(store_url)
        _start(store, f"c{i}", h=f"h{i}")
        store.heartbeat(f"c{i}")
        store.finish_run(f"c{i}", status="optimal", exit_code=0, kpis={"i": i})
        store.dispose()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(12)))
    runs = RunStore(store_url).list_runs()
    assert sorted(r.run_id for r in runs) == sorted(f"c{i}" for i in range(12))
    assert {r.status for r in runs} == {"optimal"}


def test_concurrent_schema_creation(store_url: str) -> None:
    """Two processes opening a brand-new store at once: both succeed, one schema row."""
    code = f"from bioplan.runs.store import RunStore; RunStore({store_url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert RunStore(store_url).schema_version() == SCHEMA_VERSION


def test_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIOPLAN_STORE_URL", raising=False)
    assert resolve_store_url(None, None) == "sqlite:///runs/bioplan-runs.sqlite"
    assert resolve_store_url(None, "sqlite:///cfg.sqlite") == "sqlite:///cfg.sqlite"
    monkeypatch.setenv("BIOPLAN_STORE_URL", "sqlite:///env.sqlite")
    assert resolve_store_url(None, "sqlite:///cfg.sqlite") == "sqlite:///env.sqlite"
    assert resolve_store_url("sqlite:///flag.sqlite", "x") == "sqlite:///flag.sqlite"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("runs/x.sqlite") == "sqlite:///runs/x.sqlite"


def test_bad_urls() -> None:
    with pytest.raises(InputError, match="not a database URL"):
        RunStore("bad url://x")
    with pytest.raises(InputError, match="unsupported store backend"):
        RunStore("nosuchdb://x/y")


def test_password_is_masked() -> None:
    store = RunStore.__new__(RunStore)
    store.url = "postgresql+psycopg://bob:secret@db/x"
    assert "secret" not in store.display_url


def test_heartbeat_process_refreshes_and_stops(tmp_path: Path) -> None:
    import time

    from bioplan.runs.heartbeat import Heartbeat

    url = f"sqlite:///{tmp_path / 'hb.sqlite'}"
    store = RunStore(url)
    _start(store, "hb")
    before = store.get("hb").heartbeat_at
    beat = Heartbeat(url, "hb", interval_s=0.2)
    try:
        deadline = time.monotonic() + 20
        while store.get("hb").heartbeat_at == before and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        beat.stop()
    assert store.get("hb").heartbeat_at != before
    assert beat.proc.returncode is not None


def test_a_run_reaped_by_mistake_still_records_its_result(store_url: str) -> None:
    """Two hosts with one hostname could reap each other's live runs; the result still lands."""
    store = RunStore(store_url)
    _start(store, "alive")
    with store.engine.begin() as conn:  # what reap_stale does
        conn.execute(update(RunRow).where(RunRow.run_id == "alive")
                     .values(status="failed", error="killed or crashed"))
    assert store.finish_run("alive", status="optimal", exit_code=0)
    assert store.get("alive").status == "optimal" and store.get("alive").error is None


def test_runs_of_other_hosts_go_stale_by_heartbeat(store_url: str) -> None:
    import datetime as dt

    store = RunStore(store_url)
    _start(store, "remote-fresh")
    _start(store, "remote-silent")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with store.engine.begin() as conn:
        conn.execute(update(RunRow).values(hostname="another-host"))
        conn.execute(update(RunRow).where(RunRow.run_id == "remote-silent").values(heartbeat_at=old))
    assert not store.get("remote-fresh").stale
    assert store.get("remote-silent").stale
    assert store.reap_stale() == ["remote-silent"]
