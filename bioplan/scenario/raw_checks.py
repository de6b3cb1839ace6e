"""Checks on a raw scenario mapping (as read from YAML) before the schema validates it.

They catch what the schema cannot see or what would fail before it runs: non-finite or absurdly
large numbers anywhere, sections of the wrong shape that the loader walks (``recipes``,
``demand.file``, ``overrides``, ``scenarios``), and unknown fields inside a named override, which
are reported at load time even when the override is not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bioplan.errors import InputError
from bioplan.input_errors import MAX_MAGNITUDE, check_numbers

__all__ = ["MAX_MAGNITUDE", "check_meta", "check_numbers", "check_shapes"]

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
