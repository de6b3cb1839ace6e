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


# The layer of every top-level module or package of bioplan (docs/architecture.md): a module may
# import only from its own layer's package or from lower layers, at module level or inside a
# function (TYPE_CHECKING imports aside), and no import cycle may form anywhere.
LAYERS: list[set[str]] = [
    {"bioplan", "errors", "paths", "yaml_files", "input_errors", "contracts", "formatting"},
    {"yields"},
    {"scenario"},
    {"optimisation"},
    {"results"},
    {"planning", "resource_prices", "media_options", "media_search", "charts",
     "bottleneck_charts", "benchmarks", "robust", "robust_charts", "records"},
    {"runs", "sweeps"},
    {"cli", "__main__", "app"},
]
PENDING_UPWARD: set[tuple[str, str]] = set()
"""Known upward imports owned by other branches; each is removed as its branch lands."""


def _imports() -> dict[str, set[str]]:
    """Module -> the bioplan modules it imports (module and function level, not TYPE_CHECKING)."""
    import ast
    from pathlib import Path

    root = Path(bioplan.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                  and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[module] = {m for m in found if m == "bioplan" or m.startswith("bioplan.")}
    return graph


def _layer(module: str) -> tuple[int, str]:
    top = module.split(".")[1] if "." in module else "bioplan"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i, top
    raise AssertionError(f"{module} is in no layer of LAYERS: add it")


def test_imports_flow_down_the_layers() -> None:
    wrong = []
    for module, targets in _imports().items():
        level, top = _layer(module)
        for target in targets:
            t_level, t_top = _layer(target)
            if t_level > level and (top, t_top) not in PENDING_UPWARD:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_cycles_between_modules() -> None:
    """No cycle of imports between modules (a package's ``__init__`` re-exporting its own
    children aside)."""
    import graphlib

    graph = _imports()
    modules = set(graph)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = {m: {o for t in ts if (o := owner(t)) and o != m and not m.startswith(o + ".")}
             for m, ts in graph.items()}
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError naming the cycle
