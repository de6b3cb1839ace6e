"""Compare: two or more plans (from this session or the run store) side by side — KPIs, deltas,
schedules."""

from __future__ import annotations

import streamlit as st
import ui

from bioplan import charts
from bioplan.app import compare, stored
from bioplan.errors import BioplanError

ss = st.session_state
st.title("Compare")

session_plans: dict = ss.plans
left, right = st.columns(2)
with left:
    picked = st.multiselect(
        "Plans from this session", list(session_plans), key="cmp_session",
        default=list(session_plans)[-2:],
        help="Every plan solved in this browser session, newest last.")
with right:
    use_store = st.toggle("Include runs from the run store", key="cmp_use_store",
                          help="Runs recorded by `bioplan run` (SQLite file or PostgreSQL).")
    stored_ids: list[str] = []
    url = ""
    if use_store:
        url = st.text_input("Store URL", value="", key="cmp_store_url",
                            placeholder="default: $BIOPLAN_STORE_URL or sqlite:///runs/bioplan-runs.sqlite")
        try:
            runs = dict(stored.list_stored_runs(url or None))
        except BioplanError as err:
            runs = {}
            st.caption(f"Run store unavailable: {err.describe()}")
        except Exception as err:  # an unreachable database: the page still works without it
            runs = {}
            st.caption(f"Run store unavailable: {type(err).__name__}: {err}")
        stored_ids = st.multiselect("Stored runs", list(runs), format_func=lambda r: runs[r],
                                    key="cmp_runs")

chosen: dict = {name: session_plans[name] for name in picked}
schedules: dict = dict(chosen)  # session plans all have a schedule; stored runs may not
for run_id in stored_ids:
    try:
        run = stored.load_stored_run(url or None, run_id)
    except BioplanError as err:
        st.error(err.describe())
        continue
    chosen[run.label] = run.kpis
    if run.plan is not None:
        schedules[run.label] = run.plan

if len(chosen) < 2:
    st.info("Pick two or more plans to compare. Solve variants on the **Plan** page (edit the "
            "scenario between runs) or pick stored runs from `bioplan run`.")
    if len(session_plans) < 2:
        st.page_link("views/plan.py", label="Go to Plan", icon=":material/play_arrow:")
    st.stop()

table = compare.compare_kpis(chosen)
st.subheader("KPIs")
status = compare.compare_status(chosen)
st.markdown(" · ".join(f"**{name}**: {state}" for name, state in status.items()))
st.caption("Δ columns: each plan minus the first one.")
shown = table.rename(index=lambda k: f"{k} [{compare.kpi_unit(k)}]" if compare.kpi_unit(k) else k)
st.dataframe(shown, width="stretch", key="cmp_kpis",
             column_config={c: st.column_config.NumberColumn(format="%.4g") for c in table.columns})
st.download_button("Comparison (CSV)", table.to_csv().encode(), file_name="bioplan-compare.csv",
                   mime="text/csv", key="dl_compare", icon=":material/download:")

st.subheader("Schedules")
st.caption("Red: RBC batches, amber: platelet batches, grey hatched: turnaround. Same date axis.")
figs = charts.compare_gantt_figures(schedules)
cols = st.columns(2) if len(figs) == 2 else [st.container() for _ in figs]
for i, (col, fig) in enumerate(zip(cols, figs.values(), strict=True)):
    with col:
        st.plotly_chart(fig, key=f"cmp_gantt_{i}", width="stretch")

for name in picked:
    with st.expander(f"Downloads: {name}"):
        ui.downloads(session_plans[name], f"cmp_{picked.index(name)}", label=name)
