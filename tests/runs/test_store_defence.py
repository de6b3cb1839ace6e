"""Issue 11: a run store defends itself. A damaged, empty, foreign, in-memory or unreachable store
is refused on open with a one-line error and a fix (exit 2) and is never written into; ``bioplan
store check`` reports what it finds. Each case runs on SQLite and, where it has a counterpart, on
the throwaway PostgreSQL server."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text, update

from bioplan.cli import main
from bioplan.errors import InputError
from bioplan.runs.runner import execute_run
from bioplan.runs.schema import SCHEMA_VERSION, SchemaRow
from bioplan.runs.store import RunStore
from bioplan.runs.store_check import check_store
from tests.fuzz.oracle import assert_error_output, assert_input_error
from tests.runs.conftest import PgCluster


def _refused(url: str, match: str, *, create: bool = True) -> InputError:
    with pytest.raises(InputError, match=match) as caught:
        RunStore(url, create=create)
    assert_input_error(caught.value)
    assert caught.value.field == "store"
    return caught.value


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _filled_store(path: Path, n: int = 40) -> str:
    """A real store with ``n`` finished runs whose scenarios fill several database pages."""
    url = f"sqlite:///{path}"
    store = RunStore(url)
    for i in range(n):
        store.start_run(run_id=f"r{i:03d}", name="line", inputs_hash=f"h{i}",
                        scenario={"pad": "x" * 3000, "i": i}, options={}, versions={})
        store.finish_run(f"r{i:03d}", status="optimal", exit_code=0, objective_usd=float(i))
    store.dispose()
    return url


def test_garbage_in_the_middle_is_refused_and_never_written(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    path = tmp_path / "store.sqlite"
    url = _filled_store(path)
    assert not Path(f"{path}-wal").exists()  # checkpointed: the file holds everything
    size = path.stat().st_size
    assert size > 8 * 4096
    with path.open("r+b") as fh:  # overwrite the middle pages' content with garbage
        fh.seek(size // 2)
        fh.write(bytes(range(256)) * 16)
    before = _digest(path)
    err = _refused(url, "damaged|not a readable")
    assert "store check" in (err.fix or "")
    for args in (["history", "--store", url], ["store", "check", "--store", url]):
        assert main(args) == 2
        assert_error_output(capsys.readouterr().err)
    workdir = Path(__file__).parent / "data"
    with pytest.raises(InputError, match=r"damaged|not a readable"):
        execute_run(workdir / "run.yaml", store_url=url, out_root=tmp_path / "out")
    assert _digest(path) == before  # nothing was written into the damaged store


def test_a_file_that_is_no_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"not a database at all\n" * 100)
    _refused(f"sqlite:///{path}", "not a readable SQLite")


def test_empty_file_is_not_silently_made_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")
    _refused(f"sqlite:///{path}", "empty file")
    assert path.stat().st_size == 0


def test_new_sqlite_store_appears_complete(tmp_path: Path) -> None:
    """A new store file is created whole (schema inside), so an empty file is never a store."""
    path = tmp_path / "sub" / "new.sqlite"
    store = RunStore(f"sqlite:///{path}")
    assert store.schema_version() == SCHEMA_VERSION and path.stat().st_size > 0
    store.dispose()
    assert sorted(p.name for p in path.parent.iterdir()) == ["new.sqlite"]  # no temporary left


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_in_memory_store_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(url, "in-memory")
    assert main(["run", "tests/runs/data/run.yaml", "--store", url]) == 2
    assert "in-memory" in capsys.readouterr().err
    RunStore(url, allow_memory=True).dispose()  # tests and examples may ask for one


@pytest.mark.parametrize(("url", "match"), [
    ("postgresql://127.0.0.1:1/x", "cannot open the run store"),
    ("postgres://127.0.0.1:1/x", "cannot open the run store"),
    ("sqlite:////proc/x.db", "cannot create"),
    ("not a url", "not a database URL"),
    ("postgresql://127.0.0.1:1", "names no database"),
])
def test_unreachable_or_invalid_store(url: str, match: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(url, match)
    assert "\n" not in err.describe()
    assert main(["history", "--store", url]) == 2
    assert_error_output(capsys.readouterr().err)
    assert not Path("not a url").exists()


@pytest.mark.postgres
def test_postgres_database_that_does_not_exist(pg_cluster: PgCluster) -> None:
    url = f"postgresql://postgres@127.0.0.1:{pg_cluster.port}/absent_{uuid.uuid4().hex[:8]}"
    _refused(url, "cannot open the run store")


def test_foreign_database_is_refused(store_url: str) -> None:
    engine = create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    _refused(store_url, "other tables")


def test_empty_database_without_create_is_refused(store_url: str) -> None:
    if store_url.startswith("sqlite"):
        _refused(store_url, "no bioplan run store", create=False)
        assert not Path(store_url.removeprefix("sqlite:///")).exists()
    else:
        _refused(store_url, "no bioplan run store", create=False)
    RunStore(store_url).dispose()  # with create (what `bioplan run` does) it becomes a store


def test_newer_schema_is_refused(store_url: str) -> None:
    store = RunStore(store_url)
    with store.engine.begin() as conn:
        conn.execute(update(SchemaRow).values(version=SCHEMA_VERSION + 1))
    store.dispose()
    _refused(store_url, "newer than this bioplan")


def test_store_check_reports_stale_runs_and_orphans(store_url: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    store = RunStore(store_url)
    report = check_store(store)
    assert report.problems == [] and report.schema_version == SCHEMA_VERSION
    store.start_run(run_id="dead", name="line", inputs_hash="h", scenario={}, options={},
                    versions={})
    with store.engine.begin() as conn:  # the run's process is gone (pid 1 from another boot)
        from bioplan.runs.schema import RunRow
        conn.execute(update(RunRow).values(pid=2**22 - 1))
    out = tmp_path / "out"
    (out / "dead").mkdir(parents=True)
    report = check_store(store, out)
    assert any("process is gone" in p for p in report.problems), report.problems
    store.reap_stale()
    report = check_store(store, out)
    assert any("never completed" in p for p in report.problems), report.problems
    store.dispose()
    assert main(["store", "check", "--store", store_url, "--out-root", str(out), "--json"]) == 2
    captured = capsys.readouterr()
    assert "never completed" in captured.out and "error: store: " in captured.err
