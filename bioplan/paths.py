"""Where the shipped model library (``models/``) lives.

In a wheel it is installed as ``bioplan/models``; in a source checkout (editable install) it is the
repository's top-level ``models/`` folder.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def models_dir() -> Path:
    """The folder holding ``yields/`` and ``scenarios/``."""
    installed = _PACKAGE_DIR / "models"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "models"


def yield_cards_dir() -> Path:
    """Folder of the shipped yield-model cards (``*.yaml``)."""
    return models_dir() / "yields"


def scenarios_dir() -> Path:
    """Folder of the shipped example scenarios."""
    return models_dir() / "scenarios"


def dashboards_dir() -> Path:
    """Folder of the Streamlit app (installed as ``bioplan/dashboards``)."""
    installed = _PACKAGE_DIR / "dashboards"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "dashboards"
