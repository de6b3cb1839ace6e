"""Where the shipped model library (``models/``) lives.

In a wheel it is installed as ``bioplan/models``; in a source checkout (editable install) it is the
repository's top-level ``models/`` folder.
"""

from __future__ import annotations

import os
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


def ensure_writable_dir(path: str | Path, *, field: str) -> Path:
    """Create ``path`` as a folder if needed and check that files can be written in it.

    Raises :class:`~bioplan.errors.InputError` naming ``field`` (an option such as ``--out``, or a
    config field) when it names an existing file, lies under a file, or cannot be written — before
    any solving, so a night's solve is never lost to an unwritable folder.
    """
    from bioplan.errors import InputError

    folder = Path(path)
    try:
        if folder.exists() and not folder.is_dir():
            msg = f"{folder} exists and is not a folder"
            raise InputError(msg, field=field, fix="give a folder path (a new or an existing folder)")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot create folder {folder} ({err.strerror or err})"
        raise InputError(msg, field=field,
                         fix="give a folder you can write to, e.g. out/plan") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"cannot write into {folder} (permission denied or read-only)"
        raise InputError(msg, field=field, fix="give a folder you can write to, e.g. out/plan")
    return folder


def ensure_writable_file(path: str | Path, *, field: str, suffixes: tuple[str, ...]) -> Path:
    """Check that ``path`` has one of ``suffixes`` and that its folder can be written."""
    from bioplan.errors import InputError

    file = Path(path)
    if file.suffix.lower() not in suffixes:
        msg = f"{file.name!r} does not end in {' or '.join(suffixes)}"
        raise InputError(msg, field=field,
                         fix=f"name the file with {' or '.join(suffixes)}, which sets its format")
    if os.path.isdir(file):
        msg = f"{file} is a folder"
        raise InputError(msg, field=field, fix="give a file path")
    ensure_writable_dir(file.parent if str(file.parent) else Path("."), field=field)
    return file
