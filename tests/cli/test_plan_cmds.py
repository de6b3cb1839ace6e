"""``bioplan plan`` and ``bioplan media``: exit codes, summary, written files, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bioplan.cli import main
from bioplan.cli.plan_cmds import parse_variants
from bioplan.errors import ExitCode, InputError
from bioplan.results import Plan, PlanStatus
from bioplan.scenario import load_scenario

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.yaml"

TABLES = ["batches", "deliveries", "shortages", "expiries", "inventory", "occupancy", "media_use",
          "capacity", "cost_breakdown", "cost_by_product", "marginal_values", "kpis", "utilisation"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- solving ---------------------------------------------------------------------------------


def test_plan_small_scenario_writes_every_table(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["plan", str(SMALL), "--out", str(tmp_path / "out")], capsys)
    assert code == ExitCode.OK, out + err
    assert "status    optimal" in out
    assert "rbc" in out and "platelet" in out and "reactors" in out
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {f"{t}.csv" for t in TABLES} <= written
    assert {"plan.xlsx", "summary.json"} <= written
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    for key in ("status", "objective", "bound", "gap", "cost_breakdown", "units_delivered",
                "units_short", "units_expired", "shelf_life_days", "solve_seconds"):
        assert key in summary, key
    assert summary["status"] == "optimal"
    assert summary["shelf_life_days"] == {"rbc": 42, "platelet": 5}
    assert sum(summary["cost_breakdown"].values()) == pytest.approx(summary["objective"], rel=1e-6)
    batches = pd.read_csv(tmp_path / "out" / "batches.csv")
    assert batches.columns[0] == "batch_id" and len(batches) > 0
    sheets = pd.ExcelFile(tmp_path / "out" / "plan.xlsx").sheet_names
    assert set(TABLES) <= set(sheets)


def test_named_scenario_that_cannot_be_met_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["plan", str(SMALL), "--scenario", "impossible"], capsys)
    assert code == ExitCode.INFEASIBLE, out + err
    assert "infeasible" in out
    assert "Traceback" not in err


def test_save_lp_writes_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lp = tmp_path / "model.lp"
    code, out, err = run(["plan", str(SMALL), "--save-lp", str(lp)], capsys)
    assert code == ExitCode.OK, out + err
    assert lp.exists() and lp.stat().st_size > 0


@pytest.mark.slow
def test_plan_script_entry_point_runs_the_default(tmp_path: Path) -> None:
    """The installed script on the built-in default: exit 0 and a summary, as the README says
    (slow: a real solve of the default, priced by one extra LP)."""
    exe = shutil.which("bioplan", path=str(Path(sys.executable).parent))
    assert exe is not None
    proc = subprocess.run([exe, "plan", "--out", str(tmp_path / "default")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scenario  default" in proc.stdout
    assert (tmp_path / "default" / "summary.json").exists()


# ---- exit codes of every outcome (no solve needed) --------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [
    (PlanStatus.OPTIMAL, ExitCode.OK),
    (PlanStatus.FEASIBLE, ExitCode.TIME_LIMIT_FEASIBLE),
    (PlanStatus.INFEASIBLE, ExitCode.INFEASIBLE),
    (PlanStatus.NO_SOLUTION, ExitCode.NO_SOLUTION),
])
def test_exit_code_of_each_outcome(status: PlanStatus, expected: ExitCode) -> None:
    """FEASIBLE means stopped above the requested gap: plan() reports a time-limited plan within
    the gap as OPTIMAL, so the status alone decides the exit code."""
    assert status.exit_code == expected


def test_cli_maps_outcomes_to_exit_codes(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    """With the planner replaced by canned outcomes: codes 4 and 5, and the plan is still written."""
    import bioplan.planning

    outcomes = {
        "no_solution": (Plan(scenario=load_scenario(SMALL), status=PlanStatus.NO_SOLUTION,
                             message="time limit before any plan"), ExitCode.NO_SOLUTION),
        "feasible": (Plan(scenario=load_scenario(SMALL), status=PlanStatus.FEASIBLE,
                          objective_usd=1.0, bound_usd=0.5, gap=0.5), ExitCode.TIME_LIMIT_FEASIBLE),
    }
    for name, (canned, expected) in outcomes.items():
        monkeypatch.setattr(bioplan.planning, "plan", lambda *a, _c=canned, **k: _c)
        out_dir = tmp_path / name
        code, out, err = run(["plan", str(SMALL), "--no-check", "--out", str(out_dir)], capsys)
        assert code == expected, out + err
        assert str(canned.status) in out
        assert json.loads((out_dir / "summary.json").read_text())["status"] == str(canned.status)


# ---- bad input: one clear line, exit 2, no traceback ------------------------------------------


def _scenario_copy(tmp_path: Path, edit: str, old: str, new: str) -> Path:
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    target = tmp_path / edit
    text = target.read_text()
    assert old in text, old
    target.write_text(text.replace(old, new, 1))
    return tmp_path / "small.yaml"


BAD = {
    "missing field": ("small.yaml", "    shelf_life_days: 42\n", "",
                      ["small.yaml", "products.rbc.shelf_life_days", "Field required"]),
    "negative volume": ("small.yaml", "working_volume_min_L: 1\n    working_volume_max_L: 50",
                        "working_volume_min_L: 1\n    working_volume_max_L: -50",
                        ["small.yaml", "reactors.rocking-50L.working_volume_max_L"]),
    "unknown card": ("small.yaml", "recipes:\n  - table: small-recipes.csv",
                     "recipes:\n  - table: small-recipes.csv\n  - card: no-such-card",
                     ["small.yaml", "recipes.1.card", "no-such-card"]),
    "variant key typo": ("small.yaml", "recipes:\n  - table: small-recipes.csv",
                         "recipes:\n  - table: small-recipes.csv\n  - card: mk-cb-tpo\n"
                         "    variants: {maturation.TPQ: [25, 50]}",
                         ["small.yaml", "recipes.1.variants.maturation.TPQ", "maturation.TPO"]),
    "unknown recipe table": ("small.yaml", "table: small-recipes.csv", "table: nope.csv",
                             ["small.yaml", "recipes.0.table", "nope.csv"]),
    "demand CSV with a bad date": ("small-demand.csv", "2027-01-12,platelet",
                                   "2027-13-12,platelet",
                                   ["small-demand.csv", "date", "'2027-13-12' is not a date"]),
    "demand for an unknown product": ("small-demand.csv", "2027-01-12,platelet",
                                      "2027-01-12,plasma", ["small.yaml", "demand"]),
    "YAML syntax": ("small.yaml", "horizon: {start_date: 2027-01-04, days: 21}",
                    "horizon: {start_date: 2027-01-04, days: 21", ["small.yaml", "line"]),
    "unit typo": ("small.yaml", "basal_price_usd_per_L: 30", "basal_price_usd_per_mL: 30",
                  ["small.yaml", "media.basal_price_usd_per_mL", "did you mean"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_file_gives_one_clear_line(case: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    edit, old, new, expected = BAD[case]
    path = _scenario_copy(tmp_path, edit, old, new)
    code, out, err = run(["plan", str(path)], capsys)
    assert code == ExitCode.BAD_INPUT, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{case}: {text!r} not in {err!r}"


def test_bad_input_through_the_real_script(tmp_path: Path) -> None:
    """The installed script: one line on stderr naming file and field, exit 2, no traceback."""
    path = _scenario_copy(tmp_path, "small.yaml", "shelf_life_days: 42", "shelf_life_days: -3")
    exe = shutil.which("bioplan", path=str(Path(sys.executable).parent))
    assert exe is not None
    proc = subprocess.run([exe, "plan", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "small.yaml" in proc.stderr and "products.rbc.shelf_life_days" in proc.stderr


@pytest.mark.parametrize(("args", "text"), [
    (["plan", "no/such/file.yaml"], "no such scenario file"),
    (["plan", str(SMALL), "--scenario", "nope"], "no scenario or override named 'nope'"),
    (["plan", str(SMALL), "--gap", "2"], "--gap"),
    (["plan", str(SMALL), "--time-limit", "0"], "--time-limit"),
    (["media", "no-such-card"], "no-such-card"),
    (["media", "mk-cb-tpo", "--vary", "maturation.days"], "--vary"),
])
def test_bad_arguments_exit_2(args: list[str], text: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(args, capsys)
    assert code == ExitCode.BAD_INPUT, out + err
    assert text in err and "Traceback" not in err


# ---- bioplan media ------------------------------------------------------------------------------


def test_parse_variants() -> None:
    assert parse_variants(["maturation.days=7,10", "expansion.EPO=1"]) == {
        "maturation.days": [7.0, 10.0], "expansion.EPO": [1.0]}
    with pytest.raises(InputError):
        parse_variants(["maturation.days=seven"])
