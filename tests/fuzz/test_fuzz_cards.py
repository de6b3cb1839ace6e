"""Property-based fuzzing of yield-card *structure* through the commands that read cards (issue 11):
``bioplan simulate``, ``bioplan validate`` and ``bioplan plan`` (a scenario whose recipes come from
the mutated card), in-process through ``bioplan.cli.main``.

Two kinds of mutation of the shipped cards:

- **breaking** ones that no valid card survives: a required key removed, a wrong type, a negative
  rate, an empty protocol, a stage, seed or transit target naming an unknown compartment, a
  non-finite number. Property: exit 2 and one line ``error: <card file>: <field>: ... Fix: ...``,
  no traceback.
- **random** ones (``tests/fuzz/mutate.py``: any value replaced by a hostile one, keys deleted,
  added or misspelt): exit 0 or 2, and on 2 the same one-line form.

``validate`` and ``plan`` run the calibration or a solve when a card survives, so they get only
breaking mutations (which fail before either); ``simulate`` gets both.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bioplan.cli import main
from bioplan.paths import scenarios_dir, yield_cards_dir
from tests.fuzz.mutate import mutated
from tests.fuzz.oracle import assert_error_output

CARDS = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
         for p in sorted(yield_cards_dir().glob("*.yaml"))}
REQUIRED = ["name", "lineage", "product", "stages", "protocol", "seed", "factors", "validity",
            "division_budgets"]
RATES = ["proliferation_per_day", "transit_per_day", "death_per_day"]
NON_FINITE = [math.inf, -math.inf, math.nan, ".inf", "nan"]


def _stage(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    stages = doc["stages"]
    return stages[draw(st.integers(0, len(stages) - 1), label="stage")]


def _break_reference(draw: st.DrawFn, doc: dict[str, Any]) -> str:
    """A stage, seed or transit target that names no compartment of the card."""
    where = draw(st.sampled_from(["seed", "transit", "budget"]), label="reference")
    with_targets = [s for s in doc["stages"] if s.get("transit_to")]
    if where == "transit" and with_targets:
        stage = draw(st.sampled_from(with_targets), label="from")
        stage["transit_to"][0]["stage"] = "NoSuchStage"
        return "transit_to"
    if where == "budget":
        with_budget = [s for s in doc["stages"] if s.get("division_budget")]
        if with_budget:
            draw(st.sampled_from(with_budget), label="budgeted")["division_budget"] = "nobudget"
            return "division_budget"
    doc["seed"] = {"NoSuchStage": [1.0, "fuzz"]}
    return "seed"


@st.composite
def broken_card(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """(card name, a structurally broken copy, what was broken)."""
    name = draw(st.sampled_from(sorted(CARDS)), label="card")
    doc = copy.deepcopy(CARDS[name])
    kind = draw(st.sampled_from(["missing", "type", "negative", "empty", "reference",
                                 "non-finite"]), label="kind")
    if kind == "missing":
        key = draw(st.sampled_from([k for k in REQUIRED if k in doc]), label="key")  # a line has no budgets
        if draw(st.booleans(), label="in a stage"):
            key = draw(st.sampled_from(RATES), label="rate")
            del _stage(draw, doc)[key]
        else:
            del doc[key]
    elif kind == "type":
        target = draw(st.sampled_from(["stages", "protocol", "rate", "days", "seed"]), label="of")
        bad = draw(st.sampled_from(["fast", 5, {"a": 1}, [1, 2, 3], None]), label="value")
        if target == "rate":
            _stage(draw, doc)[draw(st.sampled_from(RATES), label="rate")] = bad
        elif target == "days":
            doc["protocol"][0]["days"] = draw(st.sampled_from(["a week", {"d": 7}, None]))
        else:
            doc[target] = bad if target != "seed" else draw(st.sampled_from(["all", 1, [1]]))
    elif kind == "negative":
        value = -draw(st.floats(min_value=1e-3, max_value=1e3), label="magnitude")
        _stage(draw, doc)[draw(st.sampled_from(RATES), label="rate")] = [value, "fuzz"]
    elif kind == "empty":
        key = draw(st.sampled_from(["protocol", "stages", "seed"]), label="emptied")
        doc[key] = []
    elif kind == "reference":
        kind = _break_reference(draw, doc)
    else:
        value = draw(st.sampled_from(NON_FINITE), label="number")
        if draw(st.booleans(), label="in the protocol"):
            phase = doc["protocol"][0]
            factor = draw(st.sampled_from(sorted(phase["medium"])), label="factor")
            phase["medium"][factor] = [value, "fuzz"]
        else:
            _stage(draw, doc)[draw(st.sampled_from(RATES), label="rate")] = [value, "fuzz"]
    return name, doc, kind


def _write_card(folder: Path, doc: Any, tag: str) -> Path:
    path = folder / f"fuzz-card-{tag}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(args)
    return code, capsys.readouterr().err


def _assert_names_the_card(err: str, path: Path) -> None:
    assert_error_output(err)
    line = next(ln for ln in err.splitlines() if ln.startswith("error: "))
    assert line.startswith(f"error: {path}: "), line
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, err


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("card-fuzz")


@settings(max_examples=60)
@given(case=broken_card(), command=st.sampled_from(["simulate", "simulate --json"]))
def test_broken_cards_simulate_one_line(folder: Path, case: tuple[str, dict[str, Any], str],
                                        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    _name, doc, _kind = case
    path = _write_card(folder, doc, "sim")
    code, err = _run([*command.split(), str(path)], capsys)
    assert code == 2, f"exit {code} for a broken card: {err}"
    _assert_names_the_card(err, path)


@settings(max_examples=25)
@given(case=broken_card())
def test_broken_cards_validate_one_line(folder: Path, case: tuple[str, dict[str, Any], str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_card(folder, case[1], "val")
    code, err = _run(["validate", str(path), "--json"], capsys)
    assert code == 2, f"exit {code} for a broken card: {err}"
    _assert_names_the_card(err, path)


@settings(max_examples=20)
@given(case=broken_card().filter(lambda c: c[0] == "mk-cb-tpo" or c[0] == "mk-imkcl-vermes"))
def test_broken_cards_in_a_scenario_plan_one_line(folder: Path,
                                                  case: tuple[str, dict[str, Any], str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    name, doc, _kind = case
    card = _write_card(folder, doc, "plan")
    scenario = yaml.safe_load((scenarios_dir() / "platelets-only.yaml").read_text(encoding="utf-8"))
    scenario["demand"]["file"] = str(scenarios_dir() / "platelets-only-demand.csv")
    for rec in scenario["recipes"]:
        if rec.get("card") == name:
            rec["card"] = str(card)
    path = folder / "fuzz-scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    code, err = _run(["plan", str(path), "--no-check"], capsys)
    assert code == 2, f"exit {code} for a scenario with a broken card: {err}"
    assert_error_output(err)
    assert str(card) in err, err


@settings(max_examples=40)
@given(data=st.data())
def test_randomly_mutated_cards_simulate(folder: Path, data: st.DataObject,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    name = data.draw(st.sampled_from(sorted(CARDS)), label="card")
    doc = data.draw(mutated(CARDS[name]), label="mutated")
    path = _write_card(folder, doc, "random")
    code, err = _run(["simulate", str(path), "--json"], capsys)
    assert code in (0, 2), f"exit {code}: {err}"
    if code == 2:
        assert_error_output(err)
        assert "Traceback" not in err
