"""Edited tables back into a raw scenario mapping (validate the result with
:func:`validate_raw`, the CLI's own checks). Nothing here mutates its inputs."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.app.fields import FieldSpec
from bioplan.app.tables import PRODUCT_FIELDS, REACTOR_FIELDS, SOURCE_FIELDS, split_names

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


def cell(value: Any) -> Any:
    """Cell value to a plain Python value; empty cells become None."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _float_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # validation reports it against the field


def _named(name: Any) -> str | None:
    text = str(name).strip()
    return None if not text or text == "nan" else text


def entities(old: Mapping[str, Any], frame: pd.DataFrame, specs: list[FieldSpec]) -> dict[str, Any]:
    """Rows of an entity table (index = name) as a section mapping; fields the table does not
    show (``maintenance``) are kept from ``old``, empty cells of fields not set before are left
    out (the schema default applies)."""
    out: dict[str, Any] = {}
    for name, row in frame.iterrows():
        key = _named(name)
        if key is None:
            continue  # an empty row added in the editor
        before = old.get(key, {})
        spec = dict(before)
        for field in specs:
            value = row[field.name]
            spec[field.name] = split_names(value) if field.name in ("vessel_classes", "cards") \
                else cell(value)
        out[key] = {k: v for k, v in spec.items() if v is not None or k in before}
    return out


def demand_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Demand rows as records (rows left wholly empty in the editor are skipped)."""
    records = []
    for row in frame.to_dict("records"):
        values = {c: cell(row.get(c)) for c in ("date", "product", "units")}
        if all(v in (None, "") for v in values.values()):
            continue
        date = values["date"]
        records.append({"date": str(date) if date is not None else None,
                        "product": values["product"], "units": values["units"]})
    return records


def cytokine_prices(frame: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """Price rows as the two media mappings (per mg, per kU)."""
    per_mg: dict[str, Any] = {}
    per_ku: dict[str, Any] = {}
    for row in frame.to_dict("records"):
        name = cell(row.get("cytokine"))
        if not name:
            continue
        target = per_ku if str(row.get("unit")).strip() == "kU" else per_mg
        target[str(name)] = cell(row.get("price_usd"))
    return per_mg, per_ku


def recipe_sources(frame: pd.DataFrame, old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recipe-option rows as recipe sources (cards with variants); hand-made tables are kept."""
    by_card: dict[str, dict[str, list[Any]]] = {}
    for row in frame.to_dict("records"):
        card = cell(row.get("card"))
        if not card:
            continue
        variants = by_card.setdefault(str(card), {})
        setting = str(cell(row.get("setting")) or "").strip()
        if setting:
            variants[setting] = [_float_or_text(v) for v in split_names(row.get("values"))]
    tables = [src for src in old if src.get("card") is None]
    return [{"card": c, "variants": v} for c, v in by_card.items()] + tables


def maintenance_windows(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Maintenance rows grouped by reactor type (rows without a type are skipped)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in frame.to_dict("records"):
        name = _named(cell(row.get("reactor_type")))
        if name is None:
            continue
        start = cell(row.get("start_date"))
        out.setdefault(name, []).append({
            "unit": cell(row.get("unit")), "start_date": str(start) if start is not None else None,
            "days": cell(row.get("days"))})
    return out


def set_path(out: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in a nested mapping (sections created as needed)."""
    node: Any = out
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def _set_maintenance(out: dict[str, Any], windows: dict[str, list[dict[str, Any]]]) -> None:
    for name, spec in out.get("reactors", {}).items():
        spec["maintenance"] = windows.pop(name, [])
    for name, rows in windows.items():  # a window of an unknown type: validation names it
        out.setdefault("reactors", {})[name] = {"maintenance": rows}


def apply_tables(
    raw: Mapping[str, Any],
    *,
    demand: pd.DataFrame | None = None,
    reactors: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    sources: pd.DataFrame | None = None,
    cytokines: pd.DataFrame | None = None,
    recipe_options: pd.DataFrame | None = None,
    maintenance: pd.DataFrame | None = None,
    scalars: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A new raw mapping with the edited tables (and dotted ``scalars``) written in; ``raw`` is
    untouched. Validate the result with :func:`validate_raw`."""
    out = copy.deepcopy(dict(raw))
    if demand is not None:
        records = demand_records(demand)
        section = out.setdefault("demand", {})
        if records != section.get("records"):
            section["file"] = None  # the records no longer come from that CSV
        section["records"] = records
    for name, frame, specs in (("reactors", reactors, REACTOR_FIELDS),
                               ("products", products, PRODUCT_FIELDS),
                               ("sources", sources, SOURCE_FIELDS)):
        if frame is not None:
            out[name] = entities(out.get(name, {}), frame, specs)
    if maintenance is not None:
        _set_maintenance(out, maintenance_windows(maintenance))
    if cytokines is not None:
        media = out.setdefault("media", {})
        media["cytokine_price_usd_per_mg"], media["cytokine_price_usd_per_kU"] = cytokine_prices(cytokines)
    if recipe_options is not None:
        out["recipes"] = recipe_sources(recipe_options, out.get("recipes", []))
    for path, value in (scalars or {}).items():
        set_path(out, path, value)
    return out


def validate_raw(raw: Mapping[str, Any]) -> Scenario:
    """Validate an edited scenario mapping with the CLI's checks (schema, cross-references,
    recipe tables); raises :class:`InputError` (possibly listing several field problems)."""
    from bioplan.scenario import scenario_from_dict

    return scenario_from_dict(raw)
