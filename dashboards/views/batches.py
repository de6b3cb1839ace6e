"""Batches: one batch's traveller — phases, vessels, dates, volumes, medium and cytokines, seed
source and lot, harvest and release, where its units went — picked from a list or the Gantt."""

from __future__ import annotations

from typing import Any

import streamlit as st
import ui

from bioplan import charts
from bioplan.results import traveller
from bioplan.results.traveller_html import traveller_html

plan = ui.result_page("Batches")
ids = traveller.batch_ids(plan) if plan.has_solution else []
if not ids:
    st.warning("This plan schedules no batches." if plan.has_solution else ui.no_solution_text(plan))
    st.stop()


def _picked(event: Any) -> str | None:
    """The batch id of the Gantt bar clicked (its customdata starts with the batch id)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        custom = point.get("customdata") or []
        if custom and str(custom[0]) in ids:
            return str(custom[0])
    return None


def _highlight(fig: Any, batch_id: str) -> Any:
    """Dim every bar but the batch's own (phases and turnaround)."""
    for trace in fig.data:
        custom = trace.customdata if trace.customdata is not None else []
        trace.marker.opacity = [1.0 if str(c[0]) == batch_id else 0.25 for c in custom]
    return fig


clicked = _picked(st.session_state.get("batches_gantt"))
if clicked is not None and clicked != st.session_state.get("batch_pick"):
    st.session_state["batch_pick"] = clicked
if st.session_state.get("batch_pick") not in ids:
    st.session_state["batch_pick"] = ids[0]
batch_id = st.selectbox("Batch", ids, key="batch_pick",
                        help="Or click one of its bars in the Gantt below.")

info = traveller.header(plan, batch_id)
cols = st.columns(4)
cols[0].metric("Product · recipe", f"{info['product']}", info["recipe"], delta_color="off", border=True)
cols[1].metric("Seeded", info["seed_date"].isoformat(), f"day {info['seed_day']}", delta_color="off", border=True)
cols[2].metric("Harvest → release", f"{info['harvest_date']} → {info['release_date']}",
               f"usable until {info['last_usable_date']}", delta_color="off", border=True)
cols[3].metric("Units packaged", f"{info['units_packaged']:g}",
               f"waste {info['waste_units']:.2f} units of cells", delta_color="off", border=True)
st.caption(f"Seed source **{info['seed_source']}**, lot `{info['lot']}` "
           f"({info['lots_used']:.3g} lots, {info['seed_cells']:.3g} seed cells) · "
           f"{info['transfers']} transfer(s) between vessels")

st.subheader("Phases")
ui.table(traveller.phases(plan, batch_id), key="batch_phases")
st.subheader("Where its units went")
ui.table(traveller.destinations(plan, batch_id), key="batch_destinations", hide_index=True)

with st.container(horizontal=True):
    st.download_button("Traveller (CSV)", traveller.traveller_table(plan, batch_id).to_csv(index=False),
                       file_name=f"traveller-{batch_id}.csv", mime="text/csv", key="dl_traveller_csv",
                       icon=":material/download:", on_click="ignore")
    st.download_button("Printable traveller (HTML)", traveller_html(plan, batch_id),
                       file_name=f"traveller-{batch_id}.html", mime="text/html",
                       key="dl_traveller_html", icon=":material/print:", on_click="ignore")

st.subheader("Schedule")
st.plotly_chart(_highlight(charts.gantt_figure(plan), batch_id), key="batches_gantt",
                width="stretch", on_select="rerun", selection_mode="points")
st.caption("Click a bar to follow its batch; the selected batch's bars stay bright.")
