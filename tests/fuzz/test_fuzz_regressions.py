"""Failing examples the fuzz suite found, kept as explicit cases (each failed before its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioplan.cli import main
from bioplan.errors import InputError
from bioplan.scenario import load_scenario
from tests.fuzz.oracle import assert_error_output, assert_input_error

ROOT = Path(__file__).resolve().parents[2]


def test_nul_byte_in_yaml_is_one_line(tmp_path: Path) -> None:
    """test_scenario_bytes_mutated: a NUL at offset 0 gave PyYAML's two-line reader message."""
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\x00" + (ROOT / "tests/scenario/data/tiny.yaml").read_bytes())
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert_input_error(caught.value)
    assert "#x0000" in caught.value.message and "offset 0" in caught.value.message


def test_store_path_too_long_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    """test_cli_bad_arguments_are_one_line: a 320-character file name raised OSError (exit 1)."""
    assert main(["store", "check", "--store", "x.sqlite" * 40, "--json"]) == 2
    err = capsys.readouterr().err
    assert_error_output(err)
    assert "File name too long" in err


def test_out_folder_name_too_long_is_bad_input(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The same OSError in the output-folder check."""
    code = main(["plan", str(ROOT / "tests/cli/data/small.yaml"), "--out", str(tmp_path / ("o" * 300))])
    assert code == 2
    assert_error_output(capsys.readouterr().err)
