"""A plain (non-editable) install ships the model library: yield cards, scenarios and the app."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("bioplan-*.whl")
    return built


def test_wheel_contains_model_library(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped_cards = sorted(p.name for p in (ROOT / "models" / "yields").glob("*.yaml"))
    assert shipped_cards, "no yield cards in models/yields"
    for card in shipped_cards:
        assert f"bioplan/models/yields/{card}" in names
    assert "bioplan/models/scenarios/default.yaml" in names
    assert "bioplan/dashboards/app.py" in names
    assert "bioplan/py.typed" in names


def test_installed_wheel_finds_cards_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import bioplan, bioplan.paths as p, bioplan.yields as y, bioplan.scenario as s;"
        "print(bioplan.__file__); print(p.models_dir()); print(len(y.list_cards()));"
        "print(s.load_scenario().name)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    module_file, models, n_cards, default_name = result.stdout.split()
    assert module_file.startswith(str(target))
    assert models.startswith(str(target))
    assert int(n_cards) >= 5
    assert default_name == "default"
