"""Checks on a raw scenario mapping (as read from YAML) before the schema validates it.

They catch what the schema cannot see or what would fail before it runs: non-finite or absurdly
large numbers anywhere, sections of the wrong shape that the loader walks (``recipes``,
``demand.file``, ``overrides``, ``scenarios``), and unknown fields inside a named override, which
are reported at load time even when the override is not used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bioplan.errors import InputError

MAX_MAGNITUDE = 1e15
"""Largest absolute number accepted anywhere in a scenario [-]: cells per unit (2e12) is the
largest quantity bioplan needs; bigger numbers overflow the solver's numerics."""


def check_numbers(data: Any, file: str | None, prefix: str = "") -> None:
    """Every number in ``data`` is finite and at most :data:`MAX_MAGNITUDE` in magnitude."""
    stack: list[tuple[str, Any]] = [(prefix, data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(node))
        elif isinstance(node, float | int) and not isinstance(node, bool):
            _check_number(node, path, file)


def _check_number(value: float, path: str, file: str | None) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{value} is not a finite number", file=file, field=path or "(value)",
                         fix=f"give a finite number (at most {MAX_MAGNITUDE:g} in magnitude)")
    if abs(value) > MAX_MAGNITUDE:
        raise InputError(f"{value:g} is too large", file=file, field=path or "(value)",
                         fix=f"give a number of at most {MAX_MAGNITUDE:g} in magnitude")


def check_shapes(raw: Mapping[str, Any], file: str | None) -> None:
    """Sections the loader walks itself have the shape it needs (the schema checks the rest)."""
    demand = raw.get("demand")
    if isinstance(demand, Mapping) and demand.get("file") is not None \
            and not isinstance(demand["file"], str):
        raise InputError(f"{demand['file']!r} is not a file name", file=file, field="demand.file",
                         fix="give the demand CSV's path as text, e.g. file: demand.csv")
    recipes = raw.get("recipes")
    if recipes is not None and not isinstance(recipes, list):
        raise InputError("must be a list of recipe sources", file=file, field="recipes",
                         fix="write e.g. recipes: [{card: erythroid-cb-giarratana}]")
    for i, src in enumerate(recipes or []):
        if not isinstance(src, Mapping):
            raise InputError(f"{src!r} is not a recipe source", file=file, field=f"recipes.{i}",
                             fix="give a mapping with 'card:' (a yield card) or 'table:' (a CSV)")
        for key in ("card", "table"):
            if src.get(key) is not None and not isinstance(src[key], str):
                raise InputError(f"{src[key]!r} is not a name", file=file,
                                 field=f"recipes.{i}.{key}", fix="give the name or path as text")


def check_meta(named: Any, combos: Any, file: str | None) -> None:
    """``overrides:`` maps names to mappings of changes; ``scenarios:`` maps names to an override
    name or a list of them, each naming an existing override."""
    if not isinstance(named, Mapping):
        raise InputError("must be a mapping of named overrides", file=file, field="overrides",
                         fix="write e.g. overrides: {high-demand: {demand.scale: 1.5}}")
    if not isinstance(combos, Mapping):
        raise InputError("must be a mapping of named scenarios", file=file, field="scenarios",
                         fix="write e.g. scenarios: {stress: [high-demand, one-reactor]}")
    for name, changes in named.items():
        if not isinstance(changes, Mapping) or not changes:
            raise InputError(f"{changes!r} is not a set of changes", file=file,
                             field=f"overrides.{name}",
                             fix="give a mapping of dotted paths to values, e.g. {demand.scale: 2}")
    for name, entry in combos.items():
        names = [entry] if isinstance(entry, str) else entry
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise InputError(f"{entry!r} is not a list of override names", file=file,
                             field=f"scenarios.{name}",
                             fix="give a list of names defined under 'overrides:'")
        unknown = [n for n in names if n not in named]
        if unknown:
            raise InputError(f"uses unknown override {unknown[0]!r}", file=file,
                             field=f"scenarios.{name}",
                             fix=f"define it under 'overrides:' or use one of {sorted(named)}")
