"""Schedule: Gantt chart of reactor units over days (bars per batch phase, turnaround in grey)."""

from __future__ import annotations

from typing import Literal

import streamlit as st
import ui

from bioplan import charts

plan = ui.result_page("Schedule")

if plan.batches.empty:
    st.warning("This plan schedules no batches." if plan.has_solution else
               ui.no_solution_text(plan))
else:
    color_by: Literal["product", "recipe"] = st.segmented_control(
        "Colour bars by", ["product", "recipe"], default="product", key="gantt_color_by") or "product"
    st.plotly_chart(charts.gantt_figure(plan, color_by=color_by), key="schedule_gantt", width="stretch")
    st.caption("Bars are batch phases on one reactor unit (labelled with the phase); grey hatched "
               "bars are turnaround (cleaning and set-up). Hover a bar for the batch details.")
    with st.expander(f"Batches table ({plan.batches.index.nunique()} batch phases)"):
        ui.table(plan.batches)
    if not plan.capacity.empty:
        st.subheader("Fleet")
        ui.table(plan.capacity)
ui.downloads(plan, "schedule")
