"""Bad uncertainty settings: one line naming the flag or the file's field, what and the fix
(exit 2), from the command line and from a scenario's ``uncertainty:`` block."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bioplan.cli import main
from bioplan.errors import ExitCode
from bioplan.scenario.schema import Uncertainty

TINY = Path(__file__).parents[1] / "scenario" / "data" / "tiny.yaml"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("flags", "field"), [
    (["--samples", "0"], "--samples"),
    (["--service-level", "1.5", "--confidence", "0.9"], "--service-level"),
    (["--service-level", "0", "--confidence", "0.9"], "--service-level"),
    (["--service-level", "0.9", "--confidence", "1.2"], "--confidence"),
    (["--service-level", "0.9"], "--service-level"),
    (["--engine", "simplex"], "--engine"),
    (["--risk", "cvar:1.5:1"], "--risk"),
    (["--risk", "var:0.9"], "--risk"),
])
def test_bad_flags_give_one_line(flags: list[str], field: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["plan", str(TINY), "--robust", *flags], capsys)
    assert code == ExitCode.BAD_INPUT
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and field in lines[0] and "Fix:" in lines[0]


@pytest.mark.parametrize(("block", "field"), [
    ({"samples": 0}, "uncertainty.samples"),
    ({"engine": "bogus"}, "uncertainty.engine"),
    ({"service_level": 1.1, "confidence": 0.9}, "uncertainty.service_level"),
    ({"samplez": 3}, "uncertainty.samplez"),
])
def test_bad_uncertainty_block_names_file_and_field(tmp_path: Path, block: dict[str, object],
                                                    field: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    raw = yaml.safe_load(TINY.read_text())
    raw["uncertainty"] = block
    for name in ("tiny-demand.csv", "tiny-recipes.csv"):
        (tmp_path / name).write_text((TINY.parent / name).read_text())
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw))
    code, err = run(["plan", str(path), "--robust"], capsys)
    assert code == ExitCode.BAD_INPUT
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0] and field in lines[0]


def test_ph_without_mpi_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mpi4py" else real(name, *a))
    code, err = run(["plan", str(TINY), "--robust", "--engine", "ph"], capsys)
    assert code == ExitCode.BAD_INPUT
    assert len(err.strip().splitlines()) == 1
    assert "--engine" in err and "pip install 'bioplan[robust]'" in err


def test_the_block_parses_cvar() -> None:
    assert Uncertainty(risk="cvar:0.9:2").cvar() == (0.9, 2.0)
    assert Uncertainty().cvar() is None


def test_plan_robust_writes_the_robust_summary(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The tiny scenario with a 30 % lognormal lot-to-lot spread on its hand-made card: the
    robust plan checks clean, and summary.json carries the robust figures with their errors."""
    import json

    raw = yaml.safe_load(TINY.read_text())
    raw["uncertainty"] = {"samples": 4, "seed": 3, "yield_cv": {"tiny-card": 0.3}}
    for name in ("tiny-demand.csv", "tiny-recipes.csv"):
        (tmp_path / name).write_text((TINY.parent / name).read_text())
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw))
    code = main(["plan", str(path), "--robust", "--out", str(tmp_path / "out")])
    out = capsys.readouterr()
    assert code == ExitCode.OK, out.out + out.err
    assert "robust    4 samples (lot-to-lot spread and calibration uncertainty), engine ef" in out.out
    assert "out-of-sample service P10 robust" in out.out
    robust = json.loads((tmp_path / "out" / "summary.json").read_text())["robust"]
    for key in ("samples", "engine", "deterministic_objective_usd", "price_of_robustness_usd",
                "vss_usd", "vss_se_usd", "evpi_usd", "evpi_se_usd", "service"):
        assert key in robust, key
    assert robust["samples"] == 4 and robust["engine"] == "ef"
    # the robust plan minimises expected cost: on fresh samples it is no worse than the
    # deterministic plan beyond the estimate's noise
    assert robust["vss_usd"] >= -4 * (robust["vss_se_usd"] or 0.0) - 1e-6
    assert robust["evpi_usd"] is None or robust["evpi_usd"] >= -4 * (robust["evpi_se_usd"] or 0) - 1e-6


def test_ph_sub_problems_without_a_plan_are_no_plan_with_a_fix() -> None:
    """mpi-sppy stops with "Infeasibility detected" when no sample's sub-problem returns a plan
    (measured on the default and the benchmark's M instance before the sub-problems were
    warm-started: every sub-MIP hit its limit with no plan): that is no plan found (exit 4),
    naming the sub-problem limit and what to change, not an internal solver failure. The limit:
    70 % of 300 s over 4 passes of 10 samples per process = 5.25 s."""
    from bioplan.contracts import PlanStatus
    from bioplan.optimisation import SolveOptions
    from bioplan.robust.ph_run import local_samples, ph_failure, sub_limit_s

    limit = sub_limit_s(SolveOptions(time_limit_s=300), local_samples(20, 2))
    assert limit == pytest.approx(5.25)
    assert sub_limit_s(SolveOptions(time_limit_s=10), local_samples(20, 2)) == 1.0  # at least 1 s
    out = ph_failure("Traceback ...\nRuntimeError: Infeasibility detected; E_feas=0.0, E1=1.0\n",
                     limit)
    assert out.status is PlanStatus.NO_SOLUTION and not out.failed
    assert "5.25 s each" in out.message and "--time-limit" in out.message
    assert "--engine ef" in out.message
    other = ph_failure("Segmentation fault\n", limit)
    assert other.failed and "Segmentation fault" in other.message
