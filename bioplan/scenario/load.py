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
import datetime as dt
import difflib
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from bioplan.errors import InputError
from bioplan.input_errors import validation_error
from bioplan.paths import scenarios_dir
from bioplan.scenario.schema import Scenario
from bioplan.scenario.tables import resolve_card_reference
from bioplan.yaml_files import read_yaml_mapping

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "default"
"""Name of the built-in default scenario (``models/scenarios/default.yaml``)."""

_META_KEYS = ("overrides", "scenarios")


def list_scenarios() -> list[str]:
    """Names of the shipped example scenarios (files in ``models/scenarios/`` with a horizon)."""
    names = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
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
    raise InputError(
        "no such scenario file or shipped scenario",
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
    named = raw.pop("overrides", None) or {}
    combos = raw.pop("scenarios", None) or {}
    if scenario is not None:
        for name in _override_names(scenario, combos, named, file):
            apply_overrides(raw, named[name], file=file, label=f"overrides.{name}")
    if overrides:
        apply_overrides(raw, overrides, file=file, label="overrides")
    _read_tables(raw, base_dir, file)
    try:
        validated = Scenario.model_validate(raw)
    except ValidationError as err:
        raise validation_error(err, file, Scenario) from None
    _check_recipes(validated, file)
    return validated


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
    raise InputError(
        f"recipe {bad.index[0]} ({len(bad)} recipe(s) in all) extrapolates: {first}",
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
        raise InputError(
            f"no scenario or override named {scenario!r}",
            file=file,
            field="scenarios",
            fix=f"use one of: {', '.join(choices)}" if choices else "define it under 'scenarios:'",
        )
    for name in names:
        if name not in named:
            raise InputError(f"scenario {scenario!r} uses unknown override {name!r}", file=file,
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
            raise InputError(f"cannot set {path!r}: {'.'.join(keys[:-1])} is a value, not a section",
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
    raise InputError(f"override path {'.'.join(trail)!r} does not exist", file=file, field=label,
                     fix=hint)


def _index(node: list[Any], key: str, trail: list[str], file: str | None, label: str) -> int:
    if key.isdigit() and int(key) < len(node):
        return int(key)
    raise InputError(f"{'.'.join(trail)!r}: list index {key!r} out of range (0..{len(node) - 1})",
                     file=file, field=label, fix="address list items by their 0-based position")


# ---- CSV tables --------------------------------------------------------------------------


def _read_tables(raw: dict[str, Any], base_dir: Path | None, file: str | None) -> None:
    demand = raw.get("demand")
    if isinstance(demand, dict) and demand.get("file") and not demand.get("records"):
        path = _table_path(demand["file"], base_dir, file, "demand.file")
        demand["records"], demand["granularity"] = read_demand_csv(path)
    for i, src in enumerate(raw.get("recipes") or []):
        if not isinstance(src, dict):
            continue
        if src.get("table") and not src.get("rows"):
            path = _table_path(src["table"], base_dir, file, f"recipes.{i}.table")
            src["rows"] = read_recipe_csv(path)
        if isinstance(src.get("card"), str):
            src["card"] = resolve_card_reference(src["card"], base_dir)


def _table_path(name: str, base_dir: Path | None, file: str | None, field: str) -> Path:
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise InputError(f"table {name!r} not found (looked for {path})", file=file, field=field,
                         fix="give the CSV path relative to the scenario file")
    return path


def read_demand_csv(path: Path | str | io.StringIO) -> tuple[list[dict[str, Any]], str]:
    """Demand rows from a CSV with columns ``date`` (daily) or ``week`` (first day of the week),
    ``product`` and ``units``. Returns the records and the granularity."""
    name = str(path) if not isinstance(path, io.StringIO) else "demand CSV"
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True, comment="#")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"cannot read demand CSV ({err})", file=name,
                         fix="save it as comma-separated text with a header row") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    date_col = "date" if "date" in frame.columns else "week" if "week" in frame.columns else None
    missing = [c for c in ("product", "units") if c not in frame.columns]
    if date_col is None or missing:
        need = (["date (or week)"] if date_col is None else []) + missing
        raise InputError(f"missing column(s) {', '.join(need)}", file=name, field=need[0],
                         fix="use the header: date,product,units (or week,product,units)")
    records = []
    for row_no, row in enumerate(frame.itertuples(index=False), start=2):
        raw_date = str(getattr(row, date_col)).strip()
        try:
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise InputError(f"row {row_no}: {raw_date!r} is not a date", file=name,
                             field=date_col, fix="write dates as YYYY-MM-DD, e.g. 2027-01-04") from None
        try:
            units = float(str(row.units))
        except ValueError:
            units = float("nan")
        if not units >= 0:
            raise InputError(f"row {row_no}: units {row.units!r} is not a number >= 0", file=name,
                             field="units", fix="give demand as a non-negative number of units")
        records.append({"date": date, "product": str(row.product).strip(), "units": units})
    return records, ("week" if date_col == "week" else "day")


def read_recipe_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of a hand-made recipe table (columns as ``bioplan.yields.recipe_table``)."""
    try:
        frame = pd.read_csv(path, comment="#", skipinitialspace=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"cannot read recipe CSV ({err})", file=str(path)) from None
    return [{str(k): _plain(v) for k, v in rec.items()} for rec in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars, so the scenario stays JSON-serialisable."""
    return value.item() if hasattr(value, "item") else value
