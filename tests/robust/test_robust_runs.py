"""Robust plans where plans are shown: ``bioplan run`` (config ``robust:``), the HTML run report and
sweeps (``robust:`` per point), on the hand-worked scenario of ``test_hand_worked`` (π = 1000
USD/unit, 3 units due on day 7) with a lognormal lot-to-lot yield spread (CV 0.5) on its card, so
the samples differ and the robust plan hedges.

Invariants checked beside the wiring: the deterministic plan is optimal at nominal yields, so the
robust plan as planned costs no less (price of robustness >= 0); the robust plan's tables pass the
independent checker (the run exits 0, not 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bioplan.cli import main
from bioplan.errors import ExitCode, InputError
from bioplan.runs.config import load_run_config
from bioplan.runs.runner import execute_run
from bioplan.runs.store import RunStore
from bioplan.scenario import scenario_to_yaml
from bioplan.scenario.schema import Uncertainty
from bioplan.sweeps import sweep
from tests.robust.test_hand_worked import scenario

SPREAD = {"yield_cv": {"card-a": 0.5}, "samples": 3, "seed": 2}


def write_scenario(folder: Path, **uncertainty: Any) -> Path:
    sc = scenario(1000).model_copy(update={"uncertainty": Uncertainty(**(SPREAD | uncertainty))})
    path = folder / "robust-hand.yaml"
    path.write_text(scenario_to_yaml(sc), encoding="utf-8")
    return path


def write_config(folder: Path, robust: Any, **extra: Any) -> Path:
    write_scenario(folder)
    config = {"name": "robust-line", "scenario": "robust-hand.yaml", "rolling": {"enabled": False},
              "solver": {"time_limit_s": 20, "mip_gap": 1e-6}, "out_root": str(folder / "runs"),
              "store": f"sqlite:///{folder / 'store.sqlite'}", **extra}
    if robust is not None:
        config["robust"] = robust
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_a_run_config_asks_for_a_robust_plan(tmp_path: Path) -> None:
    outcome = execute_run(write_config(tmp_path, {"samples": 4}))
    assert outcome.exit_code == ExitCode.OK, outcome.message
    run_dir = Path(str(outcome.run.run_dir))
    summary = json.loads((run_dir / "summary.json").read_text())
    robust = summary["robust"]
    assert robust["samples"] == 4 and robust["seed"] == 2  # config on top of the scenario's block
    assert robust["price_of_robustness_usd"] >= -1e-6
    assert set(robust["service"]) == {"rbc"}
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["check_problems"] == []
    assert meta["options"]["robust"]["samples"] == 4
    assert meta["options"]["robust"]["yield_cv"] == {"card-a": 0.5}
    report = (run_dir / "report.html").read_text()
    assert "Robust plan (4 yield samples)" in report
    assert "price of robustness [USD]" in report
    assert "yield uncertainty drawn (both, lot or fit)" in report  # what the samples drew
    assert "Service out of sample (500 fresh samples)" in report
    assert "Stock by day over fresh yield samples" in report
    assert "Service level over fresh yield samples" in report
    store = RunStore(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        stored = store.get(outcome.run.run_id)
        assert stored.kpis["robust"]["samples"] == 4
    finally:
        store.dispose()


def test_robust_settings_are_part_of_the_inputs(tmp_path: Path) -> None:
    """Same config with other robust settings is a new run, not a reuse; the same settings again
    reuse it; a deterministic run's options carry no robust key."""
    first = execute_run(write_config(tmp_path, True))
    again = execute_run(write_config(tmp_path, True))
    other = execute_run(write_config(tmp_path, {"samples": 2}))
    plain = execute_run(write_config(tmp_path, None))
    assert again.reused and again.run.run_id == first.run.run_id
    assert not other.reused and other.run.inputs_hash != first.run.inputs_hash
    assert not plain.reused
    assert "robust" not in json.loads((Path(str(plain.run.run_dir)) / "run.json").read_text())[
        "options"]
    assert "robust" not in json.loads((Path(str(plain.run.run_dir)) / "summary.json").read_text()) \
        or json.loads((Path(str(plain.run.run_dir)) / "summary.json").read_text())["robust"] is None
    assert json.loads((Path(str(first.run.run_dir)) / "summary.json").read_text())["robust"][
        "samples"] == 3  # `robust: true`: the scenario's own block


@pytest.mark.parametrize(("robust", "field"), [
    ({"samples": 0}, "robust.samples"),
    ({"engine": "simplex"}, "robust.engine"),
    ({"service_level": 1.5, "confidence": 0.9}, "robust.service_level"),
    ({"sample": 3}, "robust.sample"),
    ("yes", "robust"),
])
def test_bad_robust_block_in_a_run_config(tmp_path: Path, robust: Any, field: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, robust)
    with pytest.raises(InputError) as err:
        load_run_config(path)
    assert err.value.field is not None and err.value.field.startswith(field)
    code = main(["run", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.BAD_INPUT
    assert len(lines) == 1 and str(path) in lines[0] and field in lines[0] and "Fix:" in lines[0]


def test_settings_that_clash_with_the_scenario_block(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The scenario asks for a risk measure, the config for a chance constraint: once merged the
    block asks for both, which is bad input naming the config's ``robust`` field."""
    path = write_config(tmp_path, {"service_level": 0.9, "confidence": 0.9})
    write_scenario(tmp_path, risk="cvar:0.9:1")
    code = main(["run", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.BAD_INPUT
    assert len(lines) == 1 and str(path) in lines[0] and ": robust:" in lines[0], lines


def test_sweep_with_robust_points(tmp_path: Path) -> None:
    """``robust: true`` plans every point robustly; a grid over ``uncertainty.samples`` varies the
    programme's samples point by point."""
    write_scenario(tmp_path)
    spec = {"scenario": str(tmp_path / "robust-hand.yaml"), "robust": True,
            "grid": {"uncertainty.samples": [2, 3]}, "solver": {"time_limit_s": 20, "mip_gap": 1e-6}}
    table = sweep(spec, max_workers=1, progress=False)
    assert (table["status"] == "optimal").all(), table[["status", "error"]]
    assert table["robust:samples"].tolist() == [2, 3]
    assert (table["robust:price_of_robustness_usd"] >= -1e-6).all()
    for column in ("service_robust_p10:rbc", "service_deterministic_p10:rbc"):
        assert table[column].between(0, 1).all()
    assert (table["robust:deterministic_objective_usd"] <= table["objective_usd"] + 1e-6).all()


def test_sweep_without_robust_has_no_robust_columns(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    table = sweep({"scenario": str(tmp_path / "robust-hand.yaml"),
                   "grid": {"demand.scale": [1.0]}}, max_workers=1, progress=False)
    assert not [c for c in table.columns if str(c).startswith(("robust:", "service_robust"))]


def test_bad_robust_block_in_a_sweep(tmp_path: Path) -> None:
    from bioplan.sweeps.spec import spec_from_dict

    with pytest.raises(InputError) as err:
        spec_from_dict({"robust": {"samples": 0}}, file="s.yaml")
    assert err.value.field == "robust.samples"
