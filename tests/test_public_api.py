"""Every name the top-level package promises resolves, without importing Pyomo up front."""

from __future__ import annotations

import subprocess
import sys

import bioplan


def test_every_exported_name_resolves() -> None:
    for name in bioplan.__all__:
        assert getattr(bioplan, name) is not None, name
    assert callable(bioplan.plan) and callable(bioplan.sweep) and callable(bioplan.check_plan)


def test_import_bioplan_does_not_import_pyomo() -> None:
    code = "import sys, bioplan; print('pyomo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_the_optimisation_package_imports_pyomo() -> None:
    """Imports flow one way: Pyomo stays inside bioplan/optimisation (docs/architecture.md)."""
    import re
    from pathlib import Path

    root = Path(bioplan.__file__).parent
    pattern = re.compile(r"^\s*(import pyomo|from pyomo)", re.MULTILINE)
    offenders = [
        str(path.relative_to(root.parent))
        for folder in (root, root.parent / "dashboards")
        for path in folder.rglob("*.py")
        if "optimisation" not in path.relative_to(root.parent).parts[:2]
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
