"""Read scenario files (YAML + CSV tables) into a validated :class:`Scenario`.

A scenario file may carry, besides the scenario itself, Calliope-style ``overrides:`` (named sets of
changes, as dotted paths or nested mappings) and ``scenarios:`` (named combinations of overrides)::

    overrides:
      high-demand: {demand.scale: 1.5}
      one-reactor: {reactors.stirred-200L.units_owned: 1}
    scenarios:
      stress: [high-demand, one-reactor]

Every problem becomes one :class:`~bioplan.errors.InputError` naming the file, the field and the fix.
"""

from __future__ import annotations

import copy
import difflib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bioplan.errors import InputError
from bioplan.input_errors import validation_error
from bioplan.paths import scenarios_dir
from bioplan.scenario.csv_files import read_demand_csv, read_recipe_csv
from bioplan.scenario.raw_checks import check_meta, check_numbers, check_shapes
from bioplan.scenario.schema import Scenario
from bioplan.scenario.tables import resolve_card_reference
from bioplan.yaml_files import parse_yaml, read_text_file, read_yaml_mapping

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "default"
"""Name of the built-in default scenario (``models/scenarios/default.yaml``)."""

_META_KEYS = ("overrides", "scenarios")


def list_scenarios() -> list[str]:
    """Names of the shipped example scenarios (files in ``models/scenarios/`` with a horizon)."""
    names = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        data = parse_yaml(read_text_file(path, kind="scenario", example=path.name), str(path))
        if isinstance(data, dict) and "horizon" in data:
            names.append(path.stem)
    return names


def resolve_scenario_path(path: str | Path | None) -> Path:
    """A file path, the name of a shipped scenario, or None for the built-in default."""
    if path is None:
        return scenarios_dir() / f"{DEFAULT_SCENARIO}.yaml"
    candidate = Path(path)
    if candidate.exists():
        return candidate
    shipped = scenarios_dir() / f"{path}.yaml"
    if shipped.exists():
        return shipped
    msg = "no such scenario file or shipped scenario"
    raise InputError(
        msg,
        file=str(path),
        fix=f"give a YAML path or one of the shipped scenarios: {', '.join(list_scenarios())}",
    )


