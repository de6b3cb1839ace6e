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
            if isinstance(node, float) and math.isnan(node) and _is_table_cell(path):
                continue
            _check_number(node, path, file)


def _is_table_cell(path: str) -> bool:
    """A cell of a hand-made recipe table (``recipes.<i>.rows.<j>.<column>``): NaN there is an
    empty CSV cell, i.e. "not given" (e.g. ``enucleation`` of a platelet recipe), not a bad number."""
    parts = path.split(".")
    return len(parts) == 5 and parts[0] == "recipes" and parts[2] == "rows"


def _check_number(value: float, path: str, file: str | None) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"{value} is not a finite number"
        raise InputError(msg, file=file, field=path or "(value)",
                         fix=f"give a finite number (at most {MAX_MAGNITUDE:g} in magnitude)")
    if abs(value) > MAX_MAGNITUDE:
        msg = f"{value:g} is too large"
        raise InputError(msg, file=file, field=path or "(value)",
                         fix=f"give a number of at most {MAX_MAGNITUDE:g} in magnitude")


def check_shapes(raw: Mapping[str, Any], file: str | None) -> None:
    """Sections the loader walks itself have the shape it needs (the schema checks the rest)."""
    demand = raw.get("demand")
    if isinstance(demand, Mapping) and demand.get("file") is not None \
            and not isinstance(demand["file"], str):
        msg = f"{demand['file']!r} is not a file name"
        raise InputError(msg, file=file, field="demand.file",
                         fix="give the demand CSV's path as text, e.g. file: demand.csv")
    recipes = raw.get("recipes")
    if recipes is not None and not isinstance(recipes, list):
        msg = "must be a list of recipe sources"
        raise InputError(msg, file=file, field="recipes",
                         fix="write e.g. recipes: [{card: erythroid-cb-giarratana}]")
    for i, src in enumerate(recipes or []):
        if not isinstance(src, Mapping):
            msg = f"{src!r} is not a recipe source"
            raise InputError(msg, file=file, field=f"recipes.{i}",
                             fix="give a mapping with 'card:' (a yield card) or 'table:' (a CSV)")
        for key in ("card", "table"):
            if src.get(key) is not None and not isinstance(src[key], str):
                msg = f"{src[key]!r} is not a name"
                raise InputError(msg, file=file,
                                 field=f"recipes.{i}.{key}", fix="give the name or path as text")


def check_meta(named: Any, combos: Any, file: str | None) -> None:
    """``overrides:`` maps names to mappings of changes; ``scenarios:`` maps names to an override
    name or a list of them, each naming an existing override."""
    if not isinstance(named, Mapping):
        msg = "must be a mapping of named overrides"
        raise InputError(msg, file=file, field="overrides",
                         fix="write e.g. overrides: {high-demand: {demand.scale: 1.5}}")
    if not isinstance(combos, Mapping):
        msg = "must be a mapping of named scenarios"
        raise InputError(msg, file=file, field="scenarios",
                         fix="write e.g. scenarios: {stress: [high-demand, one-reactor]}")
    for name, changes in named.items():
        if not isinstance(changes, Mapping) or not changes:
            msg = f"{changes!r} is not a set of changes"
            raise InputError(msg, file=file,
                             field=f"overrides.{name}",
                             fix="give a mapping of dotted paths to values, e.g. {demand.scale: 2}")
    for name, entry in combos.items():
        names = [entry] if isinstance(entry, str) else entry
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            msg = f"{entry!r} is not a list of override names"
            raise InputError(msg, file=file,
                             field=f"scenarios.{name}",
                             fix="give a list of names defined under 'overrides:'")
        unknown = [n for n in names if n not in named]
        if unknown:
            msg = f"uses unknown override {unknown[0]!r}"
            raise InputError(msg, file=file,
                             field=f"scenarios.{name}",
                             fix=f"define it under 'overrides:' or use one of {sorted(named)}")
