"""``bioplan plan --solver-log FILE`` (issue 11): HiGHS's log goes to FILE and never to stdout;
without the flag HiGHS is silent; an unwritable FILE is one exit-2 line before anything solves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bioplan", "plan", *args], capture_output=True,
                          text=True, timeout=600, check=False)


HIGHS_LINES = ("Running HiGHS", "Coefficient ranges", "MIP has", "Presolving model")


def test_solver_log_goes_to_the_file_and_not_to_stdout(tmp_path: Path) -> None:
    log = tmp_path / "highs.log"
    log.write_text("stale content of an earlier run\n", encoding="utf-8")
    res = _plan("--solver-log", str(log), "--no-check")
    assert res.returncode == 0, res.stderr
    text = log.read_text(encoding="utf-8")
    assert "stale content" not in text  # the file is started afresh for each plan
    assert "MIP has" in text and "Coefficient ranges" in text
    for line in HIGHS_LINES:
        assert line not in res.stdout and line not in res.stderr
    assert res.stdout.startswith("scenario  default")


def test_without_solver_log_highs_is_silent() -> None:
    res = _plan("--no-check")
    assert res.returncode == 0, res.stderr
    for line in HIGHS_LINES:
        assert line not in res.stdout and line not in res.stderr


@pytest.mark.parametrize("target", ["/proc/highs.log", "{tmp}/no/such/dir/highs.log", "{tmp}"])
def test_unwritable_solver_log_is_one_line_exit_2(tmp_path: Path, target: str) -> None:
    res = _plan("--solver-log", target.format(tmp=tmp_path))
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --solver-log: cannot write")
    assert "Fix:" in lines[0] and "Traceback" not in res.stderr
    assert res.stdout == ""


def test_run_config_solver_log_lands_in_the_run_folder(tmp_path: Path) -> None:
    """``outputs: {solver_log: true}`` in a run config: solver.log in the run folder, stdout clean."""
    import shutil

    data = Path(__file__).resolve().parents[1] / "scenario" / "data"
    for src in data.glob("tiny*"):
        shutil.copy(src, tmp_path / src.name)
    config = tmp_path / "run.yaml"
    config.write_text("scenario: tiny.yaml\noutputs: {html_report: false, solver_log: true}\n",
                      encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "bioplan", "run", str(config), "--store",
                          f"sqlite:///{tmp_path / 'store.sqlite'}", "--out-root",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=600,
                         check=False)
    assert res.returncode == 0, res.stderr
    logs = list((tmp_path / "out").rglob("solver.log"))
    assert len(logs) == 1
    assert "Coefficient ranges" in logs[0].read_text(encoding="utf-8")
    for line in HIGHS_LINES:
        assert line not in res.stdout
