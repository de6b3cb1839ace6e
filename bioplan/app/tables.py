"""The scenario as small editable tables (pandas), one per section, columns from the schema.

A scenario is edited as a raw mapping (``Scenario.model_dump(mode="json")``); these functions
split it into tables and never mutate their input. Column names are the schema's field names;
:mod:`bioplan.app.fields` gives their labels, units and bounds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel

from bioplan.app.fields import FieldSpec, field_spec, scalar_fields
from bioplan.scenario.schema import (
    DemandRecord,
    Labour,
    Maintenance,
    Media,
    Product,
    ReactorType,
    Source,
)

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

REACTOR_FIELDS = scalar_fields(ReactorType)
PRODUCT_FIELDS = scalar_fields(Product)
SOURCE_FIELDS = scalar_fields(Source)
MAINTENANCE_FIELDS = scalar_fields(Maintenance)
MEDIA_FIELDS = scalar_fields(Media)
LABOUR_FIELDS = scalar_fields(Labour)
DEMAND_UNITS = field_spec(DemandRecord, "units")
PRICE = FieldSpec(
    name="price_usd", label="price", unit="USD per mg or kU",
    help="Price of the cytokine per mg (sold by mass) or per kU (sold by activity, EPO) [USD].",
    minimum=0.0, maximum=None, exclusive_minimum=False, integer=False, numeric=True,
    optional=False, required=True, choices=None)
"""Cytokine prices are mappings in the schema (``media.cytokine_price_usd_per_mg``); one row each."""
REACTOR_COLUMNS = [f.name for f in REACTOR_FIELDS]
PRODUCT_COLUMNS = [f.name for f in PRODUCT_FIELDS]
SOURCE_COLUMNS = [f.name for f in SOURCE_FIELDS]


def scenario_raw(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a plain JSON-able mapping (what ``scenario_from_dict`` accepts)."""
    return json.loads(scenario.model_dump_json())


def raw_value(raw: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a raw scenario mapping (None when absent)."""
    node: Any = raw
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def as_date(value: Any, fallback: dt.date) -> dt.date:
    """An ISO date string (or date) as a date; ``fallback`` when missing or invalid."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return fallback


def join_names(values: Any) -> str:
    """A list of names as the comma-separated text a cell shows."""
    return ", ".join(str(v) for v in values or [])


def split_names(text: Any) -> list[str]:
    """Comma-separated cell text back to a list of names."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    return [part.strip() for part in str(text).split(",") if part.strip()]


def entity_frame(section: Mapping[str, Any], specs: list[FieldSpec], index: str) -> pd.DataFrame:
    """One row per named entry of a section (reactor types, products, sources), one column per
    scalar field of its schema model; lists of names as comma-separated text."""
    rows = []
    for name, spec in section.items():
        row: dict[str, Any] = {index: name}
        for field in specs:
            value = spec.get(field.name)
            row[field.name] = join_names(value) if isinstance(value, list) else value
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[index, *(f.name for f in specs)]).set_index(index)
    for field in specs:  # floats as floats (empty = NaN), unless a draft holds a typed text
        if field.numeric and not field.integer and \
                not any(isinstance(v, str) for v in frame[field.name]):
            frame[field.name] = frame[field.name].astype(float)
    return frame


def reactors_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """One row per reactor type (index ``reactor_type``); ``vessel_classes`` comma-separated."""
    return entity_frame(raw.get("reactors", {}), REACTOR_FIELDS, "reactor_type")


def products_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """One row per product (index ``product``)."""
    return entity_frame(raw.get("products", {}), PRODUCT_FIELDS, "product")


def sources_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Starting material, one row per source (index ``source``); ``cards`` comma-separated."""
    return entity_frame(raw.get("sources", {}), SOURCE_FIELDS, "source")


def demand_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Demand records: columns ``date`` (datetime.date), ``product``, ``units``."""
    records = raw.get("demand", {}).get("records", [])
    frame = pd.DataFrame(records, columns=["date", "product", "units"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["units"] = frame["units"].astype(float)
    return frame


def cytokines_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Cytokine prices: columns ``cytokine``, ``unit`` (``mg`` or ``kU``), ``price_usd``."""
    media = raw.get("media", {})
    rows = [{"cytokine": k, "unit": "mg", "price_usd": v}
            for k, v in media.get("cytokine_price_usd_per_mg", {}).items()]
    rows += [{"cytokine": k, "unit": "kU", "price_usd": v}
             for k, v in media.get("cytokine_price_usd_per_kU", {}).items()]
    return pd.DataFrame(rows, columns=["cytokine", "unit", "price_usd"])


def recipe_options_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Recipe options: one row per (card, setting) with candidate ``values`` comma-separated.

    Cards without variants get one row with an empty ``setting`` (the default protocol only).
    Hand-made recipe tables are not editable here (they are kept as they are).
    """
    rows = []
    for src in raw.get("recipes", []):
        if src.get("card") is None:
            continue
        variants = src.get("variants") or {}
        if not variants:
            rows.append({"card": src["card"], "setting": "", "values": ""})
        for key, values in variants.items():
            rows.append({"card": src["card"], "setting": key, "values": join_names(values)})
    return pd.DataFrame(rows, columns=["card", "setting", "values"])


def maintenance_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Maintenance windows of every reactor type: columns ``reactor_type``, ``unit``,
    ``start_date`` (datetime.date), ``days``."""
    rows = [{"reactor_type": name, **window}
            for name, spec in raw.get("reactors", {}).items()
            for window in spec.get("maintenance") or []]
    frame = pd.DataFrame(rows, columns=["reactor_type", *Maintenance.model_fields])
    frame["start_date"] = pd.to_datetime(frame["start_date"]).dt.date
    return frame


def model_of(section: str) -> type[BaseModel]:
    """The schema model of one row of a table section."""
    models: dict[str, type[BaseModel]] = {
        "reactors": ReactorType, "products": Product, "sources": Source,
        "maintenance": Maintenance, "media": Media, "labour": Labour}
    return models[section]
