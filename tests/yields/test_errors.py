"""Bad input gives one clear line naming the file, the field and the fix; exit code 2; no traceback.

The command-line cases run ``python -m bioplan`` as a subprocess, exactly as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bioplan.errors import InputError
from bioplan.paths import yield_cards_dir
from bioplan.yields import load_card, recipe_table, simulate

BASE = (yield_cards_dir() / "mk-cb-tpo.yaml").read_text(encoding="utf-8")


def _card(tmp_path: Path, name: str, old: str, new: str) -> Path:
    assert old in BASE, old
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bioplan", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], *must: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    assert "Fix:" in line
    for text in must:
        assert text in line, (text, line)
    return line


# (case, old text, new text, expected field, expected words) for the card file defects of issue 2
CARD_DEFECTS = [
    ("missing-field", "cell_source: cord-blood CD34+\n", "", "cell_source", "required"),
    (
        "negative-rate",
        "death_per_day: [0.05",
        "death_per_day: [-0.05",
        "stages.HSPC",
        "death_per_day must be >= 0",
    ),
    (
        "unknown-cytokine",
        "- factor: IL3\n",
        "- factor: IL-3\n",
        "stages.Other.responses",
        "unknown factor 'IL-3'",
    ),
    ("unit-typo", "unit: ng/mL", "unit: ng/ml", "factors.TPO.unit", "did you mean 'ng/mL'"),
]


@pytest.mark.parametrize(
    ("case", "old", "new", "field", "words"), CARD_DEFECTS, ids=[c[0] for c in CARD_DEFECTS]
)
def test_bad_card_on_the_command_line(
    tmp_path: Path, case: str, old: str, new: str, field: str, words: str
) -> None:
    path = _card(tmp_path, case, old, new)
    _assert_one_clear_line(_cli("simulate", str(path)), str(path), field, words)


def test_unknown_card_name_on_the_command_line() -> None:
    line = _assert_one_clear_line(
        _cli("simulate", "erythroid-cord"), "unknown yield card 'erythroid-cord'"
    )
    assert "erythroid-cb-giarratana" in line  # the fix lists the shipped cards


def test_unknown_setting_on_the_command_line() -> None:
    line = _assert_one_clear_line(
        _cli("simulate", "mk-cb-tpo", "--set", "expansion.EPO=3"), "expansion.EPO", "mk-cb-tpo"
    )
    assert "expansion.TPO" in line


def test_good_card_exits_0_and_prints_json() -> None:
    result = _cli("simulate", "mk-cb-tpo", "--json")
    assert result.returncode == 0, result.stderr

    data = json.loads(result.stdout)
    for key in (
        "card",
        "lineage",
        "days",
        "fold_expansion",
        "product_cells_per_seed_cell",
        "medium_L_per_unit",
        "cytokine_mg_per_unit",
        "phases",
    ):
        assert key in data
    assert data["card"] == "mk-cb-tpo" and data["days"] == 14
    assert set(data["cytokine_mg_per_unit"]) == set(load_card("mk-cb-tpo").factors)


# the same defects through the library: InputError with file, field and fix
@pytest.mark.parametrize(
    ("case", "old", "new", "field", "words"), CARD_DEFECTS, ids=[c[0] for c in CARD_DEFECTS]
)
def test_bad_card_in_python(
    tmp_path: Path, case: str, old: str, new: str, field: str, words: str
) -> None:
    path = _card(tmp_path, case, old, new)
    with pytest.raises(InputError) as err:
        load_card(path)
    assert err.value.file == str(path.resolve())
    assert err.value.field is not None and field in err.value.field
    assert err.value.fix
    assert words in err.value.message


def test_number_without_source_is_rejected(tmp_path: Path) -> None:
    path = _card(
        tmp_path,
        "nosource",
        "ploidy_exponent: [1, 'assumption",
        "ploidy_exponent: 1\n  x_note: ['assumption",
    )
    with pytest.raises(InputError, match="has no source"):
        load_card(path)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"expansion.TPO": -1.0}, "negative"),
        ({"expansion.days": 6.5}, "not a phase length"),
        ({"ripening.TPO": 1.0}, "unknown phase 'ripening'"),
        ({"expansion.density_setpoint": 0.0}, "must be > 0"),
    ],
)
def test_bad_settings_in_python(settings: dict[str, float], words: str) -> None:
    with pytest.raises(InputError, match=words):
        simulate("mk-cb-tpo", settings=settings)


@pytest.mark.parametrize("days", [0, -1])
def test_days_below_one_is_rejected(days: int) -> None:
    with pytest.raises(InputError, match="nothing would be cultured") as err:
        simulate("mk-cb-tpo", days=days)
    assert err.value.field == "days" and err.value.fix == "give days from 1 to 365"


# issue 11, item 10: non-finite seeds and zero-day phases used to pass (printing Infinity, or
# silently dropping the phase); each must be one exit-2 line naming the flag and the fix
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--seed-cells", "inf"], "--seed-cells"),
        (["--seed-cells", "nan"], "--seed-cells"),
        (["--seed-cells", "0"], "--seed-cells"),
        (["--cells-per-unit", "inf"], "--cells-per-unit"),
        (["--set", "expansion.days=0"], "--set expansion.days"),
        (["--set", "expansion.days=-3"], "--set expansion.days"),
        (["--set", "expansion.days=1e9"], "--set expansion.days"),
        (["--days", "100000"], "--days"),
    ],
)
def test_non_finite_or_zero_inputs_are_one_line_exit_2(args: list[str], field: str) -> None:
    line = _assert_one_clear_line(_cli("simulate", "mk-cb-tpo", "--json", *args), field)
    assert line.startswith(f"error: {field}: ")


def test_zero_day_phase_setting_is_rejected_in_python() -> None:
    with pytest.raises(InputError, match="not a phase length") as err:
        simulate("mk-cb-tpo", settings={"expansion.days": 0.0})
    assert err.value.field == "expansion.days" and "--days" in (err.value.fix or "")


def test_bad_variant_values() -> None:
    with pytest.raises(InputError, match="non-empty list"):
        recipe_table("mk-cb-tpo", {"expansion.TPO": []})
    with pytest.raises(InputError, match="non-numeric"):
        recipe_table("mk-cb-tpo", {"expansion.TPO": ["high"]})  # type: ignore[list-item]
