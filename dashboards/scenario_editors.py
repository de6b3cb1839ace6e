"""The Scenario page's editors: one function per tab, each returning what it edits (parsed) and
the problems of its cells, checked as they are typed (see :mod:`bioplan.app.cells`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st
import ui

from bioplan.app import cells, tables
from bioplan.app.fields import field_spec
from bioplan.app.problems import FieldProblem
from bioplan.scenario.schema import Demand, Horizon, Labour

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


def prices_tab(raw: dict[str, Any], scn: Any, v: int, num_at: Any, edits: Edits) -> None:
    media = {f.name: f for f in tables.MEDIA_FIELDS}
    labour = {f.name: f for f in tables.LABOUR_FIELDS}
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        edits.scalars["media.basal_price_usd_per_L"] = ui.number_for(
            media["basal_price_usd_per_L"],
            num_at("media.basal_price_usd_per_L", scn.media.basal_price_usd_per_L),
            f"basal_{v}", prefix="medium:")
    with c2:
        prep = ui.number_for(media["prep_capacity_L_per_day"],
                             num_at("media.prep_capacity_L_per_day", 0.0), f"prep_{v}",
                             prefix="medium:", note="(0 = unlimited)")
        edits.scalars["media.prep_capacity_L_per_day"] = prep or None
    with c3:
        edits.scalars["labour.cost_usd_per_operation"] = ui.number_for(
            labour["cost_usd_per_operation"],
            num_at("labour.cost_usd_per_operation", scn.labour.cost_usd_per_operation),
            f"labour_{v}", prefix="labour")
    with c4:
        ops = ui.number_for(field_spec(Labour, "operations_per_day"),
                            num_at("labour.operations_per_day", 0), f"labour_ops_{v}",
                            prefix="labour capacity:", note="(0 = unlimited)")
        edits.scalars["labour.operations_per_day"] = int(ops) or None
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
