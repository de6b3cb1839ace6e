"""The Scenario page's editors: one function per tab, each returning what it edits (parsed) and
the problems of its cells, checked as they are typed (see :mod:`bioplan.app.cells`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st
import ui
from pydantic import BaseModel

from bioplan.app import cells, tables
from bioplan.app.fields import field_spec
from bioplan.app.problems import FieldProblem
from bioplan.scenario.schema import Demand, Horizon, Labour, Media

cc = st.column_config

TABS = {
    "Demand": ("demand",),
    "Bioreactor fleet": ("reactors",),
    "Prices & labour": ("media", "labour"),
    "Starting material": ("sources",),
    "Recipe options": ("recipes",),
    "Products & horizon": ("products", "horizon", "solver"),
}
"""Tab titles and the scenario sections each one edits (problems are shown on their tab)."""


@dataclass
class Edits:
    """What the editors hold: parsed tables, dotted scalars and the cells' problems."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)


def tab_of(problem: FieldProblem) -> str | None:
    return next((t for t, sections in TABS.items() if problem.section in sections), None)


def show(problems: list[FieldProblem]) -> None:
    """Problems right below the editor they concern."""
    for p in problems:
        st.error(f"**{p.field}** — {p.message}", icon=":material/error:")


def _editor(name: str, frame: pd.DataFrame, v: int, specs: list[Any], section: str,
            edits: Edits, row_path: str | None = None, target: str | None = None,
            **kwargs: Any) -> None:
    shown = st.data_editor(cells.text_frame(frame, specs), key=f"ed_{name}_{v}", width="stretch",
                           **kwargs)
    parsed, problems = cells.parse_frame(shown, specs, section, row_path)
    edits.frames[target or name] = parsed
    edits.problems += problems
    show(problems)


def demand_tab(raw: dict[str, Any], scn: Any, v: int, num_at: Any, edits: Edits) -> None:
    c1, c2 = st.columns(2)
    with c1:
        edits.scalars["demand.scale"] = ui.number_for(
            field_spec(Demand, "scale"), num_at("demand.scale", scn.demand.scale),
            f"demand_scale_{v}", prefix="demand")
    edits.scalars["demand.granularity"] = c2.selectbox(
        "Granularity", ["day", "week"],
        index=1 if tables.raw_value(raw, "demand.granularity") == "week" else 0,
        key=f"demand_granularity_{v}", help=Demand.model_fields["granularity"].description)
    _editor("demand", tables.demand_frame(raw), v, [tables.DEMAND_UNITS], "demand", edits,
            row_path="records.{row}", num_rows="dynamic", height=320, hide_index=True,
            column_config={
                "date": cc.DateColumn("date", required=True, format="YYYY-MM-DD"),
                "product": cc.SelectboxColumn("product", options=list(scn.products), required=True),
                "units": ui.column_for(tables.DEMAND_UNITS)})


def fleet_tab(raw: dict[str, Any], v: int, edits: Edits) -> None:
    st.caption("Owned units are always there (their capital cost is charged); up to *max "
               "additional* more may be bought or rented.")
    _editor("reactors", tables.reactors_frame(raw), v, tables.REACTOR_FIELDS, "reactors", edits,
            num_rows="dynamic", column_config=ui.columns_for(tables.REACTOR_FIELDS))
    st.markdown("**Maintenance windows** (a unit of the type is unavailable)")
    maint = [f for f in tables.MAINTENANCE_FIELDS if f.numeric]
    _editor("maintenance", tables.maintenance_frame(raw), v, maint, "reactors", edits,
            row_path="{reactor_type}.maintenance.{row}", num_rows="dynamic", hide_index=True,
            column_config={"reactor_type": cc.SelectboxColumn(
                "reactor type", options=list(raw.get("reactors", {})), required=True),
                "start_date": cc.DateColumn("start date", required=True, format="YYYY-MM-DD"),
                **ui.columns_for(maint)})


def _numbers(edits: Edits, num_at: Any, v: int,
             items: list[tuple[str, type[BaseModel], float, str, bool]]) -> None:
    """One number input per ``(dotted path, schema model, fallback, label prefix, 0 = unlimited)``,
    side by side; with the last flag set, 0 is stored as None (the schema's "unlimited")."""
    for col, (path, model, fallback, prefix, unlimited) in zip(st.columns(len(items)), items,
                                                               strict=True):
        with col:
            value = ui.number_for(field_spec(model, path.rsplit(".", 1)[1]), num_at(path, fallback),
                                  f"{path.replace('.', '_')}_{v}", prefix=prefix,
                                  note="(0 = unlimited)" if unlimited else "")
        edits.scalars[path] = (value or None) if unlimited else value


def prices_tab(raw: dict[str, Any], scn: Any, v: int, num_at: Any, edits: Edits) -> None:
    _numbers(edits, num_at, v, [
        ("media.basal_price_usd_per_L", Media, scn.media.basal_price_usd_per_L, "medium:", False),
        ("media.prep_capacity_L_per_day", Media, 0.0, "medium:", True),
        ("labour.cost_usd_per_operation", Labour, scn.labour.cost_usd_per_operation, "labour", False),
        ("labour.operations_per_day", Labour, 0, "labour capacity:", True),
    ])
    _editor("cytokines", tables.cytokines_frame(raw), v, [tables.PRICE], "media", edits,
            row_path="cytokine_price.{cytokine}", num_rows="dynamic", hide_index=True,
            column_config={"unit": cc.SelectboxColumn("unit", options=["mg", "kU"], required=True),
                           "price_usd": ui.column_for(tables.PRICE)})


def sources_tab(raw: dict[str, Any], v: int, edits: Edits) -> None:
    _editor("sources", tables.sources_frame(raw), v, tables.SOURCE_FIELDS, "sources", edits,
            num_rows="dynamic", column_config=ui.columns_for(tables.SOURCE_FIELDS))


def recipes_tab(raw: dict[str, Any], v: int, edits: Edits) -> None:
    st.caption("Candidate settings per yield card, as `<phase>.<factor>`, `<phase>.days` or "
               "`<phase>.density_setpoint` with comma-separated values; the optimiser picks "
               "among the full factorial. An empty setting keeps only the default protocol.")
    _editor("recipes", tables.recipe_options_frame(raw), v, [], "recipes", edits,
            target="recipe_options", num_rows="dynamic", hide_index=True,
            column_config={"values": cc.TextColumn("values", help="comma-separated")})


def products_tab(raw: dict[str, Any], scn: Any, v: int, num_at: Any, edits: Edits) -> None:
    c1, c2 = st.columns(2)
    start = c1.date_input("Horizon start", key=f"h_start_{v}",
                          value=tables.as_date(tables.raw_value(raw, "horizon.start_date"),
                                               scn.horizon.start_date),
                          help=Horizon.model_fields["start_date"].description)
    edits.scalars["horizon.start_date"] = start.isoformat() if hasattr(start, "isoformat") else start
    with c2:
        edits.scalars["horizon.days"] = int(ui.number_for(
            field_spec(Horizon, "days"), int(num_at("horizon.days", scn.horizon.days)),
            f"h_days_{v}", prefix="horizon"))
    _editor("products", tables.products_frame(raw), v, tables.PRODUCT_FIELDS, "products", edits,
            column_config=ui.columns_for(tables.PRODUCT_FIELDS))
