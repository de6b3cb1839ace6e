"""Issue 11: SIGKILL at each stage of a run — row written, solving, writing outputs, after the
rename — and the next run leaves the store and the run folders agreeing: every folder under the
output root belongs to a completed row; partial folders are removed and the folder of a run that
never completed is moved to ``.orphaned/``, each with a warning that says so.

The ``row``, ``writing`` and ``renamed`` stages are reached through the runner's fault point
(``BIOPLAN_FAULT_STALL_AT``: the run stalls there until the test kills it); ``solving`` is caught
by watching for the solver's child process, as a user's kill would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bioplan.runs import RunStore
from bioplan.runs.folders import QUARANTINE
from bioplan.runs.runner import FAULT_ENV
from bioplan.runs.schema import FINISHED_STATUSES
from bioplan.runs.store_check import check_store

pytestmark = pytest.mark.slow


def _bioplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "bioplan", *args]


def _solver_child(proc: psutil.Process) -> bool:
    for child in proc.children(recursive=True):
        try:
            if "bioplan.runs.heartbeat" not in " ".join(child.cmdline()):
                return True
        except psutil.Error:
            continue
    return False


def _start_and_kill(cmd: list[str], stage: str, marker: Path) -> None:
    env = dict(os.environ)
    if stage != "solving":
        env[FAULT_ENV] = f"{stage}:{marker}"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if (stage == "solving" and _solver_child(parent)) or marker.exists():
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"the run ended before stage {stage}: {proc.communicate()}"
    descendants = parent.children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _gone, alive = psutil.wait_procs(descendants, timeout=30)
    assert not alive, f"processes left behind after the kill: {alive}"


def _assert_agree(store_url: str, out: Path) -> None:
    store = RunStore(store_url, create=False)
    runs = {r.run_id: r for r in store.list_runs()}
    for folder in out.iterdir():
        if folder.name.startswith("."):
            continue
        run = runs.get(folder.name)
        assert run is not None and run.status in FINISHED_STATUSES, (folder, run)
        assert run.run_dir == str(folder)
    assert check_store(store, out).problems == []
    store.dispose()


@pytest.mark.parametrize("stage", ["row", "solving", "writing", "renamed"])
def test_kill_at_each_stage_then_store_and_folders_agree(workdir: Path, store_url: str,
                                                         stage: str) -> None:
    out = workdir / "out"
    config = workdir / "run.yaml"
    config.write_text(config.read_text() + "outputs: {html_report: false}\n")
    cmd = _bioplan("run", str(config), "--store", store_url, "--out-root", str(out))
    _start_and_kill(cmd, stage, workdir / "reached")

    store = RunStore(store_url, create=False)
    (killed,) = store.list_runs()
    assert killed.status == "running" and killed.stale
    store.dispose()
    leftovers = sorted(p.name for p in out.iterdir()) if out.exists() else []
    if stage == "writing":
        assert len(leftovers) == 1 and leftovers[0].startswith(".partial-")
    elif stage == "renamed":
        assert leftovers == [killed.run_id]  # a complete folder of a run recorded as running
    else:
        assert leftovers == []

    again = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    record = json.loads(again.stdout)  # stdout is clean JSON (no solver banner)
    assert record["status"] in FINISHED_STATUSES and not record["reused"]
    if stage == "renamed":
        assert "moved to" in again.stderr and QUARANTINE in again.stderr
        assert (out / QUARANTINE / killed.run_id / "run.json").exists()
    if stage == "writing":
        assert "removed an abandoned partial run folder" in again.stderr

    store = RunStore(store_url, create=False)
    assert store.get(killed.run_id).status == "failed"
    store.dispose()
    _assert_agree(store_url, out)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        record["run_id"]]
