"""Compare: two or more plans (from this session or the run store) side by side — KPIs as small
multiples, the table with deltas, what differs in the inputs, the schedules."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
import ui

from bioplan import charts
from bioplan.app import compare, figures, stored
from bioplan.errors import BioplanError

ss = st.session_state
st.title("Compare")

session_plans: dict = ss.plans
left, right = st.columns(2)
with left:
    pick = [p for p in ss.get("compare_pick") or [] if p in session_plans] or list(session_plans)[-2:]
    picked = st.multiselect(
        "Plans from this session", list(session_plans), key="cmp_session", default=pick,
        help="Every plan solved in this browser session, newest last. **Run & compare** on the "
             "Plan page solves the file's named what-ifs and picks them here.")
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
            if not runs:
                st.caption("No finished runs in the store yet: `bioplan run` records them there.")
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
    st.info("Pick two or more plans to compare. Solve the file's named what-ifs with **Run & "
            "compare** on the **Plan** page, solve variants after editing the scenario, or pick "
            "stored runs from `bioplan run`.")
    if len(session_plans) < 2:
        st.page_link("views/plan.py", label="Go to Plan", icon=":material/play_arrow:")
    st.stop()

table = compare.compare_kpis(chosen)
status = compare.compare_status(chosen)
st.markdown(" · ".join(f"**{name}**: {state}" for name, state in status.items()))
st.plotly_chart(figures.compare_kpi_figure(table), key="cmp_kpi_chart", width="stretch")

st.subheader("KPIs")
st.caption("Δ columns: each plan minus the first one.")
st.dataframe(compare.display_table(table), width="stretch", key="cmp_kpis")
st.download_button("Comparison (CSV)", table.to_csv().encode(), file_name="bioplan-compare.csv",
                   mime="text/csv", key="dl_compare", icon=":material/download:",
                   on_click="ignore")

st.subheader("Inputs")
scenarios = {name: json.loads(p.scenario.model_dump_json()) for name, p in schedules.items()
             if getattr(p, "scenario", None) is not None}
names = list(scenarios)
if len(names) >= 2:
    first = names[0]
    rows = [{"plan": name, "field": path, f"in {first}": old, "here": new}
            for name in names[1:]
            for path, old, new in figures.input_changes(scenarios[first], scenarios[name])]
    if rows:
        st.caption(f"Scenario fields that differ from **{first}**'s.")
        diff = pd.DataFrame(rows).astype(str).set_index(["plan", "field"])
        st.dataframe(diff, width="stretch", key="cmp_inputs")
    else:
        st.caption(f"All plans were solved from the same inputs as **{first}**.")

st.subheader("Schedules")
st.caption("Red: RBC batches, amber: platelet batches, grey hatched: turnaround, red hatched: "
           "maintenance. Same date axis.")
figs = charts.compare_gantt_figures(schedules)
for start in range(0, len(figs), 2):
    cols = st.columns(2)
    for i, (col, fig) in enumerate(zip(cols, list(figs.values())[start:start + 2], strict=False)):
        with col:
            st.plotly_chart(fig, key=f"cmp_gantt_{start + i}", width="stretch")

for name in picked:
    with st.expander(f"Downloads: {name}"):
        ui.downloads(session_plans[name], f"cmp_{picked.index(name)}", label=name)
