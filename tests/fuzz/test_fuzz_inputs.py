"""Property-based fuzzing of every file a user writes: the shipped scenarios, demand CSVs, run
configs, sweep files and yield cards, mutated by hypothesis (``tests/fuzz/mutate.py``).

The property: a mutated input either loads (the CLI would go on and exit 0, 2 or 3 after the
solve) or raises an :class:`~bioplan.errors.InputError` that names the file or the field and the
fix (exit 2). Any other exception — the exit 1 "internal error" of issue 11 — fails the test.
Nothing is solved here; the solver's side is covered by the regression cases.

Example budgets (``max_examples``) add up to more than 500 cases per run. Failing examples that
hypothesis found are kept as explicit cases in ``test_fuzz_regressions.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bioplan.errors import InputError
from bioplan.paths import scenarios_dir, yield_cards_dir
from tests.fuzz.mutate import mutated, mutated_bytes
from tests.fuzz.oracle import assert_input_error

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_FILES = {
    "tiny": ROOT / "tests/scenario/data/tiny.yaml",
    "platelets-only": scenarios_dir() / "platelets-only.yaml",
    "rbc-scale-up": scenarios_dir() / "rbc-scale-up.yaml",
}
CSV_FILES = [ROOT / "tests/scenario/data/tiny-demand.csv",
             scenarios_dir() / "platelets-only-demand.csv", scenarios_dir() / "default-demand.csv"]
CARD_FILES = sorted(yield_cards_dir().glob("*.yaml"))


def _doc(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


DOCS = {name: _doc(path) for name, path in SCENARIO_FILES.items()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with every CSV the fuzzed scenarios, configs and sweeps reference."""
    folder = tmp_path_factory.mktemp("fuzz")
    for src in [*scenarios_dir().glob("*.csv"), *(ROOT / "tests/scenario/data").glob("*.csv")]:
        shutil.copy(src, folder / src.name)
    shutil.copy(SCENARIO_FILES["tiny"], folder / "tiny.yaml")
    return folder


def _expect_input_error_or_ok(action: Any) -> Any:
    """Run ``action``; an InputError must be well-formed, anything else but success fails."""
    try:
        return action()
    except InputError as err:
        assert_input_error(err)
        return None


def _write(folder: Path, name: str, doc: Any) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@settings(max_examples=160)
@given(data=st.data())
def test_mutated_scenarios_load_or_fail_with_one_line(workdir: Path, data: st.DataObject) -> None:
    from bioplan.scenario import load_scenario

    name = data.draw(st.sampled_from(sorted(DOCS)), label="scenario")
    doc = data.draw(mutated(DOCS[name]), label="mutated")
    path = _write(workdir, f"fuzz-{name}.yaml", doc)
    named = data.draw(st.sampled_from([None, None, "stress", "double-demand", "nope"]), label="-s")
    scenario = _expect_input_error_or_ok(lambda: load_scenario(path, scenario=named))
    if scenario is not None:  # what the planner reads first must work too
        scenario.demand_table()
        _expect_input_error_or_ok(lambda: _prepare(scenario))


def _prepare(scenario: Any) -> Any:
    from bioplan.optimisation import prepare

    return prepare(scenario, scenario.recipe_table(), None)


@settings(max_examples=50)
@given(data=st.data())
def test_scenario_bytes_mutated(workdir: Path, data: st.DataObject) -> None:
    from bioplan.scenario import load_scenario

    name = data.draw(st.sampled_from(sorted(SCENARIO_FILES)), label="scenario")
    raw = data.draw(mutated_bytes(SCENARIO_FILES[name].read_bytes()), label="bytes")
    path = workdir / f"bytes-{name}.yaml"
    path.write_bytes(raw)
    _expect_input_error_or_ok(lambda: load_scenario(path))


