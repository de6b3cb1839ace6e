"""Issue 11, class 11: a sweep that cannot work exits 2 before any point runs; a value that fails
on its own stays a per-point error row."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bioplan.cli import main
from bioplan.errors import InputError
from bioplan.sweeps import load_sweep
from bioplan.sweeps.core import tasks_of
from tests.fuzz.oracle import assert_error_output, assert_input_error

DATA = Path(__file__).parent / "data"


def _sweep(tmp_path: Path, body: dict[str, Any]) -> Path:
    for name in ("tiny.yaml", "tiny-demand.csv", "tiny-recipes.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"scenario": "tiny.yaml", **body}), encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"grid": {"demand.sclae": [1.0, 2.0]}}, "grid.demand.sclae", "did you mean"),
    ({"grid": {"demand.scale.x": [1.0]}}, "grid.demand.scale.x", "not a section"),
    ({"grid": {"recipes.card": [1.0]}}, "grid.recipes.card", "list index"),
    ({"grid": {"reactors.stirred-500L.units_ownd": [1]}}, "grid.reactors.stirred-500L.units_ownd",
     "not a scenario field"),
    ({"grid": {"yield:nope:stages.EP.proliferation_per_day": [1.0]}},
     "grid.yield:nope:stages.EP.proliferation_per_day", "no recipes from yield card"),
    ({"grid": {"demand.scale": []}}, "grid.demand.scale", "no values"),
    ({"samples": {"n": 0, "parameters": {"demand.scale": {"dist": "uniform", "low": 1, "high": 2}}}},
     "samples.n", "greater than or equal"),
    ({"grid": {"demand.scale": [1.0]}, "solver": {"time_limit_s": float("inf")}},
     "solver.time_limit_s", "finite"),
])
def test_sweep_that_cannot_work_is_bad_input(tmp_path: Path, body: dict[str, Any], field: str,
                                             words: str) -> None:
    path = _sweep(tmp_path, body)
    with pytest.raises(InputError) as caught:
        tasks_of(load_sweep(path))
    err = caught.value
    assert_input_error(err)
    assert field in err.describe() and words in err.describe(), err.describe()
    assert err.file == str(path)


def test_cli_exits_2_before_any_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _sweep(tmp_path, {"grid": {"demand.sclae": [1.0, 2.0]}})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert_error_output(captured.err)
    assert "points" not in captured.out and not list(out.iterdir())  # nothing ran, nothing written


def test_a_bad_value_among_good_ones_stays_per_point(tmp_path: Path) -> None:
    """``demand.scale: -1`` fails on its own; the path is valid, so the sweep is accepted."""
    spec = load_sweep(_sweep(tmp_path, {"grid": {"demand.scale": [1.0, -1.0]}}))
    assert len(tasks_of(spec)) == 2
