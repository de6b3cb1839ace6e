"""Issue 11 on the command line: usage errors, unwritable outputs and hostile numbers give the
one-line error with exit 2; stdout stays clean for machines (no HiGHS banner, JSON that parses);
under ``--log-json`` every stderr line is JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bioplan.cli import main
from tests.fuzz.oracle import assert_error_output, assert_json_lines

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.yaml"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# class 13: click usage boxes replaced by the one-line error
@pytest.mark.parametrize(("args", "field"), [
    (["plan", "--time-limit", "abc"], "--time-limit"),
    (["plan", "--frob"], "--frob"),
    (["sweep", "x.yaml", "--workers", "0"], "--workers"),
    (["history", "--limit", "x"], "--limit"),
    (["simulate", "--seed-cells", "abc"], "--seed-cells"),
    (["media", "erythroid-bela", "--days", "abc"], "--days"),
    (["show"], "RUN"),
])
def test_usage_errors_are_one_line(args: list[str], field: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(args, capsys)
    assert code == 2
    assert_error_output(err)
    assert f"error: {field}: " in err, err
    assert len(err.strip().splitlines()) == 1


def test_unknown_option_suggests_the_close_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(["plan", "--time-limt", "5"], capsys)
    assert code == 2 and "did you mean --time-limit?" in err, err


# class 5 on the command line: huge or infinite numbers
@pytest.mark.parametrize("value", ["1e308", "inf", "nan", "0", "-3"])
def test_time_limit_out_of_range(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(["plan", str(SMALL), "--time-limit", value], capsys)
    assert code == 2 and "error: --time-limit: " in err, err
    assert_error_output(err)


# class 7 and 10: unwritable outputs, refused before solving
@pytest.mark.parametrize(("args", "field"), [
    (["plan", str(SMALL), "--out", "/proc/x"], "--out"),
    (["plan", str(SMALL), "--out", str(SMALL)], "--out"),
    (["plan", str(SMALL), "--save-lp", "x.txt"], "--save-lp"),
    (["plan", str(SMALL), "--save-lp", "/proc/x/model.lp"], "--save-lp"),
    (["sweep", "tests/sweep/data/sweep.yaml", "--out", "/proc/sw"], "--out"),
])
def test_unwritable_outputs(args: list[str], field: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(args, capsys)
    assert code == 2, out + err
    assert f"error: {field}: " in err and "status" not in out, err  # nothing was solved


def test_run_out_root_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Path("tests/runs/data/run.yaml").resolve()
    store = f"sqlite:///{tmp_path / 's.sqlite'}"
    code, _out, err = _run(["run", str(config), "--store", store, "--out-root", "/dev/null"], capsys)
    assert code == 2 and "error: --out-root: " in err, err
    assert not (tmp_path / "s.sqlite").exists()  # refused before the store was touched


def test_log_json_error_line_is_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: nope.yaml\nsolver: {time_limit_s: .inf}\n")
    proc = subprocess.run([sys.executable, "-m", "bioplan", "run", str(bad), "--log-json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert_json_lines(proc.stderr)
    last = json.loads(proc.stderr.strip().splitlines()[-1])
    assert last["level"] == "ERROR" and last["field"] == "solver.time_limit_s" and last["fix"]


@pytest.mark.slow
def test_plan_stdout_has_no_highs_banner() -> None:
    """The banner went to stdout once per solve (seven times for the default scenario)."""
    proc = subprocess.run([sys.executable, "-m", "bioplan", "plan", str(SMALL)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "HiGHS" not in proc.stdout and "THIRD_PARTY" not in proc.stdout
    assert proc.stdout.startswith("scenario  ")


@pytest.mark.slow
def test_run_json_and_log_json_are_clean(tmp_path: Path) -> None:
    """``run --json --log-json``: stdout is one JSON document, every stderr line a JSON object."""
    for name in ("tiny.yaml", "tiny-demand.csv", "tiny-recipes.csv", "run.yaml"):
        (tmp_path / name).write_bytes((Path("tests/runs/data") / name).read_bytes())
    config = tmp_path / "run.yaml"
    config.write_text(config.read_text() + "outputs: {html_report: false}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bioplan", "run", str(config), "--store",
         f"sqlite:///{tmp_path / 's.sqlite'}", "--out-root", str(tmp_path / "out"), "--json",
         "--log-json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "optimal"
    assert_json_lines(proc.stderr)


@pytest.mark.slow
def test_bench_plan_json_parses() -> None:
    proc = subprocess.run([sys.executable, "-m", "bioplan", "bench", "plan", "--size", "S",
                           "--time-limit", "5", "--json"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["name"] == "S"


@pytest.mark.parametrize("args", [["bench", "plan", "--time-limit", "inf"],
                                  ["bench", "plan", "--gap", "2"],
                                  ["bench", "plan", "--threads", "0"]])
def test_bench_plan_numbers_checked(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(args, capsys)
    assert code == 2
    assert_error_output(err)
