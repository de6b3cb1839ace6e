"""The run pipeline around the real planner on a tiny scenario: recording, idempotence,
outputs, failures, CLI. Larger real runs (SIGKILL, concurrency, PostgreSQL) are in
``test_real_runs.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bioplan.cli import main
from bioplan.errors import InputError
from bioplan.results import Plan, PlanStatus
from bioplan.runs import RunStore
from bioplan.runs import runner as runner_mod
from bioplan.runs.runner import execute_run

REAL_SOLVE = runner_mod._solve


class FakePlanner:
    """Wraps the real planner (the tiny scenario solves in about a second) to record the fixed
    batches each run passes, and optionally to fail or to report another status."""

    def __init__(self, status: PlanStatus = PlanStatus.OPTIMAL, error: Exception | None = None):
        self.status, self.error = status, error
        self.calls: list[pd.DataFrame | None] = []
        self.plans: list[Plan] = []

    def __call__(self, scenario: Any, options: dict[str, Any], fixed: pd.DataFrame | None) -> Plan:
        self.calls.append(fixed)
        if self.error is not None:
            raise self.error
        result = REAL_SOLVE(scenario, options, fixed)
        assert result.status == PlanStatus.OPTIMAL, result.message
        result.status = self.status
        self.plans.append(result)
        return result


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePlanner:
    planner = FakePlanner()
    monkeypatch.setattr(runner_mod, "_solve", planner)
    return planner


def _run(workdir: Path, **kw: Any) -> runner_mod.RunOutcome:
    return execute_run(workdir / "run.yaml", store_url=f"sqlite:///{workdir / 'store.sqlite'}",
                       out_root=workdir / "out", **kw)


def test_run_records_and_writes_folder(workdir: Path, fake: FakePlanner) -> None:
    outcome = _run(workdir)
    assert outcome.exit_code == 0 and not outcome.reused
    info = outcome.run
    assert info.status == "optimal" and info.exit_code == 0 and info.name == "run"
    assert info.plan_start_date == "2027-01-04" and info.previous_run_id is None
    assert set(info.versions) >= {"bioplan", "pyomo", "highspy", "highs"}
    assert info.options["mip_gap"] == 0.0 and info.options["frozen_days"] == 3
    assert info.kpis["status"] == "optimal" and info.timings["run_total"] > 0
    run_dir = Path(info.run_dir or "")
    assert run_dir.parent == workdir / "out" and run_dir.name == info.run_id
    for name in ("batches.csv", "plan.xlsx", "summary.json", "report.html", "run.json",
                 "inputs/scenario.yaml", "inputs/run-config.yaml", "inputs/tiny-demand.csv"):
        assert (run_dir / name).is_file(), name
        assert name in info.outputs
    assert [p.name for p in (workdir / "out").iterdir()] == [info.run_id]  # nothing partial
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["inputs_hash"] == info.inputs_hash
    html = (run_dir / "report.html").read_text()
    assert "<html" in html and info.run_id in html


def test_identical_inputs_reuse_the_run(workdir: Path, fake: FakePlanner) -> None:
    first = _run(workdir)
    again = _run(workdir)
    assert again.reused and again.run.run_id == first.run.run_id and again.exit_code == 0
    assert len(fake.calls) == 1
    forced = _run(workdir, force=True)
    assert not forced.reused and forced.run.run_id != first.run.run_id
    assert forced.run.inputs_hash == first.run.inputs_hash
    # refreshed demand file: new inputs, new run
    with (workdir / "tiny-demand.csv").open("a") as fh:
        fh.write("2027-01-30,rbc,2\n")
    fresh = _run(workdir)
    assert not fresh.reused and fresh.run.inputs_hash != first.run.inputs_hash
    assert len(RunStore(f"sqlite:///{workdir / 'store.sqlite'}").list_runs()) == 3


def test_previous_plan_batches_are_passed_as_fixed(workdir: Path, fake: FakePlanner) -> None:
    first = _run(workdir)
    cfg = (workdir / "run.yaml").read_text()
    (workdir / "run.yaml").write_text(cfg + "start_date: 2027-01-08\n")
    second = _run(workdir)
    assert second.run.previous_run_id == first.run.run_id
    fixed = fake.calls[-1]
    # the new day 0 (2027-01-08) is old day 4: batches starting before new day 3 (the frozen
    # window) and still in a reactor on new day 0 are kept, shifted by 4 days
    old = fake.plans[0].batches
    expected = sorted({b for b, r in old.iterrows() if r.start_day - 4 < 3 and r.end_day - 4 > 0})
    assert expected, "the tiny plan should have a batch running across the new day 0"
    assert fixed is not None and sorted(set(fixed.index)) == expected
    for batch_id, row in fixed.iterrows():
        assert int(row["start_day"]) == int(old.loc[[batch_id], "start_day"].iloc[0]) - 4
    assert second.run.n_fixed_batches == len(expected)
    # a plan for an earlier date ignores plans made for later dates
    (workdir / "run.yaml").write_text(cfg + "start_date: 2027-01-01\n")
    third = _run(workdir)
    assert third.run.previous_run_id is None and fake.calls[-1] is None


@pytest.mark.parametrize(("status", "code"), [(PlanStatus.FEASIBLE, 5), (PlanStatus.INFEASIBLE, 3),
                                              (PlanStatus.NO_SOLUTION, 4)])
def test_plan_status_exit_codes(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                status: PlanStatus, code: int) -> None:
    monkeypatch.setattr(runner_mod, "_solve", FakePlanner(status=status))
    outcome = _run(workdir)
    assert outcome.exit_code == code and outcome.run.status == str(status)
    assert outcome.run.exit_code == code
    again = _run(workdir)  # a finished run is reported with its exit code, so alerts persist
    assert again.reused and again.exit_code == code


def test_planner_crash_is_recorded_failed_without_folder(workdir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "_solve", FakePlanner(error=RuntimeError("solver exploded")))
    with pytest.raises(RuntimeError):
        _run(workdir)
    (info,) = RunStore(f"sqlite:///{workdir / 'store.sqlite'}").list_runs()
    assert info.status == "failed" and "solver exploded" in (info.error or "")
    assert info.exit_code == 1 and info.finished_at is not None
    assert not (workdir / "out").exists() or list((workdir / "out").iterdir()) == []


def test_bad_input_records_nothing(workdir: Path, fake: FakePlanner) -> None:
    (workdir / "run.yaml").write_text("scenario: tiny.yaml\ndemand: missing.csv\n")
    with pytest.raises(InputError, match="demand file not found"):
        _run(workdir)
    (workdir / "run.yaml").write_text("scenario: tiny.yaml\noverrides: {horizon.days: -1}\n")
    with pytest.raises(InputError):
        _run(workdir)
    assert RunStore(f"sqlite:///{workdir / 'store.sqlite'}").list_runs() == []
    assert fake.calls == []


def test_today_start_date(workdir: Path, fake: FakePlanner) -> None:
    (workdir / "run.yaml").write_text("scenario: tiny.yaml\nstart_date: today\n")
    outcome = execute_run(workdir / "run.yaml", store_url=f"sqlite:///{workdir / 's.sqlite'}",
                          out_root=workdir / "out", today=dt.date(2027, 1, 10))
    assert outcome.run.plan_start_date == "2027-01-10"


def test_cli_run_history_show_compare(workdir: Path, fake: FakePlanner,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{workdir / 'store.sqlite'}"
    out = str(workdir / "out")
    assert main(["run", str(workdir / "run.yaml"), "--store", store, "--out-root", out]) == 0
    assert "optimal" in capsys.readouterr().out
    assert main(["run", str(workdir / "run.yaml"), "--store", store, "--out-root", out]) == 0
    assert "already planned" in capsys.readouterr().out
    assert main(["run", str(workdir / "run.yaml"), "--store", store, "--out-root", out,
                 "--force", "--json"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert forced["reused"] is False

    assert main(["history", "--store", store, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 2
    assert {"run_id", "status", "started_at", "inputs_hash"} <= set(runs[0])
    assert runs[0]["run_id"] == forced["run_id"]  # newest first

    assert main(["history", "--store", store]) == 0
    table = capsys.readouterr().out
    assert forced["run_id"] in table and "optimal" in table

    assert main(["show", runs[1]["run_id"][:22], "--store", store]) == 0
    shown = capsys.readouterr().out
    assert runs[1]["run_id"] in shown and "versions" in shown

    assert main(["compare", runs[1]["run_id"], runs[0]["run_id"], "--store", store]) == 0
    text = capsys.readouterr().out
    assert "KPIs (B - A)" in text and "objective_usd" in text
    assert main(["compare", runs[1]["run_id"], runs[0]["run_id"], "--store", store, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"kpis", "batches", "recipe_mix", "inputs"} <= set(data)

    assert main(["show", "nope", "--store", store]) == 2
    assert "no run matches" in capsys.readouterr().err
    assert main(["history", "--store", f"sqlite:///{workdir / 'absent.sqlite'}"]) == 2
    assert "no bioplan run store" in capsys.readouterr().err
    assert not (workdir / "absent.sqlite").exists()


def test_cli_bad_config_exits_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text("scenario: tiny.yaml\nrolling: {frozen: 3}\n")
    assert main(["run", str(workdir / "bad.yaml"), "--store", f"sqlite:///{workdir / 's.sqlite'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "rolling.frozen" in err


def test_cli_json_logging(workdir: Path, fake: FakePlanner, capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        code = main(["run", str(workdir / "run.yaml"), "--store", f"sqlite:///{workdir / 's.sqlite'}",
                     "--out-root", str(workdir / "out"), "--log-json"])
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    kinds = [e.get("event") for e in events]
    assert "run.start" in kinds and "run.finish" in kinds
    finish = next(e for e in events if e.get("event") == "run.finish")
    assert finish["status"] == "optimal" and finish["exit_code"] == 0


def test_swallowed_sigterm_still_stops_the_run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGTERM whose exception the interpreter swallowed (inside an at-fork hook) is noticed
    at the next checkpoint: the run is recorded failed and leaves no folder."""
    import signal

    planner = FakePlanner()

    def swallowed(*args: Any) -> Plan:
        with contextlib.suppress(runner_mod.Terminated):  # what an at-fork hook does with it
            runner_mod.terminate_on_signal(signal.SIGTERM, None)
        return planner(*args)

    monkeypatch.setattr(runner_mod, "_solve", swallowed)
    with pytest.raises(runner_mod.Terminated) as info:
        _run(workdir)
    assert info.value.code == 143
    (run,) = RunStore(f"sqlite:///{workdir / 'store.sqlite'}").list_runs()
    assert run.status == "failed" and run.error == "Terminated: terminated by SIGTERM"
    assert not (workdir / "out").exists() or list((workdir / "out").iterdir()) == []
    monkeypatch.setattr(runner_mod, "_solve", planner)
    assert _run(workdir).exit_code == 0  # the flag does not leak into the next run
