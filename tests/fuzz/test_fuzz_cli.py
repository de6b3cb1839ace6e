"""Property-based fuzzing of the command line: hostile option values, unknown options, bad store
URLs and unwritable output paths, through ``bioplan.cli.main`` in-process.

Every generated command fails before any solve (its scenario, config or sweep file is broken, or an
option is), so the property is: exit 0 or 2; on 2, stderr is one ``error: <where>: <what>. Fix:``
line, never a traceback or a usage box; every ``--json`` stdout of an exit 0 parses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioplan.cli import main
from bioplan.runs.store import RunStore
from tests.fuzz.oracle import assert_error_output

NUMBERS = ["abc", "0", "-1", "1e308", "inf", "-inf", "nan", "", "10", "0.5", "1", "2", " 3 ",
           "0x10", "1_000"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Broken inputs and stores of every kind, plus one valid empty store."""
    folder = tmp_path_factory.mktemp("cli-fuzz")
    (folder / "broken.yaml").write_text("name: x\nhorizon: {start_date: 2027-02-30, days: 5}\n")
    (folder / "binary.yaml").write_bytes(b"\xffname: x\n")
    (folder / "run.yaml").write_text("scenario: broken.yaml\nsolver: {time_limit_s: .inf}\n")
    (folder / "sweep.yaml").write_text("scenario: broken.yaml\ngrid: {demand.scale: []}\n")
    (folder / "empty.sqlite").write_bytes(b"")
    (folder / "garbage.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x17" * 4000)
    (folder / "a-file").write_text("x")
    good = folder / "good.sqlite"
    RunStore(f"sqlite:///{good}").dispose()
    return {"dir": str(folder), "good": f"sqlite:///{good}"}


def _urls(files: dict[str, str]) -> list[str]:
    d = files["dir"]
    return ["sqlite://", "sqlite:///", "sqlite:///:memory:", "not a url", "postgres://127.0.0.1:1/x",
            "nosuchdb://x/y", f"sqlite:///{d}/empty.sqlite", f"sqlite:///{d}/garbage.sqlite",
            f"sqlite:///{d}", f"sqlite:///{d}/absent.sqlite", "sqlite:////proc/x.db",
            files["good"], files["good"], "postgresql://", "x.sqlite" * 40]


def _paths(files: dict[str, str]) -> list[str]:
    d = files["dir"]
    return ["/proc/x", f"{d}/a-file", f"{d}/a-file/sub", "/dev/null", f"{d}/out", "x.txt", ""]


@st.composite
def commands(draw: st.DrawFn, files: dict[str, str]) -> list[str]:
    d = files["dir"]
    num = st.sampled_from(NUMBERS)
    scenario = draw(st.sampled_from([f"{d}/broken.yaml", f"{d}/binary.yaml", f"{d}/absent.yaml", d,
                                     "/dev/null"]))
    url = st.sampled_from(_urls(files))
    path = st.sampled_from(_paths(files))
    extra = draw(st.lists(st.sampled_from(["--frob", "-z", "--json", "--log-json", "--debug=1"]),
                          max_size=1))
    template = draw(st.sampled_from(["plan", "history", "show", "store", "sweep", "run", "compare"]))
    if template == "plan":
        opts = draw(st.lists(st.sampled_from(["--time-limit", "--gap", "--out", "--save-lp",
                                              "--solver-interface", "--scenario"]),
                             min_size=1, max_size=3, unique=True))
        args = ["plan", scenario]
        for opt in opts:
            value = draw(path if opt in ("--out", "--save-lp") else num)
            args += [opt, value]
    elif template == "history":
        args = ["history", "--store", draw(url), "--limit", draw(num), "--json"]
    elif template == "show":
        args = ["show", draw(st.sampled_from(["nope", "", "2027"])), "--store", draw(url), "--json"]
    elif template == "compare":
        args = ["compare", "a", "b", "--store", draw(url), "--json"]
    elif template == "store":
        args = ["store", "check", "--store", draw(url), "--json"]
    elif template == "sweep":
        args = ["sweep", f"{d}/sweep.yaml", "--workers", draw(num), "--out", draw(path)]
    else:
        args = ["run", f"{d}/run.yaml", "--store", draw(url), "--out-root", draw(path)]
    return [*args, *extra]


@settings(max_examples=120)
@given(data=st.data())
def test_cli_bad_arguments_are_one_line(files: dict[str, str], data: st.DataObject,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = data.draw(commands(files), label="argv")
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    assert code in (0, 2), f"exit {code} for {args}: {err}"
    if code == 2:
        if "--log-json" in args:
            line = json.loads(err.strip().splitlines()[-1])
            assert line["level"] == "ERROR" and "Fix: " in line["message"], line
        else:
            assert_error_output(err)
    elif "--json" in args:
        json.loads(out)


def test_a_good_store_answers_json(files: dict[str, str], capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    """The control case: the valid empty store gives parseable JSON on each reading command."""
    for args in (["history", "--store", files["good"], "--json"],
                 ["store", "check", "--store", files["good"], "--json"]):
        assert main(args) == 0
        json.loads(capsys.readouterr().out)
    assert Path(files["dir"], "good.sqlite").stat().st_size > 0
