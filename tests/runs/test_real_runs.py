"""Runs with the real planner: rolling horizon, SIGKILL mid-solve, concurrent runs, the report.

Each solve of the test scenario takes about a second; the process tests start ``bioplan run`` in
subprocesses, on SQLite and on the throwaway PostgreSQL server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bioplan.runs import RunStore
from bioplan.runs.rolling import fixed_batches, records_to_batches
from bioplan.runs.runner import execute_run

pytestmark = pytest.mark.slow

def _bioplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "bioplan", *args]


def test_rolling_horizon_keeps_started_batches(workdir: Path) -> None:
    store_url = f"sqlite:///{workdir / 'store.sqlite'}"
    config = (workdir / "run.yaml").read_text()
    first = execute_run(workdir / "run.yaml", store_url=store_url, out_root=workdir / "out")
    assert first.exit_code == 0, first.message
    store = RunStore(store_url)
    batches_1 = records_to_batches(store.batches(first.run.run_id))
    assert not batches_1.empty

    (workdir / "run.yaml").write_text(config + "start_date: 2027-01-11\n")
    second = execute_run(workdir / "run.yaml", store_url=store_url, out_root=workdir / "out")
    assert second.exit_code == 0, second.message
    assert second.run.previous_run_id == first.run.run_id
    expected = fixed_batches(batches_1, dt.date(2027, 1, 4), dt.date(2027, 1, 11), frozen_days=3)
    assert len(expected) > 0, "the test needs a batch that has started by the second run"
    assert second.run.n_fixed_batches == expected.index.nunique()
    batches_2 = records_to_batches(store.batches(second.run.run_id))
    columns = ["product", "recipe", "reactor_type", "start_day", "end_day", "seed_cells"]
    kept = {tuple(r) for r in batches_2[columns].itertuples(index=False)}
    for row in expected[columns].itertuples(index=False):
        assert tuple(row) in kept, f"fixed batch {row} was re-planned"
    assert (batches_2["start_day"] < 0).any()  # the started batch sits before the new day 0
    # the stored plan's CSV in the run folder agrees with the store
    csv = (Path(second.run.run_dir or "") / "batches.csv").read_text()
    assert str(int(expected["start_day"].min())) in csv


def test_report_is_self_contained(workdir: Path) -> None:
    outcome = execute_run(workdir / "run.yaml", store_url=f"sqlite:///{workdir / 's.sqlite'}",
                          out_root=workdir / "out")
    html = (Path(outcome.run.run_dir or "") / "report.html").read_text()
    assert not re.search(r"<script[^>]*src=[\"']?https?:", html)  # nothing fetched online
    assert html.count("Plotly.newPlot") >= 3  # Gantt, inventory, cost
    assert len(html) > 1_000_000  # plotly.js is embedded


def _solver_children(proc: psutil.Process) -> list[psutil.Process]:
    out = []
    for child in proc.children(recursive=True):
        try:
            if "bioplan.runs.heartbeat" not in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            continue
    return out


def _no_report(workdir: Path, name: str = "run.yaml") -> None:
    """Skip the HTML report (about a second under load) where the test is about the store."""
    path = workdir / name
    path.write_text(path.read_text() + "outputs: {html_report: false}\n")


def test_sigkill_mid_solve_leaves_store_consistent(workdir: Path, store_url: str) -> None:
    out = workdir / "out"
    _no_report(workdir)
    cmd = _bioplan("run", str(workdir / "run.yaml"), "--store", store_url, "--out-root", str(out))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        if _solver_children(parent):  # the solver child is running: mid-solve
            descendants = parent.children(recursive=True)
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.01)
    assert killed, f"the run finished before the solve could be caught: {proc.communicate()}"
    proc.wait(timeout=30)
    _gone, alive = psutil.wait_procs(descendants, timeout=30)
    assert not alive, f"processes left behind after the kill: {alive}"

    store = RunStore(store_url)
    (info,) = store.list_runs()
    assert info.status == "running" and info.stale  # visible, and known to be dead
    assert not out.exists() or [p.name for p in out.iterdir()] == []  # no partial run folder

    listed = subprocess.run(_bioplan("history", "--store", store_url, "--json"),
                            capture_output=True, text=True, check=True, timeout=60)
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "failed" and row["run_id"] == info.run_id
    # the same inputs run again (a failed run is not reused)
    again = execute_run(workdir / "run.yaml", store_url=store_url, out_root=out)
    assert not again.reused and again.exit_code == 0
    assert [p.name for p in out.iterdir()] == [again.run.run_id]


def test_two_concurrent_runs_both_recorded(workdir: Path, store_url: str) -> None:
    _no_report(workdir)
    base = (workdir / "run.yaml").read_text()
    for line in ("a", "b"):
        (workdir / f"run-{line}.yaml").write_text(base + f"name: line-{line}\n")
    procs = [
        subprocess.Popen(
            _bioplan("run", str(workdir / f"run-{line}.yaml"), "--store", store_url,
                     "--out-root", str(workdir / "out"), "--json"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for line in ("a", "b")
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    ids = {json.loads(stdout)["run_id"] for stdout, _ in results}
    runs = RunStore(store_url).list_runs()
    assert {r.run_id for r in runs} == ids and len(ids) == 2
    assert {r.status for r in runs} == {"optimal"}
    assert {r.name for r in runs} == {"line-a", "line-b"}
    assert sorted(p.name for p in (workdir / "out").iterdir()) == sorted(ids)
    for run in runs:
        assert run.kpis and run.outputs and run.finished_at is not None


def test_sigterm_mid_solve_is_recorded_failed(workdir: Path) -> None:
    _no_report(workdir)
    store_url = f"sqlite:///{workdir / 'store.sqlite'}"
    out = workdir / "out"
    proc = subprocess.Popen(
        _bioplan("run", str(workdir / "run.yaml"), "--store", store_url, "--out-root", str(out)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not _solver_children(parent):
        time.sleep(0.01)
    assert proc.poll() is None, f"the run finished before the solve could be caught: {proc.communicate()}"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    (info,) = RunStore(store_url).list_runs()
    assert info.status == "failed" and not info.stale
    assert info.error == "Terminated: terminated by SIGTERM"
    assert not out.exists() or list(out.iterdir()) == []
