"""Small pieces of the run machinery: rolling-horizon selection, atomic folders, hashing,
config errors, JSON-lines logging, and the modules' doctests."""

from __future__ import annotations

import datetime as dt
import doctest
import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from bioplan.errors import InputError
from bioplan.runs import folders, hashing, logjson, rolling, store
from bioplan.runs.config import load_run_config


@pytest.mark.parametrize("module", [folders, hashing, logjson, rolling, store])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0


def _batches(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["batch_id", "start_day", "end_day"]).set_index("batch_id")
    frame["product"] = "rbc"
    return frame


def test_fixed_batches_window_and_shift() -> None:
    prev = _batches([
        ("done", 0, 6),        # finished before the new day 0 (2027-01-11 = old day 7): history
        ("running", 3, 15),    # started, still running: kept, start -4
        ("soon", 8, 20),       # starts on new day 1 < frozen 3: kept
        ("later", 12, 25),     # starts on new day 5 >= 3: re-planned
        ("multi", 9, 14), ("multi", 14, 22),  # two phases: judged as one batch, both kept
        ("edge", 10, 16),      # starts exactly at the cut-off (new day 3): re-planned
    ])
    kept = rolling.fixed_batches(prev, dt.date(2027, 1, 4), dt.date(2027, 1, 11), frozen_days=3)
    assert list(kept.index) == ["running", "soon", "multi", "multi"]
    assert kept.loc["running", "start_day"] == -4
    assert list(kept.loc["multi", "start_day"]) == [2, 7]
    zero = rolling.fixed_batches(prev, dt.date(2027, 1, 4), dt.date(2027, 1, 11), frozen_days=0)
    assert list(zero.index) == ["running"]  # only batches that have started


def test_batches_records_roundtrip() -> None:
    prev = _batches([("a", 1, 5), ("b", 2, 9)])
    prev["seed_cells"] = [1e6, float("nan")]
    records = rolling.batches_to_records(prev)
    assert records[1]["seed_cells"] is None
    json.dumps(records)  # JSON-ready
    back = rolling.records_to_batches(records)
    assert back.index.name == "batch_id" and list(back["start_day"]) == [1, 2]
    assert rolling.records_to_batches([]).empty


def test_atomic_folder_success_and_failure(tmp_path: Path) -> None:
    with folders.atomic_folder(tmp_path / "ok") as tmp:
        (tmp / "a.csv").write_text("x\n")
        assert not (tmp_path / "ok").exists()  # invisible until complete
    assert (tmp_path / "ok" / "a.csv").read_text() == "x\n"
    with pytest.raises(RuntimeError), folders.atomic_folder(tmp_path / "bad") as tmp:
        (tmp / "a.csv").write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]
    with pytest.raises(FileExistsError), folders.atomic_folder(tmp_path / "ok"):
        pass


def test_writer_killed_mid_write_leaves_no_run_folder(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from bioplan.runs.folders import atomic_folder
        with atomic_folder(Path({str(tmp_path)!r}) / "run-1") as tmp:
            (tmp / "half.csv").write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "run-1").exists()
    leftovers = list(tmp_path.iterdir())
    assert all(p.name.startswith(folders.PARTIAL_PREFIX) for p in leftovers)
    assert folders.remove_abandoned(tmp_path) == leftovers
    assert list(tmp_path.iterdir()) == []


def test_remove_abandoned_spares_live_writers(tmp_path: Path) -> None:
    live = tmp_path / f"{folders.PARTIAL_PREFIX}run-{os.getpid()}-abc"
    live.mkdir()
    assert folders.remove_abandoned(tmp_path) == []
    assert live.exists()


def test_inputs_hash_is_canonical() -> None:
    base = dict(scenario={"b": 1, "a": [1, 2]}, demand_sha256="d", options={"x": 1},
                versions={"bioplan": "1"}, name="n")
    h = hashing.inputs_hash(**base)  # type: ignore[arg-type]
    assert h == hashing.inputs_hash(**{**base, "scenario": {"a": [1, 2], "b": 1}})  # type: ignore[arg-type]
    for key, value in (("scenario", {"a": [1, 2], "b": 2}), ("demand_sha256", "e"),
                       ("options", {"x": 2}), ("versions", {"bioplan": "2"}), ("name", "m")):
        assert hashing.inputs_hash(**{**base, key: value}) != h  # type: ignore[arg-type]
    versions = hashing.software_versions()
    assert versions["bioplan"] and versions["pyomo"] and versions["highs"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("scenario: [unclosed", "not valid YAML"),
        ("- a list", "must be a YAML mapping"),
        ("scenraio: default", "unknown field"),
        ("start_date: tomorrow", "use 'today'"),
        ("rolling: {frozen_days: -1}", "greater than or equal"),
        ("horizon: {}\nproducts: {}", "scenario file, not a run config"),
    ],
)
def test_run_config_errors(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        load_run_config(path)
    assert info.value.file == str(path)


def test_run_config_paths(tmp_path: Path) -> None:
    (tmp_path / "demand.csv").write_text("date,product,units\n")
    path = tmp_path / "nightly.yaml"
    path.write_text("demand: demand.csv\nstart_date: today\n")
    config = load_run_config(path)
    assert config.plan_line() == "nightly"
    assert config.demand_path() == tmp_path / "demand.csv"
    assert config.resolved_start_date(dt.date(2027, 2, 1)) == dt.date(2027, 2, 1)
    with pytest.raises(InputError, match="no such run config"):
        load_run_config(tmp_path / "missing.yaml")


def test_json_lines_logging() -> None:
    stream = io.StringIO()
    handler = logjson.configure_json_logging(stream)
    try:
        logging.getLogger("bioplan.runs.test").warning("hello %s", "x", extra={"run_id": "r"})
        try:
            raise ValueError("bad")
        except ValueError:
            logging.getLogger("bioplan.runs.test").exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{"))
    assert first["message"] == "hello x" and first["run_id"] == "r" and first["level"] == "WARNING"
    assert "ValueError: bad" in second["exception"]
