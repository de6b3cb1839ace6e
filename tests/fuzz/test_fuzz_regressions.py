"""Failing examples the fuzz suite found, kept as explicit cases (each failed before its fix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _card_with(tmp_path: Path, change: Any) -> Path:
    import yaml

    from bioplan.paths import yield_cards_dir

    doc = yaml.safe_load((yield_cards_dir() / "mk-cb-tpo.yaml").read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "mk-cb-tpo.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_non_finite_card_number_names_the_card(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """test_broken_cards_simulate_one_line: a medium concentration [.inf, ...] loaded and failed
    later as 'expansion.TPO must be a finite number' without the card file."""
    path = _card_with(tmp_path, lambda d: d["protocol"][0]["medium"].__setitem__(
        "TPO", [float("inf"), "fuzz"]))
    assert main(["simulate", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert_error_output(err)
    assert err.startswith(f"error: {path}: protocol.expansion.medium.TPO.value: ")
    assert "finite" in err


def test_malformed_calibration_covariance_is_bad_input(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """test_randomly_mutated_cards_simulate: a 1 x 1 covariance for 5 fitted parameters gave
    exit 1 'ValueError: cov must be 2 dimensional and square' in the P5-P95 sampling."""
    for cov in ([[1.0]], [[1.0, 2.0], [3.0]], [[1.0, 2.0], [2.0, 1.0]]):
        def change(d: dict[str, Any], cov: Any = cov) -> None:
            d["calibration"]["parameters"] = d["calibration"]["parameters"][: len(cov)] \
                if len(cov) > 1 else d["calibration"]["parameters"]
            d["calibration"]["covariance"] = cov
        path = _card_with(tmp_path, change)
        assert main(["simulate", str(path), "--json"]) == 2, cov
        err = capsys.readouterr().err
        assert_error_output(err)
        assert err.startswith(f"error: {path}: calibration: covariance must be")