@settings(max_examples=80)
@given(data=st.data())
def test_demand_csv_mutated(workdir: Path, data: st.DataObject) -> None:
    from bioplan.scenario import read_demand_csv

    source = data.draw(st.sampled_from(CSV_FILES), label="csv")
    lines = source.read_bytes().splitlines(keepends=True)[:40]
    raw = data.draw(st.one_of(
        mutated_bytes(b"".join(lines)),
        st.lists(st.sampled_from([
            b"date,product,units\n", b"week,product,units\n", b"date,week,product,units\n",
            b"2027-01-04,rbc,1\n", b"2027-02-30,rbc,1\n", b"2027-01-04,rbc,inf\n",
            b"2027-01-04,rbc,-1\n", b"2027-01-04,blood,1\n", b"2027-01-04,rbc\n", b",,\n",
            b"2027-01-04,rbc,1e308\n", b"\xff\xfe\n", b"\"unclosed,rbc,1\n",
        ]), max_size=6).map(b"".join),
    ), label="bytes")
    path = workdir / "fuzz-demand.csv"
    path.write_bytes(raw)
    records = _expect_input_error_or_ok(lambda: read_demand_csv(path))
    if records is not None:
        for rec in records[0]:
            assert 0 <= rec["units"] < float("inf")


@settings(max_examples=60)
@given(data=st.data())
def test_run_configs_mutated(workdir: Path, data: st.DataObject) -> None:
    from bioplan.runs.config import load_run_config
    from bioplan.runs.runner import _load_scenario

    base = {"scenario": "tiny.yaml", "demand": "tiny-demand.csv", "rolling": {"frozen_days": 3},
            "solver": {"time_limit_s": 30, "mip_gap": 0.0}, "start_date": "scenario",
            "overrides": {"demand.scale": 1.0}, "outputs": {"html_report": False}}
    path = _write(workdir, "fuzz-run.yaml", data.draw(mutated(base), label="config"))
    config = _expect_input_error_or_ok(lambda: load_run_config(path))
    if config is not None:
        _expect_input_error_or_ok(lambda: _load_scenario(config, None))


@settings(max_examples=60)
@given(data=st.data())
def test_sweep_files_mutated(workdir: Path, data: st.DataObject) -> None:
    from bioplan.sweeps import load_sweep
    from bioplan.sweeps.core import tasks_of

    base = yaml.safe_load((ROOT / "tests/sweep/data/sweep.yaml").read_text(encoding="utf-8"))
    path = _write(workdir, "fuzz-sweep.yaml", data.draw(mutated(base), label="sweep"))
    spec = _expect_input_error_or_ok(lambda: load_sweep(path))
    if spec is not None:
        tasks = _expect_input_error_or_ok(lambda: tasks_of(spec))
        assert tasks is None or len(tasks) >= 1


@settings(max_examples=40)
@given(data=st.data())
def test_yield_cards_unreadable(workdir: Path, data: st.DataObject) -> None:
    """Cards share the YAML reader: undecodable, control characters or deeply nested cards are
    one line naming the card file (structural card errors belong to the yields tests)."""
    from bioplan.yields import load_card

    source = data.draw(st.sampled_from(CARD_FILES), label="card").read_bytes()
    pos = data.draw(st.integers(0, len(source)), label="at")
    chunk = data.draw(st.sampled_from([b"\xff", b"\x00", b"\xc3(", b"\x1b"]), label="chunk")
    raw = data.draw(st.one_of(
        st.just(source[:pos] + chunk + source[pos:]),
        st.integers(70, 3000).map(lambda n: b"a: " + b"[" * n + b"]" * n),
        st.integers(70, 150).map(lambda n: b"".join(b"  " * i + b"k:\n" for i in range(n))),
    ), label="bytes")
    path = workdir / f"fuzz-card-{data.draw(st.integers(0, 10**9), label='id')}.yaml"
    path.write_bytes(raw)
    with pytest.raises(InputError) as caught:
        load_card(path)
    assert_input_error(caught.value)
    assert caught.value.file is not None and path.name in caught.value.file