def load_scenario(
    path: str | Path | None = None,
    scenario: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """Load, override and validate a scenario.

    Parameters
    ----------
    path : scenario YAML file, name of a shipped scenario, or None for the built-in default.
    scenario : name of an entry under the file's ``scenarios:`` (a list of override names).
    overrides : extra changes as dotted paths, e.g. ``{"demand.scale": 1.2}``, applied last.
    """
    file = resolve_scenario_path(path)
    data = read_yaml(file)
    return scenario_from_dict(data, base_dir=file.parent, file=str(file), scenario=scenario,
                              overrides=overrides)


def read_yaml(file: Path) -> dict[str, Any]:
    """The top-level mapping of a scenario YAML file."""
    return read_yaml_mapping(file, kind="scenario", example="models/scenarios/default.yaml")


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    file: str | None = None,
    scenario: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """Validate a raw scenario mapping (as read from YAML, or edited in the dashboard).

    CSV files it references (``demand.file``, ``recipes[].table``) are read relative to ``base_dir``
    unless their records/rows are already present.
    """
    raw = copy.deepcopy(dict(data))
    named = raw.pop("overrides", None)
    combos = raw.pop("scenarios", None)
    named = {} if named is None else named
    combos = {} if combos is None else combos
    check_meta(named, combos, file)
    check_numbers(raw, file)
    check_numbers(named, file, prefix="overrides")
    if overrides:
        check_numbers(dict(overrides), file, prefix="overrides")
    used: list[str] = []
    if scenario is not None:
        used = _override_names(scenario, combos, named, file)
        for name in used:
            apply_overrides(raw, named[name], file=file, label=f"overrides.{name}")
    if overrides:
        apply_overrides(raw, overrides, file=file, label="overrides")
    check_shapes(raw, file)
    _read_tables(raw, base_dir, file)
    validated = _validate(raw, file, None)
    _check_unused_overrides(raw, {k: v for k, v in named.items() if k not in used}, file)
    _check_recipes(validated, file)
    return validated


def _validate(raw: dict[str, Any], file: str | None, override: str | None) -> Scenario:
    try:
        validated = Scenario.model_validate(raw)
    except ValidationError as err:
        problem = validation_error(err, file, Scenario)
        if override is None:
            raise problem from None
        where = f"overrides.{override}" + (f" -> {problem.field}" if problem.field else "")
        raise InputError(problem.message, file=file, field=where, fix=problem.fix) from None
    # numbers given as text ("inf", "1e308") pass the schema's float fields: check the result
    check_numbers(validated.model_dump(exclude={"recipes": {"__all__": {"rows"}}}), file,
                  prefix=f"overrides.{override}" if override is not None else "")
    return validated


def _check_unused_overrides(base: dict[str, Any], named: Mapping[str, Any],
                            file: str | None) -> None:
    """Each named override, applied alone to the (validated) base, gives a valid scenario: a typo
    inside an override is reported now, not on the night it is first used."""
    for name, changes in named.items():
        trial = copy.deepcopy(base)
        apply_overrides(trial, changes, file=file, label=f"overrides.{name}")
        check_shapes(trial, file)
        _validate(trial, file, str(name))


def _check_recipes(scenario: Scenario, file: str | None) -> None:
    """Evaluate the recipe table now, so an unknown card or an unfed recipe is reported against
    the scenario file at load time rather than deep inside a solve."""
    try:
        table = scenario.recipe_table()
    except InputError as err:
        if err.file is not None:
            raise
        raise err.located(file=file) from None
    _check_extrapolation(scenario, table, file)


def _check_extrapolation(scenario: Scenario, table: Any, file: str | None) -> None:
    """Refuse recipes outside their card's validity domain unless ``allow_extrapolation``."""
    if "extrapolates" not in table.columns:
        return
    bad = table[table["extrapolates"].fillna(False).astype(bool)]
    if bad.empty:
        return
    if scenario.allow_extrapolation:
        log.warning("%d offered recipe(s) extrapolate beyond their card's validity domain: %s",
                    len(bad), ", ".join(map(str, bad.index[:10])))
        return
    first = str(bad["extrapolation"].iloc[0])
    msg = f"recipe {bad.index[0]} ({len(bad)} recipe(s) in all) extrapolates: {first}"
    raise InputError(
        msg,
        file=file,
        field="recipes",
        fix="keep the variants inside the card's validity domain (bioplan simulate CARD warns, "
        "recipe_table column 'extrapolation' says why), or set allow_extrapolation: true",
    )


# ---- overrides ---------------------------------------------------------------------------


def _override_names(
    scenario: str, combos: Mapping[str, Any], named: Mapping[str, Any], file: str | None
) -> list[str]:
    if scenario in combos:
        entry = combos[scenario]
        names = [entry] if isinstance(entry, str) else list(entry)
    elif scenario in named:
        names = [scenario]
    else:
        choices = sorted({*combos, *named})
        msg = f"no scenario or override named {scenario!r}"
        raise InputError(
            msg,
            file=file,
            field="scenarios",
            fix=f"use one of: {', '.join(choices)}" if choices else "define it under 'scenarios:'",
        )
    for name in names:
        if name not in named:
            msg = f"scenario {scenario!r} uses unknown override {name!r}"
            raise InputError(msg, file=file,
                             field=f"scenarios.{scenario}",
                             fix=f"define it under 'overrides:' or use one of {sorted(named)}")
    return names


def _flatten(changes: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in changes.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def apply_overrides(
    data: dict[str, Any], changes: Mapping[str, Any], *, file: str | None = None,
    label: str = "overrides",
) -> None:
    """Set each dotted path in ``changes`` (nested mappings are flattened) inside ``data``.

    List elements are addressed by index (``recipes.0.variants``). The last key may be new; every
    key before it must exist, so a typo in a path is reported rather than silently added.
    """
    for path, value in _flatten(changes).items():
        keys = path.split(".")
        node: Any = data
        for depth, key in enumerate(keys[:-1]):
            node = _child(node, key, keys[: depth + 1], file, label)
        last = keys[-1]
        if isinstance(node, list):
            node[_index(node, last, keys, file, label)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            msg = f"cannot set {path!r}: {'.'.join(keys[:-1])} is a value, not a section"
            raise InputError(msg,
                             file=file, field=label, fix="check the dotted path")


def _child(node: Any, key: str, trail: list[str], file: str | None, label: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, key, trail, file, label)]
    if isinstance(node, dict) and key in node:
        return node[key]
    options = list(node) if isinstance(node, dict) else []
    close = difflib.get_close_matches(key, [str(o) for o in options], n=1)
    hint = f"did you mean {'.'.join([*trail[:-1], close[0]])!r}?" if close else (
        f"valid keys here: {', '.join(map(str, options))}" if options else "check the dotted path")
    msg = f"override path {'.'.join(trail)!r} does not exist"
    raise InputError(msg, file=file, field=label,
                     fix=hint)


def _index(node: list[Any], key: str, trail: list[str], file: str | None, label: str) -> int:
    if key.isdigit() and int(key) < len(node):
        return int(key)
    msg = f"{'.'.join(trail)!r}: list index {key!r} out of range (0..{len(node) - 1})"
    raise InputError(msg,
                     file=file, field=label, fix="address list items by their 0-based position")


# ---- CSV tables --------------------------------------------------------------------------


def _read_tables(raw: dict[str, Any], base_dir: Path | None, file: str | None) -> None:
    demand = raw.get("demand")
    if isinstance(demand, dict) and isinstance(demand.get("file"), str) and demand["file"] \
            and not demand.get("records"):
        path = _table_path(demand["file"], base_dir, file, "demand.file")
        demand["records"], granularity = read_demand_csv(path)
        given = demand.setdefault("granularity", granularity)
        if given != granularity:
            column = "week" if granularity == "week" else "date"
            msg = (
                f"granularity {given!r} does not match the demand CSV (its {column!r} column "
                f"means {'weekly' if granularity == 'week' else 'daily'} records)"
            )
            raise InputError(
                msg, file=file, field="demand.granularity",
                fix="drop 'granularity' (the CSV's date or week column sets it)")
    recipes = raw.get("recipes")
    for i, src in enumerate(recipes if isinstance(recipes, list) else []):
        if not isinstance(src, dict):
            continue
        if isinstance(src.get("table"), str) and src["table"] and not src.get("rows"):
            path = _table_path(src["table"], base_dir, file, f"recipes.{i}.table")
            src["rows"] = read_recipe_csv(path)
        if isinstance(src.get("card"), str):
            src["card"] = resolve_card_reference(src["card"], base_dir)


def _table_path(name: str, base_dir: Path | None, file: str | None, field: str) -> Path:
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists() or path.is_dir():  # a device such as /dev/zero is read, up to the cap
        what = "is a folder" if path.is_dir() else "not found"
        msg = f"table {name!r} {what} (looked for {path})"
        raise InputError(msg, file=file, field=field,
                         fix="give the CSV file's path relative to the scenario file")
    return path



