"""Scenario: load a bundled scenario or upload one, edit it in data editors, validate, download.

Edits are collected in a form and validated with the CLI's own checks when applied. A rejected
edit shows its problems beside the fields; the edits are kept as a draft (shown in the editors, also
after visiting other pages) until they are fixed or discarded, and every other page keeps using the
last valid scenario.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st
import ui

from bioplan.app import editing, files, tables
from bioplan.app.fields import field_spec
from bioplan.app.problems import FieldProblem, field_problems
from bioplan.errors import BioplanError
from bioplan.scenario.schema import Demand, Horizon

ss = st.session_state
st.title("Scenario")

# ---- load / upload ---------------------------------------------------------------------------------
with st.container(border=True):
    left, right = st.columns(2)
    with left:
        names = ui.bundled_scenarios()
        with st.form("load_bundled", border=False):
            choice = st.selectbox("Bundled scenario", names, key="bundled_choice",
                                  index=names.index("default") if "default" in names else 0)
            if st.form_submit_button("Load", icon=":material/folder_open:", key="load_bundled_btn") and choice:
                try:
                    ui.set_scenario(ui.load_bundled(choice), choice)
                    ss.edit_count += 1
                except BioplanError as err:
                    ss.scenario_problems = field_problems(err)
    with right:
        upload = st.file_uploader("…or upload a scenario (YAML, or zip of YAML + CSVs)",
                                  type=["yaml", "yml", "zip"], key="scenario_upload")
        if upload is not None and ss.get("last_upload") != upload.file_id:
            ss.last_upload = upload.file_id
            try:
                ui.set_scenario(files.load_upload(upload.name, upload.getvalue()), upload.name)
                ss.edit_count += 1
                ss.upload_error = None
            except BioplanError as err:
                ss.upload_error = err.describe()
        if ss.get("upload_error"):
            st.error(f"Upload rejected, the previous scenario is kept.\n\n{ss.upload_error}",
                     icon=":material/block:")

scn = ui.scenario()
# the editors show the rejected draft when there is one (kept across page changes), else the
# last valid scenario
draft = ss.get("scenario_draft")
raw = draft if draft is not None else tables.scenario_raw(scn)
problems: list[FieldProblem] = ss.scenario_problems


def num_at(path: str, fallback: float) -> float:
    """A number from the (draft) mapping at a dotted path; ``fallback`` when absent or invalid."""
    value = tables.raw_value(raw, path)
    try:
        return float(value) if value is not None else fallback
    except (TypeError, ValueError):
        return fallback
head, dl = st.columns([3, 1], vertical_alignment="bottom")
head.subheader(f"{ss.scenario_label}")
head.caption(scn.description or scn.name)
dl.download_button("Download scenario (YAML)", files.scenario_yaml(scn), key="dl_scenario",
                   file_name=f"{scn.name}.yaml", mime="application/x-yaml", icon=":material/download:")
if ss.get("flash"):
    st.success(ss.pop("flash"), icon=":material/check_circle:")
if problems:
    st.error(f"**{len(problems)} problem(s) in the last edit — not applied.** Plans still use the last "
             "valid scenario. Fix the fields marked below and apply again, or discard the edits.",
             icon=":material/warning:")


def show_problems(*sections: str) -> None:
    """Problems of these scenario sections, right beside their editors."""
    for p in problems:
        if p.section in sections:
            st.error(f"**{p.field}**: {p.message}", icon=":material/error:")


v = ss.edit_count  # editor keys change after an applied edit so editors restart from the new scenario
known = {"demand", "reactors", "media", "labour", "sources", "recipes", "products", "horizon", "solver"}
for p in problems:
    if p.section not in known:
        st.error(f"**{p.field or 'scenario'}**: {p.message}", icon=":material/error:")

# ---- editors ---------------------------------------------------------------------------------------
num = st.column_config.NumberColumn
with st.form("edit_scenario"):
    t_dem, t_reac, t_price, t_src, t_rec, t_prod = st.tabs(
        ["Demand", "Bioreactor fleet", "Prices", "Starting material", "Recipe options",
         "Products & horizon"])
    with t_dem:
        show_problems("demand")
        c1, c2 = st.columns(2)
        with c1:
            scale = ui.number_for(field_spec(Demand, "scale"),
                                  num_at("demand.scale", scn.demand.scale), f"demand_scale_{v}",
                                  prefix="demand")
        gran = c2.selectbox("Granularity", ["day", "week"],
                            index=1 if tables.raw_value(raw, "demand.granularity") == "week" else 0,
                            key=f"demand_granularity_{v}",
                            help="week: each record is spread evenly over 7 days from its date.")
        demand = st.data_editor(
            tables.demand_frame(raw), key=f"ed_demand_{v}", num_rows="dynamic", width="stretch",
            height=320, hide_index=True,
            column_config={
                "date": st.column_config.DateColumn("date", required=True, format="YYYY-MM-DD"),
                "product": st.column_config.SelectboxColumn("product", options=list(scn.products),
                                                            required=True),
                "units": num("units", min_value=0.0, format="%.1f", required=True),
            })
    with t_reac:
        show_problems("reactors")
        reactors = st.data_editor(
            tables.reactors_frame(raw), key=f"ed_reactors_{v}", num_rows="dynamic", width="stretch",
            column_config=ui.columns_for(tables.REACTOR_FIELDS))
    with t_price:
        show_problems("media", "labour")
        c1, c2, c3 = st.columns(3)
        media = {f.name: f for f in tables.MEDIA_FIELDS}
        labour_fields = {f.name: f for f in tables.LABOUR_FIELDS}
        with c1:
            basal = ui.number_for(media["basal_price_usd_per_L"],
                                  num_at("media.basal_price_usd_per_L", scn.media.basal_price_usd_per_L),
                                  f"basal_{v}", prefix="medium:")
        with c2:
            prep = ui.number_for(media["prep_capacity_L_per_day"],
                                 num_at("media.prep_capacity_L_per_day", 0.0), f"prep_{v}",
                                 prefix="medium:", note="(0 = unlimited)")
        with c3:
            labour = ui.number_for(labour_fields["cost_usd_per_operation"],
                                   num_at("labour.cost_usd_per_operation",
                                          scn.labour.cost_usd_per_operation),
                                   f"labour_{v}", prefix="labour")
        cytokines = st.data_editor(
            tables.cytokines_frame(raw), key=f"ed_cytokines_{v}", num_rows="dynamic", hide_index=True,
            column_config={
                "unit": st.column_config.SelectboxColumn("unit", options=["mg", "kU"], required=True),
                "price_usd": num("price [$ per unit]", min_value=0.0, format="%.2f"),
            })
    with t_src:
        show_problems("sources")
        sources = st.data_editor(
            tables.sources_frame(raw), key=f"ed_sources_{v}", num_rows="dynamic", width="stretch",
            column_config=ui.columns_for(tables.SOURCE_FIELDS))
    with t_rec:
        show_problems("recipes")
        st.caption("Candidate settings per yield card, as `<phase>.<factor>`, `<phase>.days` or "
                   "`<phase>.density_setpoint` with comma-separated values; the optimiser picks "
                   "among the full factorial. An empty setting keeps only the default protocol.")
        recipe_options = st.data_editor(
            tables.recipe_options_frame(raw), key=f"ed_recipes_{v}", num_rows="dynamic",
            width="stretch", hide_index=True,
            column_config={"values": st.column_config.TextColumn("values", help="comma-separated")})
    with t_prod:
        show_problems("products", "horizon", "solver")
        c1, c2 = st.columns(2)
        start = c1.date_input("Horizon start", key=f"h_start_{v}",
                              value=tables.as_date(tables.raw_value(raw, "horizon.start_date"),
                                               scn.horizon.start_date))
        with c2:
            days = ui.number_for(field_spec(Horizon, "days"),
                                 int(num_at("horizon.days", scn.horizon.days)), f"h_days_{v}",
                                 prefix="horizon")
        products = st.data_editor(
            tables.products_frame(raw), key=f"ed_products_{v}", width="stretch",
            column_config=ui.columns_for(tables.PRODUCT_FIELDS))
    b1, b2 = st.columns([1, 3], vertical_alignment="center")
    apply = b1.form_submit_button("Validate & apply", type="primary", icon=":material/check_circle:",
                                  key="apply_edits")
    b2.caption("Edits in all tabs take effect together when applied.")

if apply:
    edited = editing.apply_tables(
        raw, demand=demand, reactors=reactors, products=products, sources=sources,
        cytokines=cytokines, recipe_options=recipe_options,
        scalars={"demand.scale": scale, "demand.granularity": gran,
                 "media.basal_price_usd_per_L": basal,
                 "media.prep_capacity_L_per_day": prep or None,
                 "labour.cost_usd_per_operation": labour,
                 "horizon.start_date": (start.isoformat() if isinstance(start, dt.date) else start),
                 "horizon.days": int(days)},
    )
    try:
        new = editing.validate_raw(edited)
    except BioplanError as err:
        ss.scenario_problems = field_problems(err)
        ss.scenario_draft = edited  # kept (also across pages) until fixed or discarded
        ss.edit_count += 1  # editors restart from the draft, which already holds the edits
    else:
        ss.edit_count += 1
        if new.model_dump_json() == scn.model_dump_json():
            ss.scenario_draft = None
            ss.scenario_problems = []
            ss.flash = "No changes to apply."
        else:
            label = ss.scenario_label if ss.scenario_label.endswith("(edited)") else \
                f"{ss.scenario_label} (edited)"
            ui.set_scenario(new, label)
            ss.flash = "Scenario updated. Run the optimiser on the **Plan** page."
    st.rerun()

if problems and st.button("Discard edits (back to the last valid scenario)", key="discard_edits"):
    ss.scenario_problems = []
    ss.scenario_draft = None
    ss.edit_count += 1
    st.rerun()
